# Included by _core.pyx (one extension module; see its docstring).

# --- failed calls -----------------------------------------------------------


cdef class ErrorTally:
    """The one tally of failed calls, for the Python handlers and the core alike.

    ``counts`` maps (pid, tgid, syscall, target, kind, errno) to how many
    calls failed so (:meth:`iomonitor.strace.events.EventBuilder.error_rows`);
    ``failed`` is their sum. The core adds in C (a process-heavy log fails
    tens of thousands of opens while the loader searches its paths), the
    Python side through :meth:`count`.
    """

    cdef public dict counts
    cdef public long long failed
    # One string object per distinct name: a process-heavy log fails the same
    # few dozen loader paths in every process, and each key would otherwise
    # keep its own copy of the path (about 25 MB on the 319 MB benchmark log).
    cdef dict _names

    def __init__(self):
        self.counts = {}
        self.failed = 0
        self._names = {}

    cdef object _name(self, object text):
        if text is None:
            return None
        cdef PyObject* found = PyDict_GetItem(self._names, text)
        if found != NULL:
            return <object>found
        self._names[text] = text
        return text

    cdef int add(self, object proc, str syscall, str errno, object target,
                 object kind) except -1:
        cdef tuple key = (proc.pid, proc.tgid, self._name(syscall), self._name(target),
                          self._name(kind), self._name(errno))
        cdef PyObject* found = PyDict_GetItem(self.counts, key)
        self.counts[key] = 1 if found == NULL else <object>found + 1
        self.failed += 1
        return 0

    def count(self, proc, syscall, errno, target, kind):
        """Count one failed ``syscall`` of ``proc`` with ``errno`` against ``target`` (of ``kind``)."""
        self.add(proc, syscall, errno, target, kind)

    def records(self):
        """The tally as the Parquet metadata stores it: column name -> values.

        In :data:`~iomonitor.schema.ERROR_SCHEMA`'s order, missing values as
        None. Made in one pass over the keys: a process-heavy log has
        hundreds of thousands of them, and seven Python passes took 0.3 s of
        the 319 MB benchmark log's conversion.
        """
        cdef list pid = [], tgid = [], syscall = [], target = [], kind = [], errno = []
        cdef list count = []
        cdef tuple key
        for k, n in self.counts.items():
            key = <tuple>k
            pid.append(key[0])
            tgid.append(key[1])
            syscall.append(key[2])
            target.append(key[3])
            kind.append(key[4])
            errno.append(key[5])
            count.append(n)
        names = [c.name for c in schema.ERROR_SCHEMA]
        return dict(zip(names, (pid, tgid, syscall, target, kind, errno, count), strict=True))

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

    def __init__(self):
        self.counts = {}
        self.failed = 0

    cdef int add(self, object proc, str syscall, str errno, object target,
                 object kind) except -1:
        cdef tuple key = (proc.pid, proc.tgid, syscall, target, kind, errno)
        cdef PyObject* found = PyDict_GetItem(self.counts, key)
        self.counts[key] = 1 if found == NULL else <object>found + 1
        self.failed += 1
        return 0

    def count(self, proc, syscall, errno, target, kind):
        """Count one failed ``syscall`` of ``proc`` with ``errno`` against ``target`` (of ``kind``)."""
        self.add(proc, syscall, errno, target, kind)

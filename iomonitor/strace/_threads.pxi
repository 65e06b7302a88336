# Included by _core.pyx (one extension module; see its docstring).

cdef enum:
    H_EMPTY = -1  # Held.pid of a slot never used
    H_GONE = -2   # of a slot whose half ended (its line buffer kept for reuse)


# The start of a call that the core holds until its end (see _joins.pxi).
cdef struct Held:
    int64_t pid
    int kind              # Core.kinds of its name
    int32_t code          # its syscall code in Core.columns
    double t              # its time in epoch seconds (NaN: no stamp)
    uint64_t seq          # the order halves came in (release_all keeps it)
    char* line            # the line as printed, for the Python joiner if it must take it
    Py_ssize_t line_len
    Py_ssize_t line_cap
    Py_ssize_t name_at    # the call's name and argument text so far, inside ``line``
    Py_ssize_t name_len
    Py_ssize_t args_at
    Py_ssize_t args_len


cdef enum:
    FD_CACHE = 64  # fds below this have a slot in Thread.fdc
    THREAD_SLOTS = 256


cdef class Thread:
    """What the core reads of one traced thread, cached between two Python-side lines.

    Invariant: only the Python side changes a process (its fd table, name,
    thread group), and the core drops every Thread before the Python side
    runs (:meth:`Core.sync`), so a Thread never outlives what it copied.
    ``end`` is the thread's last time seen, written to ``proc.end`` by ``sync``.
    The one exception: a process first seen on a line without a timestamp has
    no start yet, and the first stamped line the core reads for it gives it one
    (``nostart``), as the Python side's ``EventBuilder._proc`` does.

    ``fdc`` holds the open file of each low fd as the table held it at fd
    generation ``fdgen`` (:attr:`Core.fdgen`, which every change the core
    makes to any fd table moves on): a byte mover's fd costs an array read,
    not a dict lookup with a Python int.
    """

    cdef object proc
    cdef object fds        # proc.fdt.fds
    cdef int32_t pid, tgid, comm
    cdef double end
    cdef bint dirty
    cdef bint nostart
    cdef uint64_t fdgen
    cdef PyObject* fdc[64]  # strong references (OpenFile) or NULL

    def __cinit__(self):
        cdef int i
        for i in range(FD_CACHE):
            self.fdc[i] = NULL

    def __dealloc__(self):
        self.forget_fds()

    cdef inline void forget_fds(self):
        cdef int i
        for i in range(FD_CACHE):
            Py_XDECREF(self.fdc[i])
            self.fdc[i] = NULL


cdef enum:
    NAME_SLOTS = 512
    NAME_MAX = 31

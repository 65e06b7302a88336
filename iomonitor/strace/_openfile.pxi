# Included by _core.pyx (one extension module; see its docstring).

# --- the open file ----------------------------------------------------------


cdef class OpenFile:
    """What one open file description refers to (a kernel ``struct file``).

    ``dup``, ``fork`` and SCM_RIGHTS give new fds that point at the same
    object, so a ``connect`` seen through one fd names all of them.

    Attributes
    ----------
    name : str
        The value of the ``file`` column: path, std label, peer IP, socket path
        or a stable label.
    kind : str
        One of :data:`iomonitor.schema.KINDS`.
    port : int or None
        Peer port of a TCP/UDP socket.
    local : str or None
        Local ``address:port`` of a socket.
    std : bool
        An inherited std stream that nobody in the trace reopened.
    known : bool
        False when the fd's origin was never seen.
    readable_end : bool or None
        For pipes: True for the read end (``vmsplice`` direction).
    pidfd_pid : int or None
        For pidfds: the process it refers to (``pidfd_getfd``).
    path : str or None
        The path of a directory or file, for ``fchdir`` and ``openat`` dirfds.
    vouched : bool
        For std streams: the log shows every reopen of this fd since the
        process started, so the first decoration seen on it is the stream.
    seen_as : str or None
        For std streams: the decoration's name of the stream, once seen.
    """

    # Invariant the core relies on: ``seen`` is the raw decoration (bytes)
    # last found to agree with the fields below, and ``codes_of`` the Columns
    # whose dictionary codes ``c_name``/``c_kind``/``c_local`` are; every
    # setter that changes a field clears both, so a stale agreement or code
    # is never used. (A setter that stores an equal value changes nothing.)
    cdef object _name, _kind, _port, _local, _path, _seen_as
    cdef bint _std, _known, _vouched
    cdef public object readable_end, pidfd_pid
    cdef object seen
    cdef object codes_of
    cdef int32_t c_name, c_kind, c_local

    def __init__(self, name, kind, port=None, local=None, std=False, known=True,
                 readable_end=None, pidfd_pid=None, path=None, vouched=False, seen_as=None):
        self._name = name
        self._kind = kind
        self._port = port
        self._local = local
        self._std = std
        self._known = known
        self.readable_end = readable_end
        self.pidfd_pid = pidfd_pid
        self._path = path
        self._vouched = vouched
        self._seen_as = seen_as
        self.seen = None
        self.codes_of = None

    cdef inline void _changed(self):
        self.seen = None
        self.codes_of = None

    @property
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        if value is not self._name and value != self._name:
            self._name = value
            self._changed()

    @property
    def kind(self):
        return self._kind

    @kind.setter
    def kind(self, value):
        if value is not self._kind and value != self._kind:
            self._kind = value
            self._changed()

    @property
    def port(self):
        return self._port

    @port.setter
    def port(self, value):
        if value is not self._port and value != self._port:
            self._port = value
            self._changed()

    @property
    def local(self):
        return self._local

    @local.setter
    def local(self, value):
        if value is not self._local and value != self._local:
            self._local = value
            self._changed()

    @property
    def path(self):
        return self._path

    @path.setter
    def path(self, value):
        if value is not self._path and value != self._path:
            self._path = value
            self._changed()

    @property
    def seen_as(self):
        return self._seen_as

    @seen_as.setter
    def seen_as(self, value):
        if value is not self._seen_as and value != self._seen_as:
            self._seen_as = value
            self._changed()

    @property
    def vouched(self):
        return self._vouched

    @vouched.setter
    def vouched(self, value):
        if value != self._vouched:
            self._vouched = value
            self._changed()

    @property
    def std(self):
        return self._std

    @std.setter
    def std(self, value):
        if value != self._std:
            self._std = value
            self._changed()

    @property
    def known(self):
        return self._known

    @known.setter
    def known(self, value):
        if value != self._known:
            self._known = value
            self._changed()

    def agreed(self, deco):
        """Note that the raw decoration ``deco`` (str) agrees with this file now."""
        self.seen = deco.encode("utf-8", "surrogateescape")

    def __repr__(self):
        return (
            f"OpenFile(name={self._name!r}, kind={self._kind!r}, port={self._port!r}, "
            f"local={self._local!r}, std={self._std!r}, known={self._known!r}, "
            f"readable_end={self.readable_end!r}, pidfd_pid={self.pidfd_pid!r}, "
            f"path={self._path!r}, vouched={self._vouched!r}, seen_as={self._seen_as!r})"
        )

    def __eq__(self, other):
        if not isinstance(other, OpenFile):
            return NotImplemented
        o = <OpenFile>other
        return (
            self._name == o._name and self._kind == o._kind and self._port == o._port
            and self._local == o._local and self._std == o._std and self._known == o._known
            and self.readable_end == o.readable_end and self.pidfd_pid == o.pidfd_pid
            and self._path == o._path and self._vouched == o._vouched
            and self._seen_as == o._seen_as
        )

    __hash__ = None

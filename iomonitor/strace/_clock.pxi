# Included by _core.pyx (one extension module; see its docstring).

# --- the clock --------------------------------------------------------------


cdef class Clock:
    """Turn strace timestamps of any style into seconds since the epoch.

    Parameters
    ----------
    date : datetime.date, optional
        The local date of the first line, for time-of-day stamps.
    mtime : float, optional
        The log's modification time; used for the date when ``date`` is None.
    """

    cdef public object date
    cdef public object mtime
    cdef bint has_midnight, has_last_tod, has_last
    cdef double midnight, last_tod, last

    def __init__(self, date=None, mtime=None):
        self.date = date
        self.mtime = mtime
        self.has_midnight = self.has_last_tod = self.has_last = False

    cdef double peek(self, double value, int style) except? -1.0:
        """The epoch seconds of a stamp, without taking it (see :meth:`take`)."""
        cdef double midnight
        if style == S_EPOCH:
            return value
        if style == S_TOD:
            if not self.has_midnight:
                if self.date is None:
                    self.date = first_date(value, self.mtime)
                self.midnight = local_midnight(self.date)
                self.has_midnight = True
                return self.midnight + value
            midnight = self.midnight
            # A time of day far below the previous one means the log crossed
            # midnight; lines out of completion order differ by far less.
            if self.has_last_tod and value < self.last_tod - DAY / 2:
                midnight += DAY
            return midnight + value
        if not self.has_last:
            self.last = local_midnight(self.date or _dt.date.today())
            self.has_last = True
        return self.last + value

    cdef void take(self, double value, int style, double result):
        """Advance the state past a stamp whose time :meth:`peek` gave as ``result``."""
        if style == S_TOD:
            if self.has_last_tod and value < self.last_tod - DAY / 2:
                self.midnight += DAY
            self.last_tod = value
            self.has_last_tod = True
        self.last = result
        self.has_last = True

    def __call__(self, value, style):
        cdef int s = _STYLES[style]
        cdef double v = value
        cdef double t = self.peek(v, s)
        self.take(v, s, t)
        return t

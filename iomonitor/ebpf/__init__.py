"""The eBPF capture backend: the same events as strace, without ptrace.

``iomonitor.bpf.c`` with ``fdname.bpf.h`` (kernel side) and the loader
(``loader.c``, ``output.c``, ``names.c``, ``lines.c``; user side) are compiled
at install by :mod:`iomonitor.ebpf.build`; the loader prints strace's own
``-f -ttt -T -yy`` line format, which :mod:`iomonitor.ebpf.runner` hands to
the same converter as strace's log.
"""

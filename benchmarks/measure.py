"""Run one command and print its wall and CPU time and peak RSS as JSON (used by run.py).

A fresh process per measurement, so that ``RUSAGE_CHILDREN``'s maximum RSS
belongs to this one command.

    python benchmarks/measure.py CMD [ARGS...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    t = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {
        "wall_s": wall,
        # user + sys: what the command itself took, whatever else the machine runs.
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "status": proc.returncode,
    }
    if proc.returncode:
        out["stderr"] = proc.stderr.decode(errors="replace")[-500:]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

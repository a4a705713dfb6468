#!/usr/bin/env python3
"""Run a command; print its wall time, CPU time (user+sys of every child it waited for)
and the peak RSS of its largest process, as one JSON line on stderr's last line."""
import json, resource, subprocess, sys, time

start = time.perf_counter()
code = subprocess.call(sys.argv[1:])
wall = time.perf_counter() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mb": ru.ru_maxrss / 1024}), file=sys.stderr)
sys.exit(code)

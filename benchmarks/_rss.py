"""Run a command and print, on stderr's last lines, the peak RSS (KiB) of the largest process in
its tree and the CPU seconds (user, system) and minor page faults of the whole tree.

    python benchmarks/_rss.py CMD [ARGS...]

System time and page faults are where a memory setting that makes every large block fresh
pages shows (issue 8: 540,000 faults and 1.6 s of system time in a 2.5 s build).
"""

import resource
import subprocess
import sys

if __name__ == "__main__":
    code = subprocess.call(sys.argv[1:])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write(f"\nCPU={usage.ru_utime:.3f},{usage.ru_stime:.3f},{usage.ru_minflt}\nPEAK_RSS_KIB={usage.ru_maxrss}\n")
    sys.exit(code)

"""Run a command and print the peak RSS (KiB) of the largest process in its tree, on stderr's last line.

    python benchmarks/_rss.py CMD [ARGS...]
"""

import resource
import subprocess
import sys

if __name__ == "__main__":
    code = subprocess.call(sys.argv[1:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\nPEAK_RSS_KIB={peak}\n")
    sys.exit(code)

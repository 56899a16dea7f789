"""A/B: whole `build` runs of a base commit against the working tree, interleaved, in one run.

    .venv/bin/python benchmarks/ab_build.py BASE [--preset fast] [--jobs 2] [--runs 8]

BASE is any git revision (`HEAD`, `HEAD~1`, a sha). Its package is exported with `git archive`
into a temporary folder; the candidate is this checkout's package. Both are byte-compiled
first, and every run starts from a folder that holds neither: three traps that each moved an
A/B here by 2-5 % on their own, more than most of the changes being measured.
- With PYTHONDONTWRITEBYTECODE=1 (set on this machine) a copy without `__pycache__` compiles
  every module in every process, workers included: an identical copy ran 1.02-1.03x slower.
- `python -m` puts the current folder first on `sys.path`: run from a checkout, both sides
  would import that checkout's package.
- The machine drifts by 10-20 % within minutes, so the sides alternate (ABBA...) and the
  ratio is of the two sides' medians in the same run.

The project is throughput.py's: the `large` corpus, each source a language's icon and
thumbnail (20 outputs), cold (`--no-cache`, no previous OUT).
"""

from __future__ import annotations

import argparse
import compileall
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import REPO, child_usage, median, run_timed, write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402
from benchmarks.throughput import make_project  # noqa: E402


def export(rev: str, dest: Path) -> str:
    """The package (and the presets beside it) as of `rev`, under `dest`; the full sha."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.strip()
    data = subprocess.run(["git", "archive", "--format=tar", sha, "asset_pipeline", "presets"], cwd=REPO, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return sha


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="git revision to compare the working tree against")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=8, help="runs per side")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    try:
        base_root = work / "base"
        sha = export(args.base, base_root)
        roots = {"base": base_root, "candidate": REPO}
        for root in roots.values():
            compileall.compile_dir(str(root / "asset_pipeline"), quiet=1)
        proj = make_project(sorted(ensure_corpus("large")), work / "proj")
        out = work / "out"
        times: dict[str, list[float]] = {name: [] for name in roots}
        cpu: dict[str, list[float]] = {name: [] for name in roots}  # user + sys of the whole process tree
        order = ["base", "candidate"]
        for i in range(args.runs):
            for name in order if i % 2 == 0 else order[::-1]:  # ABBA: drift falls on both sides alike
                shutil.rmtree(out, ignore_errors=True)
                cmd = [sys.executable, "-m", "asset_pipeline", "build", str(proj), "-o", str(out), "--no-cache",
                       "--jobs", str(args.jobs), "--preset", args.preset]
                wall, _peak, proc = run_timed(cmd, env={"PYTHONPATH": str(roots[name])}, cwd=work)
                times[name].append(wall)
                use = child_usage(proc)
                cpu[name].append(use["user_s"] + use["sys_s"])
        med = {name: median(v) for name, v in times.items()}
        ratio = med["candidate"] / med["base"]
        med_cpu = {name: median(v) for name, v in cpu.items()}
        cpu_ratio = med_cpu["candidate"] / med_cpu["base"]
        data = {"base": sha, "preset": args.preset, "jobs": args.jobs, "runs": times, "cpu_s": cpu,
                "median_s": {k: round(v, 3) for k, v in med.items()}, "ratio": round(ratio, 3),
                "median_cpu_s": {k: round(v, 3) for k, v in med_cpu.items()}, "cpu_ratio": round(cpu_ratio, 3)}
        path = write_result("ab_build", data)
        for name, v in times.items():
            print(f"{name:10s} median {med[name]:6.3f} s   " + " ".join(f"{t:.3f}" for t in v)
                  + f"   cpu {med_cpu[name]:6.3f} s")
        print(f"candidate / base ({sha[:7]}), {args.preset}, --jobs {args.jobs}: {ratio:.3f} (CPU {cpu_ratio:.3f})")
        print(f"written: {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

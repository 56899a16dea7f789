"""Writing a bundle: file by file, each fsynced, against `bundle.write_synced`'s threads, in one run.

    .venv/bin/python -m benchmarks.bench_bundle_write [--files 160] [--runs 7] [--dir DIR]

The files are `--files` random 100 KB blobs (160: a 40-language bundle of 3 thumbnails and an
icon each) in folders of four, written into DIR (default: a temporary folder, which is on the
disk that /tmp is on: pass the disk OUT lives on to measure that one). Each run writes and
fsyncs them all, one after another (what write_bundle did before) or through `write_synced`;
the sides alternate, and the median of each and their ratio are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from asset_pipeline import bundle  # noqa: E402
from benchmarks._util import median, write_result  # noqa: E402


def _one_by_one(root: Path, blobs: dict[str, bytes]) -> None:
    for rel in sorted(blobs):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("wb") as fh:
            fh.write(blobs[rel])
            fh.flush()
            os.fsync(fh.fileno())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=160)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    blobs = {f"l{i // 4}/{i % 4}.jpg": os.urandom(100_000) for i in range(args.files)}
    base = Path(tempfile.mkdtemp(prefix="bench-bw-", dir=args.dir))
    times: dict[str, list[float]] = {"one by one": [], "threads": []}
    try:
        for i in range(args.runs):
            for name in (("one by one", "threads") if i % 2 == 0 else ("threads", "one by one")):
                root = base / "b"
                shutil.rmtree(root, ignore_errors=True)
                t = time.perf_counter()
                (_one_by_one if name == "one by one" else bundle.write_synced)(root, blobs)
                times[name].append(time.perf_counter() - t)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    med = {k: median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:12s} median {v * 1000:6.1f} ms over {args.runs} runs ({args.files} files)")
    print(f"threads / one by one: {med['threads'] / med['one by one']:.3f}")
    write_result("bench_bundle_write", {"files": args.files, "runs": times, "median_s": med})


if __name__ == "__main__":
    main()

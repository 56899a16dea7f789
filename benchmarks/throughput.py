"""Throughput: our `build` against naive Pillow and pyvips making the same outputs, in one run.

    .venv/bin/pip install -e ".[bench]"        # pyvips + pyvips-binary
    .venv/bin/python benchmarks/throughput.py [--runs 5] [--jobs 1 2]

The corpus is benchmarks/corpus.py's `large` kind (10 sources, 3000-4096 px, photo and flat,
PNG and JPEG, alpha, 16-bit, palette). It is laid out as a project where every source is a
language's icon (1024) and its single thumbnail (360): 20 outputs. Every variant is a whole
process (start-up included), cold (no cache), run in turn, `--runs` times; the median wall
time, the ratio to pyvips, bytes written, the peak RSS of the largest process, and the tree's
CPU seconds (user, system) and minor page faults (medians) are reported.
The package is byte-compiled first, as an installed copy is (see _util.compile_package).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import child_usage, cli, compile_package, median, run_timed, write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402

LANGS = ["en", "ja", "ko", "de", "fr", "es", "it", "th", "vi", "id", "tr", "pl"]


def make_project(sources: list[Path], root: Path) -> Path:
    """Source i becomes language i's icon and thumbnail (en's are the first source)."""
    (root / "icons").mkdir(parents=True)
    for i, src in enumerate(sources):
        lang = LANGS[i]
        tdir = root / "thumbnails" / lang
        tdir.mkdir(parents=True)
        shutil.copy(src, tdir / src.name)
        if lang == "en":
            shutil.copy(src, root / f"icon{src.suffix}")
        else:
            shutil.copy(src, root / "icons" / f"{lang}{src.suffix}")
    return root


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.suffix in (".png", ".jpg"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)  # 3 left the medians at the mercy of one slow spell (12-03)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--presets", nargs="+", default=["fast", "balanced"])
    args = ap.parse_args()
    sources = sorted(ensure_corpus("large"))
    compile_package()  # as installed: no module compiled from source in the timed runs
    work = Path(tempfile.mkdtemp(prefix="bench-tp-"))
    proj = make_project(sources, work / "proj")
    peers = str(Path(__file__).with_name("peers.py"))
    variants: dict[str, list[str]] = {}
    for jobs in args.jobs:
        variants[f"pyvips_j{jobs}"] = [sys.executable, peers, "pyvips", str(jobs), str(work / "o-vips")] + [str(s) for s in sources]
        variants[f"naive_pillow_j{jobs}"] = [sys.executable, peers, "naive", str(jobs), str(work / "o-naive")] + [str(s) for s in sources]
        for preset in args.presets:
            variants[f"build_{preset}_j{jobs}"] = [*cli(), "build", str(proj), "-o", str(work / f"o-{preset}"), "--no-cache",
                                                   "--jobs", str(jobs), "--preset", preset]
    times: dict[str, list[float]] = {k: [] for k in variants}
    rss: dict[str, int] = {}
    out_bytes: dict[str, int] = {}
    usage: dict[str, list[dict[str, float]]] = {k: [] for k in variants}
    for _ in range(args.runs):
        for name, cmd in variants.items():
            outdir = Path(cmd[cmd.index("-o") + 1]) if "-o" in cmd else Path(cmd[4])
            shutil.rmtree(outdir, ignore_errors=True)
            wall, peak, proc = run_timed(cmd)
            times[name].append(wall)
            usage[name].append(child_usage(proc))
            rss[name] = max(rss.get(name, 0), peak)
            out_bytes[name] = _bytes(outdir)
    med = {k: round(median(v), 3) for k, v in times.items()}
    ratios = {}
    for jobs in args.jobs:
        base = med[f"pyvips_j{jobs}"]
        for k in med:
            if k.endswith(f"_j{jobs}"):
                ratios[f"{k}/pyvips"] = round(med[k] / base, 3)
        for preset in args.presets:
            ratios[f"build_{preset}_j{jobs}/naive"] = round(med[f"build_{preset}_j{jobs}"] / med[f"naive_pillow_j{jobs}"], 3)
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    largest = max(sources, key=lambda p: Image.open(p).size[0] * Image.open(p).size[1])
    with Image.open(largest) as im:
        decoded_kib = im.size[0] * im.size[1] * len(im.getbands()) // 1024
    cpu = {k: {f: median([u[f] for u in v]) for f in ("user_s", "sys_s", "minflt")} for k, v in usage.items()}
    data = {"runs": times, "median_s": med, "ratios": ratios, "peak_rss_kib": rss, "bytes": out_bytes, "cpu": cpu,
            "largest_source": largest.name, "largest_decoded_kib": decoded_kib}
    path = write_result("throughput", data)
    for k in med:
        c = cpu[k]
        print(f"{k:24s} {med[k]:7.2f} s  rss {rss[k] / 1024:6.0f} MiB  bytes {out_bytes[k]:>10,}  "
              f"cpu {c['user_s']:5.2f} user {c['sys_s']:5.2f} sys  {c['minflt'] / 1000:5.0f}k faults")
    print("ratios:", ratios)
    print(f"largest source {largest.name}: decoded {decoded_kib / 1024:.0f} MiB")
    print(f"written: {path}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

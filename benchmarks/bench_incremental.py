"""Cold build vs no-change rebuild vs one-changed-thumbnail rebuild, and --jobs 1 vs --jobs 2.

    .venv/bin/python benchmarks/bench_incremental.py [--runs 3]

Cold means an empty cache AND no previous OUT (a build reuses OUT's unchanged outputs).
A project of 1 icon and 10 languages x 5 candidates, drawn from large sources
(a 4000x3000 PNG icon, 3000x2250 PNG and JPEG candidates) is generated once under
benchmarks/.corpus/incremental (about 250 MB, gitignored). Each figure is the median of
`--runs` whole-process runs of `asset-pipeline build`; ratios are taken within this run.
Targets (issue 6): no-change rebuild <= 5 % of the cold build; 2 jobs >= 1.7x faster than 1.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import cli, compile_package, median, run_timed, write_result  # noqa: E402
from benchmarks.corpus import gen_bokeh, gen_planet, gen_starfield, gen_terrain  # noqa: E402

LANGS = ["en", "ja", "ko", "de", "fr", "es", "pt-BR", "it", "th", "vi"]
ROOT = Path(__file__).resolve().parent / ".corpus" / "incremental-v2"
GENS = [gen_terrain, gen_bokeh, gen_planet, gen_starfield]


def _image(seed: int, w: int = 3000, h: int = 2250) -> Image.Image:
    rng = np.random.default_rng(seed)
    px = GENS[seed % len(GENS)](w, h, rng)
    im = px if isinstance(px, Image.Image) else Image.fromarray(np.asarray(px))
    return im.convert("RGB")


def make_project(root: Path = ROOT) -> Path:
    if (root / "done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "thumbnails").mkdir(parents=True)
    _image(0, 4000, 3000).save(root / "icon.png")
    seed = 1
    for lang in LANGS:
        d = root / "thumbnails" / lang
        d.mkdir()
        for i in range(5):
            # artists hand over PNG masters and JPEG exports: alternate them
            if seed % 2:
                _image(seed).save(d / f"{i + 1:02d}.png")
            else:
                _image(seed).save(d / f"{i + 1:02d}.jpg", quality=92)
            seed += 1
    (root / "done").write_text("ok\n")
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--preset", default="balanced")
    args = ap.parse_args()
    src = make_project()
    compile_package()
    work = Path(tempfile.mkdtemp(prefix="bench-incr-"))
    proj = work / "proj"
    shutil.copytree(src, proj)
    out = work / "out"
    rows: dict[str, list[float]] = {"cold_j1": [], "cold_j2": [], "nochange_j2": [], "check_j2": [], "one_changed_j2": []}
    rss: dict[str, int] = {}
    changed = proj / "thumbnails" / "en" / "02.jpg"  # seed 2: a JPEG
    original = changed.read_bytes()
    for run in range(args.runs):
        for jobs in (1, 2):
            cache = work / f"cache-{run}-{jobs}"
            shutil.rmtree(out, ignore_errors=True)  # cold: no cache and no previous bundle to reuse
            wall, peak, _ = run_timed([*cli(), "build", str(proj), "-o", str(out), "--jobs", str(jobs), "--cache-dir", str(cache), "--preset", args.preset])
            rows[f"cold_j{jobs}"].append(wall)
            rss[f"cold_j{jobs}"] = peak
        cache = work / f"cache-{run}-2"
        wall, _, _ = run_timed([*cli(), "build", str(proj), "-o", str(out), "--jobs", "2", "--cache-dir", str(cache), "--preset", args.preset])
        rows["nochange_j2"].append(wall)
        wall, _, _ = run_timed([*cli(), "build", str(proj), "-o", str(out), "--jobs", "2", "--cache-dir", str(cache), "--check", "--preset", args.preset])
        rows["check_j2"].append(wall)
        _image(1000 + run).save(changed, quality=90)
        wall, _, _ = run_timed([*cli(), "build", str(proj), "-o", str(out), "--jobs", "2", "--cache-dir", str(cache), "--preset", args.preset])
        rows["one_changed_j2"].append(wall)
        changed.write_bytes(original)
    med = {k: round(median(v), 3) for k, v in rows.items()}
    ratios = {
        "nochange_over_cold": round(med["nochange_j2"] / med["cold_j2"], 4),
        "check_over_cold": round(med["check_j2"] / med["cold_j2"], 4),
        "one_changed_over_cold": round(med["one_changed_j2"] / med["cold_j2"], 4),
        "speedup_j2_over_j1": round(med["cold_j1"] / med["cold_j2"], 3),
    }
    path = write_result("incremental", {"preset": args.preset, "runs": rows, "median_s": med, "ratios": ratios, "peak_rss_kib": rss})
    print(f"median wall (s): {med}")
    print(f"ratios: {ratios}")
    print(f"written: {path}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

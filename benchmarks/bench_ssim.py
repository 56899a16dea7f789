"""The SSIM score alone: the project's box sums against the plain shifted adds they replaced.

    .venv/bin/python -m benchmarks.bench_ssim [--repeat 5]

Every `large` corpus source is rendered to its 1024 icon as a `balanced` build renders it and
encoded as a JPEG at quality 80; then the reference is made and the JPEG scored
(`quality.reference` + `quality.score_bytes`, what one step of the quality search costs), and
`quality.score_once` (the fixed presets' one score), first with `quality._box_sum` as it is,
then with the baseline below (7 shifted adds per axis), in turn, `--repeat` times. Reported:
the summed best times, their ratio, and whether every score is the same (it must be).
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import machine, write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402


def shifted_adds(a: np.ndarray) -> np.ndarray:
    """The baseline: each 7-wide window summed by adding the 7 shifted copies, rows then columns."""
    h = a.shape[0] - 6
    rows = a[0:h].copy()
    for k in range(1, 7):
        rows += a[k : k + h]
    w = a.shape[1] - 6
    out = rows[:, 0:w].copy()
    for k in range(1, 7):
        out += rows[:, k : k + w]
    return out


def main() -> None:
    from asset_pipeline import quality, work
    from asset_pipeline.config import load_preset
    from asset_pipeline.quality import flatten
    from asset_pipeline.records import RenderSpec, SourceFile
    from asset_pipeline.render import render

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    preset = load_preset("balanced")
    white = (255, 255, 255)
    spec = RenderSpec(role="icon", width=1024, height=1024, fit="cover", background=white, formats=("JPEG",),
                      max_bytes=5_000_000)
    pairs = []
    for path in sorted(ensure_corpus("large")):
        src = SourceFile(path=path, rel=path.name, sha256="", size=path.stat().st_size)
        loaded = work._load(src, work.decode_plan((spec,), preset), preset)
        flat = flatten(render(loaded, spec, linear_light=True).image, white)
        buf = io.BytesIO()
        flat.save(buf, "JPEG", quality=80)
        pairs.append((flat, buf.getvalue()))
    project = quality._box_sum
    sides = {"project": project, "baseline": shifted_adds}
    best = {k: {"search step": math.inf, "score once": math.inf} for k in sides}
    scores: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(args.repeat):
        for name, fn in sides.items():  # in turn: a slow spell of the machine falls on both
            quality._box_sum = fn
            got = []
            t = time.perf_counter()
            for flat, data in pairs:
                got.append(quality.score_bytes(quality.reference(flat), data, white))
            best[name]["search step"] = min(best[name]["search step"], time.perf_counter() - t)
            t = time.perf_counter()
            for flat, data in pairs:
                got.append(quality.score_once(flat, quality.decode(data, white)))
            best[name]["score once"] = min(best[name]["score once"], time.perf_counter() - t)
            scores[name] = got
    quality._box_sum = project
    same = scores["project"] == scores["baseline"]
    print(f"{len(pairs)} 1024 JPEG icons, best of {args.repeat}:")
    for stage in ("search step", "score once"):
        p, b = best["project"][stage], best["baseline"][stage]
        print(f"  {stage:12s} project {p * 1000:7.1f} ms  baseline {b * 1000:7.1f} ms  ratio {p / b:.3f}")
    print(f"  the same scores: {same}")
    print("written:", write_result("bench_ssim", {"machine": machine(), "repeat": args.repeat, "same": same,
                                                  "ms": {k: {s: round(v * 1000, 1) for s, v in d.items()}
                                                         for k, d in best.items()}}))


if __name__ == "__main__":
    main()

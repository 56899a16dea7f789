"""What each art-lint check costs, on the throughput corpus' renders and on worst cases for the
corner flood fill, with the flood fill it replaced as a baseline in the same run.

    .venv/bin/python -m benchmarks.bench_lint [--repeat 5]

The renders are the `large` corpus as throughput.py's build makes them (`--preset fast`: each
source's 1024 icon and 360 thumbnail). Every figure is the best of `--repeat` calls, summed over
the images. The worst cases are square-spiral mazes (one corridor winding from the corner to the
centre) and star fields (dots on black), as `rounded_radius` sees them; for them
`connected_to_corners` is timed beside the row-and-column run spreading it replaced (kept here
as `_spreading`), which needed one round per turn of a path, and both results are checked equal.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from asset_pipeline import lint  # noqa: E402
from asset_pipeline.quality import flatten  # noqa: E402
from benchmarks._util import write_result  # noqa: E402


def _spreading(mask: np.ndarray) -> np.ndarray:
    """The previous connected_to_corners: whole row runs, then whole column runs, until stable."""
    h, w = mask.shape
    reached = np.zeros_like(mask)
    for y, x in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)):
        reached[y, x] = mask[y, x]
    if not reached.any():
        return reached
    rows, n_rows, _ = lint._row_runs(mask)
    cols_t, n_cols, _ = lint._row_runs(np.ascontiguousarray(mask.T))
    cols = cols_t.T  # column runs: the row runs of the transpose

    def spread(r: np.ndarray, ids: np.ndarray, n: int) -> np.ndarray:
        hit = np.zeros(n + 1, dtype=bool)
        hit[ids[r]] = True
        hit[0] = False
        out: np.ndarray = hit[ids]
        return out

    count = 0
    while True:
        reached = spread(spread(reached, rows, n_rows), cols, n_cols)
        now = int(np.count_nonzero(reached))
        if now == count:
            return reached
        count = now


def maze(side: int, gap: int) -> np.ndarray:
    im = Image.new("L", (side, side), 255)
    x0, y0, x1, y1, pts = gap, gap, side - gap, side - gap, []
    while x1 - x0 > 2 * gap and y1 - y0 > 2 * gap:
        pts += [(x0, y0 + gap), (x0, y1), (x1, y1), (x1, y0), (x0 + gap, y0)]
        x0, y0, x1, y1 = x0 + gap, y0 + gap, x1 - gap, y1 - gap
    ImageDraw.Draw(im).line(pts, fill=0, width=max(1, gap // 3))
    return np.asarray(im) > 128


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from benchmarks.code_scan_eval import renders

    images = renders("large")
    flats = [flatten(im, (255, 255, 255)) for im in images]
    grays = [f.convert("L") for f in flats]
    result: dict[str, Any] = {}
    checks: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {  # each check on what lint_image gives it
        "find_codes": (lint.find_codes, grays),
        "find_codes, QR only": (partial(lint.find_codes, qr_only=True), grays),  # a profile with `barcode` off
        "sharpness": (lambda g: lint.sharpness(np.asarray(g)), grays),
        "rounded_radius": (lint.rounded_radius, images),
        "safe_area_density": (lint.safe_area_density, flats),
        "corner_transparency": (lint.corner_transparency, images),
    }
    print(f"{len(images)} renders of the large corpus (1024 and 360), best of {args.repeat}, summed:")
    for name, (fn, inputs) in checks.items():
        ms = 1000 * sum(_best(partial(fn, x), args.repeat) for x in inputs)
        result[name] = ms
        print(f"  {name:20s} {ms:7.1f} ms")
    rng = np.random.default_rng(0)
    cases = {"maze 512 px, 8 px corridors": maze(512, 8), "maze 512 px, 4 px corridors": maze(512, 4),
             "maze 360 px, 6 px corridors": maze(360, 6), "stars on black, 512 px, 2 %": rng.random((512, 512)) >= 0.02,
             "stars on black, 360 px, 5 %": rng.random((360, 360)) >= 0.05, "one flat field, 512 px": np.ones((512, 512), bool)}
    print("connected_to_corners against the run spreading it replaced:")
    for name, mask in cases.items():
        assert np.array_equal(lint.connected_to_corners(mask), _spreading(mask)), name
        new = 1000 * _best(partial(lint.connected_to_corners, mask), args.repeat)
        old = 1000 * _best(partial(_spreading, mask), args.repeat)
        result[name] = {"new_ms": new, "old_ms": old}
        print(f"  {name:30s} {new:6.1f} ms, was {old:6.1f} ms ({new / old:.2f}x)")
    write_result("bench_lint", result)


if __name__ == "__main__":
    main()

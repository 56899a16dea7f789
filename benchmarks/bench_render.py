"""The linear-light render alone: our block resampler (resample.py) against Pillow's float LANCZOS.

    .venv/bin/python -m benchmarks.bench_render [--repeat 5]

Every `large` corpus source is loaded once as a `balanced` build loads it, then rendered to the
1024 icon and the 360 thumbnail (cover) in linear light, two ways, in turn, `--repeat` times:
`project` is `render()`; `pillow` makes the same image with one Pillow float resize per band (after Pillow's box
reduce of the band, where the render box-reduces first)
(sRGB decoded by the same table, premultiplied the same way, encoded back the same way), which
is what the project's output must equal. Reported: the best time of each, their ratio, and
whether the two images are identical (they must be, to the bit).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import machine, median, write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402


def pillow_linear(im: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float]) -> Image.Image:
    """The reference: Pillow's own float LANCZOS on each whole linear-light band."""
    from asset_pipeline import render as r

    px = np.asarray(im)
    gap = min((box[2] - box[0]) / size[0], (box[3] - box[1]) / size[1])
    step = int(gap // r.REDUCING_GAP)

    def one(plane: np.ndarray) -> np.ndarray:
        f = Image.fromarray(plane, "F")
        if step < 2:
            return np.asarray(f.resize(size, Image.Resampling.LANCZOS, box=box))
        # the box-reduced path: Pillow's reduce of the float plane, then its LANCZOS of the rest
        ibox = (math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3]))
        sbox = tuple((v - ibox[i % 2]) / step for i, v in enumerate(box))
        return np.asarray(f.reduce(step, box=ibox).resize(size, Image.Resampling.LANCZOS, box=sbox))

    if im.mode != "RGBA":
        return Image.fromarray(np.dstack([r._from_linear(one(r._LIN[px[..., c]])) for c in range(3)]), "RGB")
    unit = r._UNIT[px[..., 3]]
    a = np.clip(one(unit), 0.0, 1.0)
    alpha8 = np.rint(a * 255.0).astype(np.uint8)
    np.copyto(a, np.float32(1.0), where=a <= 1e-6)
    colour = [r._from_linear(one(r._LIN[px[..., c]] * unit), a) for c in range(3)]
    return Image.fromarray(np.dstack([*colour, alpha8]), "RGBA")


def main() -> None:
    from asset_pipeline import work
    from asset_pipeline.config import load_preset
    from asset_pipeline.load import as_image
    from asset_pipeline.records import RenderSpec, SourceFile
    from asset_pipeline.render import render

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    preset = load_preset("balanced")
    rows = []
    print(f"{'source':40s} {'side':>5s} | {'project':>8s} {'pillow':>8s} {'ratio':>6s} | same")
    for path in sorted(ensure_corpus("large")):
        src = SourceFile(path=path, rel=path.name, sha256="", size=path.stat().st_size)
        specs = tuple(RenderSpec(role="icon", width=s, height=s, fit="cover", background=(255, 255, 255),
                                 formats=("JPEG", "PNG"), max_bytes=5_000_000) for s in (1024, 360))
        loaded = work._load(src, work.decode_plan(specs, preset), preset)
        im = as_image(loaded.image)  # the reference needs Pillow's layout; the project renders what a build holds
        w, h = im.size
        for spec in specs:
            s = min(w, h)
            box = ((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)
            size = (spec.width, spec.height)
            best = {"project": math.inf, "pillow": math.inf}
            got = want = None
            for _ in range(args.repeat):
                t = time.perf_counter()
                got = render(loaded, spec, linear_light=True, gap=preset.render.reducing_gap).image
                best["project"] = min(best["project"], time.perf_counter() - t)
                t = time.perf_counter()
                want = pillow_linear(im, size, box)
                best["pillow"] = min(best["pillow"], time.perf_counter() - t)
            assert got is not None and want is not None
            if got.mode != want.mode:  # an opaque RGBA render comes back RGB
                want = want.convert(got.mode)
            same = got.tobytes() == want.tobytes()
            rows.append({"source": path.name, "side": spec.width, **{k: round(v, 4) for k, v in best.items()},
                         "ratio": round(best["project"] / best["pillow"], 3), "identical": same})
            print(f"{path.name:40s} {spec.width:5d} | {best['project']:8.3f} {best['pillow']:8.3f} "
                  f"{best['project'] / best['pillow']:6.2f} | {same}")
    for side in (1024, 360):
        ratios = [r["ratio"] for r in rows if r["side"] == side]
        total = sum(r["project"] for r in rows if r["side"] == side) / sum(r["pillow"] for r in rows if r["side"] == side)
        print(f"{side}: project/pillow median {median(ratios):.3f}, summed {total:.3f}; identical "
              f"{sum(r['identical'] for r in rows if r['side'] == side)}/{len(ratios)}")
    print("written:", write_result("bench_render", {"machine": machine(), "rows": rows}))


if __name__ == "__main__":
    main()

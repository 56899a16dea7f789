"""The PNG encode alone: the project's RLE path (Pillow's filters, zlib-ng's deflate) against
Pillow's own save with the same settings.

    .venv/bin/python -m benchmarks.bench_png [--repeat 7] [--level 6]

Every `large` corpus source is loaded and rendered to the 1024 icon and the 360 thumbnail
(cover) as a `fast` build renders them; each rendition is then encoded as PNG (RLE strategy,
`--level`) both ways, in turn, `--repeat` times. Reported: the summed best time of each, their
ratio, the bytes of each, and whether the two streams of image data are identical (they must
be: only the IDAT chunking differs).
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import machine, write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402


def idat(data: bytes) -> bytes:
    """The image data stream: every IDAT chunk's body, joined."""
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            out.append(data[pos + 8 : pos + 8 + n])
        pos += 12 + n
    return b"".join(out)


def main() -> None:
    from PIL import Image

    from asset_pipeline import work
    from asset_pipeline.config import load_preset
    from asset_pipeline.encode.png import PngCodec
    from asset_pipeline.records import RenderSpec, SourceFile
    from asset_pipeline.render import render

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--level", type=int, default=6)
    args = ap.parse_args()
    preset = load_preset("fast")
    codec = PngCodec()
    images: list[Image.Image] = []
    for path in sorted(ensure_corpus("large")):
        src = SourceFile(path=path, rel=path.name, sha256="", size=path.stat().st_size)
        specs = tuple(RenderSpec(role="icon", width=s, height=s, fit="cover", background=(255, 255, 255),
                                 formats=("PNG",), max_bytes=5_000_000) for s in (1024, 360))
        loaded = work._load(src, work.decode_plan(specs, preset), preset)
        images += [render(loaded, s, linear_light=False, gap=preset.render.reducing_gap).image for s in specs]
    best = {"project": [math.inf] * len(images), "pillow": [math.inf] * len(images)}
    sizes = {"project": [0] * len(images), "pillow": [0] * len(images)}
    same = 0
    for i, im in enumerate(images):
        ours = theirs = b""
        for _ in range(args.repeat):  # interleaved, so a slow spell of the machine hits both
            t = time.perf_counter()
            ours = codec.encode(im, compress_level=args.level, strategy="rle")
            best["project"][i] = min(best["project"][i], time.perf_counter() - t)
            t = time.perf_counter()
            buf = io.BytesIO()
            im.save(buf, "PNG", compress_level=args.level, compress_type=zlib.Z_RLE)
            theirs = buf.getvalue()
            best["pillow"][i] = min(best["pillow"][i], time.perf_counter() - t)
        sizes["project"][i], sizes["pillow"][i] = len(ours), len(theirs)
        same += idat(ours) == idat(theirs)
    total = {k: sum(v) for k, v in best.items()}
    nbytes = {k: sum(v) for k, v in sizes.items()}
    modes = sorted({im.mode for im in images})
    print(f"{len(images)} renditions ({', '.join(modes)}), level {args.level}, best of {args.repeat}:")
    print(f"  project {total['project'] * 1000:7.1f} ms  {nbytes['project']:>10,} bytes")
    print(f"  pillow  {total['pillow'] * 1000:7.1f} ms  {nbytes['pillow']:>10,} bytes")
    print(f"  ratio {total['project'] / total['pillow']:.3f}; identical image data {same}/{len(images)}")
    print("written:", write_result("bench_png", {"machine": machine(), "level": args.level, "repeat": args.repeat,
                                                 "ms": {k: round(v * 1000, 1) for k, v in total.items()},
                                                 "bytes": nbytes, "identical": same, "renditions": len(images)}))


if __name__ == "__main__":
    main()

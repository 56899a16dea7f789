"""The same outputs as our build, made by the peers: naive Pillow and pyvips (for throughput.py).

    python benchmarks/peers.py naive|pyvips JOBS OUT SOURCE...

For every source: a 1024x1024 and a 360x360 centre-cover rendition, PNG where the source has
alpha, else JPEG quality 85 (what `--preset fast` writes for opaque photo art).
"""

from __future__ import annotations

import sys
from multiprocessing import Pool
from pathlib import Path

SIZES = (1024, 360)


def naive(args: tuple[str, str]) -> None:
    """Open, convert, crop, resize, save: once per output, as a first script would."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = None
    src, out = args
    for size in SIZES:
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im)
            alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
            im = im.convert("RGBA" if alpha else "RGB")
            w, h = im.size
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((size, size), Image.Resampling.LANCZOS)
            stem = Path(out) / f"{Path(src).stem}_{size}"
            if alpha:
                im.save(f"{stem}.png")
            else:
                im.save(f"{stem}.jpg", quality=85, optimize=True)


def vips(args: tuple[str, str]) -> None:
    """libvips thumbnail: shrink-on-load, autorotate, centre crop."""
    import pyvips

    src, out = args
    for size in SIZES:
        im = pyvips.Image.thumbnail(src, size, height=size, crop="centre")
        if im.interpretation == "rgb16" or im.format == "ushort":
            im = im.colourspace("srgb")
        stem = Path(out) / f"{Path(src).stem}_{size}"
        if im.hasalpha():
            im.pngsave(f"{stem}.png")
        else:
            im.jpegsave(f"{stem}.jpg", Q=85, optimize_coding=True)


if __name__ == "__main__":
    kind, jobs, out, *sources = sys.argv[1:]
    Path(out).mkdir(parents=True, exist_ok=True)
    fn = naive if kind == "naive" else vips
    with Pool(int(jobs)) as pool:
        pool.map(fn, [(s, out) for s in sources], chunksize=1)

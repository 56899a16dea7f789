"""PNG through Pillow's zlib, with palette quantization for flat art and an optional oxipng pass.

`strategy = "rle"` is about 4x faster than the default at nearly the same bytes on our corpora.
`optimizer = "oxipng"` re-encodes Pillow's output losslessly (filters, libdeflate, colour-type
reduction); benchmarks/bench_presets.py measures what it buys and costs.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import numpy as np
from PIL import Image

STRATEGIES = {"default": zlib.Z_DEFAULT_STRATEGY, "rle": zlib.Z_RLE, "filtered": zlib.Z_FILTERED}


EXACT_ROWS = 64  # rows mapped to palette indices at a time


def exact_palette(image: Image.Image, colors: int = 256) -> Image.Image | None:
    """The lossless palette version of `image`, or None when it has more than `colors` colours.

    Mapped a strip of rows at a time: the packed colour codes and their search indices are
    4 and 8 bytes a pixel, 20 MB at once for a 1024 RGBA icon when made for the whole image.
    """
    found = image.getcolors(colors)
    if found is None:
        return None
    channels = len(image.getbands())
    colours = np.array([colour for _, colour in found], dtype=np.uint32).reshape(len(found), channels)
    codes = np.zeros(len(found), dtype=np.uint32)
    for c in range(channels):
        codes |= colours[:, c] << (8 * c)
    codes.sort()
    w, h = image.size
    index = np.empty((h, w), np.uint8)
    for y in range(0, h, EXACT_ROWS):
        arr = np.asarray(image.crop((0, y, w, min(h, y + EXACT_ROWS)))).reshape(-1, w, channels)
        packed = np.zeros(arr.shape[:2], dtype=np.uint32)
        for c in range(channels):
            packed |= arr[..., c].astype(np.uint32) << (8 * c)
        index[y : y + arr.shape[0]] = np.searchsorted(codes, packed)
    out = Image.fromarray(index, "P")
    entries = np.stack([(codes >> (8 * c)) & 0xFF for c in range(channels)], axis=1).astype(np.uint8)
    # an RGBA palette makes Pillow write the tRNS chunk, so alpha survives exactly
    out.putpalette(entries.tobytes(), rawmode="RGBA" if channels == 4 else "RGB")
    return out


def quantize(image: Image.Image, *, colors: int = 256, quantizer: str = "pillow", dither: float = 1.0) -> Image.Image:
    """A palette version of `image` (alpha kept); exact when it already has <= `colors` colours.

    imagequant (libimagequant, the optional `quant` extra: GPLv3 or commercial) is sharper: on RGBA
    art Pillow's only quantizer (fast octree) bands soft shadows while SSIM barely notices
    (docs/presets.md). Pillow's is the default so the project's own licence stays MIT.
    """
    exact = exact_palette(image, colors)
    if exact is not None:
        return exact
    if quantizer == "imagequant":
        import imagequant  # type: ignore[import-untyped]

        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        # the raw-bytes entry point: the package's PIL helper uses Image.getdata, deprecated
        indices, palette = imagequant.quantize_raw_rgba_bytes(
            rgba.tobytes(), rgba.width, rgba.height, dithering_level=dither, max_colors=colors
        )
        out = Image.frombytes("P", rgba.size, indices)
        out.putpalette(palette, rawmode="RGBA")
        return out
    method = Image.Quantize.FASTOCTREE if image.mode == "RGBA" else Image.Quantize.MEDIANCUT
    dithering = Image.Dither.FLOYDSTEINBERG if dither > 0 else Image.Dither.NONE
    return image.quantize(colors=colors, method=method, dither=dithering)


class PngCodec:
    name = "PNG"
    extension = "png"

    def encode(self, image: Image.Image, **settings: Any) -> bytes:
        optimizer = settings.get("optimizer", "none")
        buf = io.BytesIO()
        if optimizer == "oxipng":
            # oxipng redoes filtering and deflate itself: hand it the cheapest valid PNG
            image.save(buf, "PNG", compress_level=0)
            import oxipng

            return bytes(oxipng.optimize_from_memory(buf.getvalue(), level=int(settings.get("optimizer_level", 2))))
        kwargs: dict[str, Any] = {
            "compress_level": int(settings.get("compress_level", 9)),
            "optimize": bool(settings.get("optimize", False)),
        }
        strategy = settings.get("strategy", "default")
        if strategy != "default" and not kwargs["optimize"]:
            # read by Pillow's PNG plugin though not in its documented option list
            kwargs["compress_type"] = STRATEGIES[strategy]
        image.save(buf, "PNG", **kwargs)
        return buf.getvalue()

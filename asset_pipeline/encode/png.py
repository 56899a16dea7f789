"""PNG through Pillow's filters and zlib, with palette quantization for flat art and an optional
oxipng pass.

`strategy = "rle"` is about 4x faster than the default at nearly the same bytes on our corpora;
its deflate is zlib-ng's (`_rle_png`).
`optimizer = "oxipng"` re-encodes Pillow's output losslessly (filters, libdeflate, colour-type
reduction); benchmarks/bench_presets.py measures what it buys and costs.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import numpy as np
from PIL import Image

try:
    from zlib_ng import zlib_ng
except ImportError:  # pragma: no cover - a platform without zlib-ng wheels: Pillow's zlib throughout
    zlib_ng = None  # type: ignore[assignment]

STRATEGIES = {"default": zlib.Z_DEFAULT_STRATEGY, "rle": zlib.Z_RLE, "filtered": zlib.Z_FILTERED}
_MEM_LEVEL = 9  # Pillow's deflateInit2 memLevel: the same blocks, so the same stream


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
        if strategy == "rle" and not kwargs["optimize"] and kwargs["compress_level"] > 0 and zlib_ng is not None:
            image.save(buf, "PNG", compress_level=0)
            return _rle_png(buf.getvalue(), kwargs["compress_level"])
        if strategy != "default" and not kwargs["optimize"]:
            # read by Pillow's PNG plugin though not in its documented option list
            kwargs["compress_type"] = STRATEGIES[strategy]
        image.save(buf, "PNG", **kwargs)
        return buf.getvalue()


def _rle_png(stored: bytes, level: int) -> bytes:
    """`stored` (a PNG Pillow wrote at compress_level 0: its filtered rows in stored blocks) with
    the image data deflated by zlib-ng's RLE strategy into one IDAT chunk.

    Pillow's adaptive filtering is kept, and the deflate is the part the system zlib is slow
    at: zlib-ng's RLE writes the same stream as zlib's (checked on every PNG of the throughput
    corpus, and in tests/test_encode.py) in about half the time, so the file differs from
    Pillow's own only in how the stream is cut into chunks. Other strategies differ in zlib-ng.
    """
    assert zlib_ng is not None
    view = memoryview(stored)
    out: list[bytes | memoryview] = [view[:8]]
    inflate = zlib_ng.decompressobj()
    deflate = zlib_ng.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, _MEM_LEVEL, zlib.Z_RLE)
    data: list[bytes] = []
    pos = 8
    while pos + 8 <= len(view):
        n = int.from_bytes(view[pos : pos + 4], "big")
        kind = bytes(view[pos + 4 : pos + 8])
        if kind == b"IDAT":
            data.append(deflate.compress(inflate.decompress(view[pos + 8 : pos + 8 + n])))
        else:
            if data:  # the IDAT run has ended: its one chunk goes where the run was
                data.append(deflate.flush())
                body = b"".join(data)
                crc = zlib_ng.crc32(body, zlib_ng.crc32(b"IDAT"))
                out += [len(body).to_bytes(4, "big"), b"IDAT", body, crc.to_bytes(4, "big")]
                data = []
            out.append(view[pos : pos + 12 + n])
        pos += 12 + n
    return b"".join(out)

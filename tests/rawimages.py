"""Image files Pillow cannot write, built byte by byte: interlaced and 16-bit PNG, PNG bombs, PSD, HEIC.

Each writer follows its format's specification (PNG: ISO/IEC 15948; PSD: Adobe's "Photoshop
File Formats Specification", version 1 files; HEIF: ISO/IEC 23008-12 `ftyp` brands), so the
files are what other tools write, not what our loader expects. The PSD writer's output was
checked once against ImageMagick 6.9 (`identify` reads the merged composite and the layer).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
# Adam7 passes: (x0, y0, dx, dy)
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def ihdr(width: int, height: int, bit_depth: int, colour_type: int, interlace: int = 0) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, interlace))


def _rows(arr: np.ndarray) -> bytes:
    """Scanlines with filter type 0 (None) before each."""
    return b"".join(b"\x00" + row.tobytes() for row in arr)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filtered_rows(samples: np.ndarray, bpp: int, filters: tuple[int, ...]) -> bytes:
    """Scanlines with filter type filters[y % len(filters)] before row y (PNG spec, section 9.2)."""
    out = []
    prev = np.zeros(samples.shape[1], np.int32)
    for y, row8 in enumerate(samples):
        kind = filters[y % len(filters)]
        row = row8.astype(np.int32)
        left = np.concatenate([np.zeros(bpp, np.int32), row[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
        if kind == 0:
            pred = np.zeros_like(row)
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = prev
        elif kind == 3:
            pred = (left + prev) // 2
        else:
            pred = np.array([_paeth(int(a), int(b), int(c)) for a, b, c in zip(left, prev, upleft, strict=True)], np.int32)
        out.append(bytes([kind]) + ((row - pred) % 256).astype(np.uint8).tobytes())
        prev = row
    return b"".join(out)


def png_bytes(
    arr: np.ndarray, *, interlace: bool = False, extra_chunks: tuple[bytes, ...] = (),
    filters: tuple[int, ...] = (0,), chunks_after: tuple[bytes, ...] = (), idat_size: int = 0,
) -> bytes:
    """A PNG of `arr` (HxW or HxWxC, uint8 or uint16; 16-bit samples are written big-endian).

    `filters` cycles the row filter types (non-interlaced only); `chunks_after` go
    between the pixels and IEND; `idat_size` > 0 splits the pixel data over IDAT chunks of
    that many bytes.
    """
    if arr.ndim == 2:
        arr = arr[..., None]
    h, w, c = arr.shape
    depth = 16 if arr.dtype == np.uint16 else 8
    samples = arr.astype(">u2" if depth == 16 else np.uint8).reshape(h, w * c)
    if filters != (0,):
        assert not interlace
        # filters work on bytes, `bpp` apart (a 16-bit sample is two, high byte first)
        raw = _filtered_rows(samples.view(np.uint8), c * depth // 8, filters)
        stream = zlib.compress(raw, 9)
        size = idat_size or len(stream)
        idats = b"".join(png_chunk(b"IDAT", stream[i : i + size]) for i in range(0, len(stream), size))
        return (PNG_SIGNATURE + ihdr(w, h, depth, _COLOUR_TYPES[c]) + b"".join(extra_chunks) + idats
                + b"".join(chunks_after) + png_chunk(b"IEND", b""))
    if not interlace:
        raw = _rows(samples)
    else:
        raw = b""
        full = samples.reshape(h, w, c)
        for x0, y0, dx, dy in _ADAM7:
            sub = full[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += _rows(sub.reshape(sub.shape[0], -1))
    return (
        PNG_SIGNATURE + ihdr(w, h, depth, _COLOUR_TYPES[c], int(interlace)) + b"".join(extra_chunks)
        + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    )


def png_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A valid-looking RGB PNG that declares `width` x `height` but holds only a few bytes of pixels."""
    first_rows = zlib.compress(b"\x00" * (1 + 3 * width) * 2, 9)
    return PNG_SIGNATURE + ihdr(width, height, 8, 2) + png_chunk(b"IDAT", first_rows) + png_chunk(b"IEND", b"")


def _packbits(row: bytes) -> bytes:
    """PackBits (Apple's RLE, used by PSD): literal runs of up to 128 bytes, repeats of 3+ as runs."""
    out = bytearray()
    i = 0
    n = len(row)
    while i < n:
        j = i
        while j + 1 < n and row[j + 1] == row[i] and j - i < 127:
            j += 1
        if j - i >= 2:
            out += bytes([257 - (j - i + 1), row[i]])
            i = j + 1
            continue
        start = i
        while i < n and i - start < 128 and not (i + 2 < n and row[i] == row[i + 1] == row[i + 2]):
            i += 1
        out += bytes([i - start - 1]) + row[start:i]
    return bytes(out)


def _channel_data(planes: list[np.ndarray], rle: bool) -> bytes:
    """Image data of planes (each HxW uint8): compression word, then raw or RLE rows."""
    if not rle:
        return struct.pack(">H", 0) + b"".join(p.tobytes() for p in planes)
    packed = [[_packbits(row.tobytes()) for row in p] for p in planes]
    counts = b"".join(struct.pack(">H", len(r)) for rows in packed for r in rows)
    return struct.pack(">H", 1) + counts + b"".join(r for rows in packed for r in rows)


def psd_bytes(composite: np.ndarray, *, layer: np.ndarray | None = None, rle: bool = True) -> bytes:
    """A version-1 PSD (RGB or RGBA, 8-bit) whose merged composite is `composite` (HxWx3|4).

    With `layer`, the file also holds one layer of the same size, as Photoshop files do; a
    reader that shows the layer instead of the composite gets it wrong, and a test can tell.
    """
    h, w, c = composite.shape
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, c, h, w, 8, 3)  # colour mode 3: RGB
    layers = b""
    if layer is not None:
        lc = layer.shape[2]
        ids = [0, 1, 2] + ([-1] if lc == 4 else [])  # -1: transparency mask
        planes = [layer[..., i] for i in range(lc)]
        per_channel = [struct.pack(">H", 0) + p.tobytes() for p in planes]
        name = b"\x05Layer\x00\x00"  # Pascal string padded to a multiple of 4
        extra = struct.pack(">I", 0) + struct.pack(">I", 0) + name
        record = struct.pack(">iiiiH", 0, 0, h, w, lc)
        record += b"".join(struct.pack(">hI", cid, len(d)) for cid, d in zip(ids, per_channel, strict=True))
        record += b"8BIMnorm" + struct.pack(">BBBB", 255, 0, 0, 0) + struct.pack(">I", len(extra)) + extra
        info = struct.pack(">h", 1) + record + b"".join(per_channel)
        info += b"\0" * ((-len(info)) % 2)
        layer_info = struct.pack(">I", len(info)) + info
        section = layer_info + struct.pack(">I", 0)  # no global layer mask
        layers = section
    body = (
        struct.pack(">I", 0)  # colour mode data: none for RGB
        + struct.pack(">I", 0)  # image resources: none
        + struct.pack(">I", len(layers)) + layers
        + _channel_data([composite[..., i] for i in range(c)], rle)
    )
    return header + body


def heic_head() -> bytes:
    """The start of an iPhone HEIC file: an `ftyp` box with the heic brand, then a `meta` box."""
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1heic"
    meta = struct.pack(">I", 16) + b"meta" + b"\0" * 8
    return ftyp + meta + b"\0" * 64


SVG = b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>\n'
HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not found</body></html>\n"


def bmp_v4_rgba(arr: np.ndarray) -> bytes:
    """A 32-bit BMP with an alpha mask (BITMAPV4HEADER, BI_BITFIELDS), as GIMP and Photoshop write it.

    Pillow's own BMP writer keeps no alpha (its 32-bit files use the 40-byte header).
    """
    h, w, _ = arr.shape
    pixels = arr[..., [2, 1, 0, 3]].tobytes()  # BGRA, top-down (negative height)
    info = struct.pack("<IiiHHIIiiII", 108, w, -h, 1, 32, 3, len(pixels), 2835, 2835, 0, 0)
    info += struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000) + b"BGRs" + b"\0" * 48
    head = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return head + info + pixels

"""Decode an 8-bit, non-interlaced PNG a strip of rows at a time, so a big source is never held whole.

Pillow decodes a PNG into one full-size image (a 4000x4000 RGBA source is 64 MB before the
loader can shrink it). Here the IDAT stream is inflated incrementally with zlib, and each
strip's filtered rows go to Pillow's own PNG row decoder, so unfiltering and unpacking stay
Pillow's. The one thing a strip lacks is the row above it, which the Up, Average and Paeth
filters of its first row read: it is put in front, unfiltered (filter type 0), taken from the
end of the previous strip. For 8-bit L, LA, RGB, RGBA and palette images Pillow's unpacked
bytes are the file's raw bytes, and for 16-bit grey they are those bytes swapped. 16-bit RGB,
RGBA and grey + alpha unpack to the high byte of each sample, which leaves the low bytes of
the row above unknown. But PNG filters work byte by byte, each byte predicted only from the
bytes `bpp` before it and above it (ISO/IEC 15948, section 9.2), which hold the same byte of
a sample. So the high bytes never read a low byte, and with the low bytes of the row in front
set to zero the high bytes still decode exactly. Interlaced and 1-, 2- and 4-bit images are
decoded whole, as before. The re-wrap is a run of stored deflate blocks (a copy). Inflating
with zlib-ng rather than the system zlib is what makes this faster than Pillow's own decode,
not only smaller (docs/formats.md); `decode_whole` uses it for that alone.

Metadata chunks after the pixels (an eXIf some tools write there, text chunks) are read into
`image.info` the way Pillow's own reader does, so orientation is found wherever it is.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

try:  # 5x faster inflate than the system zlib Python links against
    from zlib_ng import zlib_ng as zlib
except ImportError:  # pragma: no cover - a platform without zlib-ng wheels
    import zlib  # type: ignore[no-redef]

# the PNG's raw mode -> its bytes per pixel; the image mode is Pillow's for that raw mode
_PIXEL_BYTES = {"L": 1, "P": 1, "LA": 2, "RGB": 3, "RGBA": 4, "I;16B": 2, "RGB;16B": 6, "RGBA;16B": 8, "LA;16B": 4}
_READ = 1 << 16  # IDAT bytes read from the file at a time
_TEXT_CHUNKS = {b"eXIf", b"tEXt", b"zTXt", b"iTXt"}
_STORED_MAX = 0xFFFF  # bytes in one stored deflate block
WHOLE_STRIP_BYTES = 1 << 19  # inflated bytes decoded at a time by decode_whole
_ZLIB_HEADER = b"\x78\x01"


def _feed(decoder: Any, *pieces: bytes) -> None:
    """Hand `pieces` to Pillow's zip decoder as stored (uncompressed) deflate blocks.

    No block is marked final: the decoder stops once the strip's rows are filled, so the
    stream needs no end and no checksum. Block by block, so the strip is never copied whole.
    """
    decoder.decode(_ZLIB_HEADER)
    for piece in pieces:
        view = memoryview(piece)
        for i in range(0, len(piece), _STORED_MAX):
            n = min(_STORED_MAX, len(piece) - i)
            decoder.decode(struct.pack("<BHH", 0, n, n ^ 0xFFFF) + view[i : i + n])


def streamable(im: Image.Image) -> bool:
    """Whether `im` (opened, not loaded) can be decoded strip by strip."""
    if not isinstance(im, PngImagePlugin.PngImageFile) or im.info.get("interlace") or getattr(im, "is_animated", False):
        return False
    if len(im.tile) != 1 or im.png is None:
        return False
    name, box, _offset, args = im.tile[0]
    return name == "zip" and box == (0, 0, *im.size) and _rawmode(im) in _PIXEL_BYTES


def raw_bytes(im: Image.Image) -> int:
    """The size of `im`'s unfiltered pixel data (a streamable PNG)."""
    rawmode = _rawmode(im)
    assert rawmode is not None
    return im.width * im.height * _PIXEL_BYTES[rawmode]


def _rawmode(im: Image.Image) -> str | None:
    tile = getattr(im, "tile", None)  # an opened PNG's, as an ImageFile
    args = tile[0][3] if tile else None
    rawmode = args if isinstance(args, str) else None
    if rawmode in ("L", "P", "LA", "RGB", "RGBA") and rawmode != im.mode:
        return None  # 8-bit raw modes read only into their own mode
    return rawmode


def _raw_row(row: Image.Image, rawmode: str) -> bytes:
    """The raw PNG bytes of `row` (one decoded row), as far as the next row's filters read them.

    The high byte of a 16-bit sample is what Pillow kept; its low byte is left zero, which is
    safe because no high byte is ever predicted from a low one (see the module docstring).
    """
    if rawmode == "I;16B":
        return row.tobytes("raw", "I;16B")
    if not rawmode.endswith(";16B"):
        return row.tobytes()
    px = np.asarray(row)[0]
    if rawmode == "LA;16B":  # read into RGBA: grey is each of R, G, B
        px = px[:, [0, 3]]
    raw = np.zeros((*px.shape, 2), np.uint8)
    raw[..., 0] = px
    return raw.tobytes()


class _Inflater:
    """The IDAT chunks' zlib stream, inflated on demand, never more than asked for at once."""

    def __init__(self, fp: Any, offset: int) -> None:
        self.fp = fp
        self.left = 0  # data bytes of the current IDAT chunk not read yet
        self.z = zlib.decompressobj()
        fp.seek(offset - 8)
        if not self._next_chunk():
            msg = "image file is truncated (no image data)"
            raise OSError(msg)

    def _next_chunk(self) -> bool:
        head = self.fp.read(8)
        if len(head) < 8:
            return False
        length, cid = struct.unpack(">I4s", head)
        if cid != b"IDAT":
            self.fp.seek(-8, 1)
            return False
        self.left = length
        return True

    def read(self, n: int) -> bytes:
        """Exactly `n` inflated bytes; OSError when the file ends first."""
        parts, have = [], 0
        while have < n:
            data = self.z.unconsumed_tail
            if not data:
                if self.left == 0:
                    self.fp.read(4)  # the chunk's CRC (Pillow's reader does not check it either)
                    if not self._next_chunk():
                        msg = f"image file is truncated ({n - have} bytes of pixel data missing)"
                        raise OSError(msg)
                    continue
                data = self.fp.read(min(self.left, _READ))
                if not data:
                    msg = "image file is truncated"
                    raise OSError(msg)
                self.left -= len(data)
            got = self.z.decompress(data, n - have)
            if not got and self.z.eof:
                msg = "image data ends early (corrupt zlib stream)"
                raise OSError(msg)
            parts.append(got)
            have += len(got)
        return b"".join(parts)

    def finish(self) -> None:
        """Leave the file just after the last IDAT chunk's CRC."""
        while True:
            self.fp.seek(self.left, 1)
            self.fp.read(4)
            self.left = 0
            if not self._next_chunk():
                return


def strips(im: Image.Image, rows: int) -> Iterator[tuple[Image.Image, int, np.ndarray | None]]:
    """`im`'s pixels as consecutive strips of `rows` rows (the last may be shorter), in `im.mode`.

    Each strip comes as (image, top, pixels): its rows start at `top` (1 when the row above,
    the filters' context, is in front of them). An RGBA strip is decoded into a numpy array
    that the image maps, given as `pixels` (None for other modes): the loader reads it as it
    is, where `np.asarray` of the image would copy it (48 ms of 240 MB in a cut-out corpus).
    Palette strips carry the palette and transparency, so they convert as the whole image
    would. Afterwards the metadata chunks that follow the pixels are in `im.info`.
    """
    assert isinstance(im, PngImagePlugin.PngImageFile) and im.fp is not None
    w, h = im.size
    rawmode = _rawmode(im)
    assert rawmode is not None
    row_bytes = w * _PIXEL_BYTES[rawmode]
    src = _Inflater(im.fp, im.tile[0][2])
    above = b""  # the previous strip's last row with filter type 0 (None) in front
    for y in range(0, h, rows):
        n = min(rows, h - y)
        top = 1 if above else 0
        pixels = None
        if im.mode == "RGBA":  # Pillow's own layout for RGBA: the image maps the array
            pixels = np.empty((n + top, w, 4), np.uint8)
            strip = Image.frombuffer("RGBA", (w, n + top), pixels, "raw", "RGBA", 0, 1)
            if not strip.readonly:  # a Pillow that copied rather than mapped: the array stays empty
                pixels = None
        else:
            strip = Image.new(im.mode, (w, n + top), None)  # not cleared: the decoder fills every row
        if im.mode == "P" and im.palette is not None:
            strip.putpalette(im.palette.palette, im.palette.rawmode or "RGB")
        if "transparency" in im.info:  # a tRNS key colour or palette alphas
            strip.info["transparency"] = im.info["transparency"]
        decoder = Image._getdecoder(im.mode, "zip", rawmode)
        try:
            decoder.setimage(strip.im, (0, 0, w, n + top))
            _feed(decoder, above, src.read(n * (row_bytes + 1)))
        finally:
            decoder.cleanup()
        above = b"\x00" + _raw_row(strip.crop((0, n + top - 1, w, n + top)), rawmode)
        yield strip, top, pixels
    src.finish()
    _read_trailing_chunks(im)


def _whole_rows(im: Image.Image) -> int:
    """Rows decoded at a time by `decode_whole` and `decode_rgb`."""
    rawmode = _rawmode(im)
    assert rawmode is not None
    return max(1, WHOLE_STRIP_BYTES // (im.width * _PIXEL_BYTES[rawmode] + 1))


def _decode_into(im: Image.Image, target: Callable[[int, int], tuple[Image.Image, int]]) -> Iterator[tuple[int, int, int]]:
    """Decode all of `im`'s rows a strip at a time: `target(y, top)` names the image and the row
    the strip lands on, behind the row in front of it (`top`: 1 but for the first strip).
    Yields (y, rows, top) once each strip is there; the row in front of the next strip is read
    back from the target afterwards. At the end the trailing metadata is in `im.info`."""
    assert isinstance(im, PngImagePlugin.PngImageFile) and im.fp is not None
    w, h = im.size
    rawmode = _rawmode(im)
    assert rawmode is not None
    row_bytes = w * _PIXEL_BYTES[rawmode]
    src = _Inflater(im.fp, im.tile[0][2])
    rows = _whole_rows(im)
    above = b""
    for y in range(0, h, rows):
        n = min(rows, h - y)
        top = 1 if above else 0
        into, y0 = target(y, top)
        decoder = Image._getdecoder(im.mode, "zip", rawmode)
        try:
            decoder.setimage(into.im, (0, y0, w, y0 + top + n))
            _feed(decoder, above, src.read(n * (row_bytes + 1)))
        finally:
            decoder.cleanup()
        yield y, n, top
        above = b"\x00" + _raw_row(into.crop((0, y0 + top + n - 1, w, y0 + top + n)), rawmode)
    src.finish()
    _read_trailing_chunks(im)


def decode_whole(im: Image.Image) -> Image.Image:
    """All of `im`'s pixels in one image, as Pillow's `load()` gives them, inflated by zlib-ng.

    Each strip is decoded straight into the result (the row in front of it rewrites the row
    above with the same values), so nothing but the result is held. Afterwards the metadata
    chunks that follow the pixels are in `im.info`.
    """
    out = Image.new(im.mode, im.size, None)  # not cleared: the decoder fills every row
    if im.mode == "P" and im.palette is not None:
        out.putpalette(im.palette.palette, im.palette.rawmode or "RGB")
    if "transparency" in im.info:
        out.info["transparency"] = im.info["transparency"]
    for _ in _decode_into(im, lambda y, top: (out, y - top)):
        pass
    return out


def decode_rgb(im: Image.Image) -> np.ndarray:
    """`decode_whole` of an RGB PNG (8 or 16 bits) as an (h, w, 3) array: 3 bytes a pixel,
    where Pillow holds RGB at 4. Each strip is decoded into one reused strip image behind the
    row in front of it, then copied in; afterwards the trailing metadata is in `im.info`."""
    assert im.mode == "RGB"
    w, h = im.size
    out = np.empty((h, w, 3), np.uint8)
    strip = Image.new("RGB", (w, _whole_rows(im) + 1), None)
    for y, n, top in _decode_into(im, lambda y, top: (strip, 0)):
        out[y : y + n] = np.asarray(strip)[top : top + n]
    return out


def _read_trailing_chunks(im: PngImagePlugin.PngImageFile) -> None:
    """eXIf and text chunks after IDAT go into `im.info` through Pillow's chunk handlers."""
    png, fp = im.png, im.fp
    assert png is not None and fp is not None
    try:
        while True:
            head = fp.read(8)
            if len(head) < 8:
                return
            length, cid = struct.unpack(">I4s", head)
            if cid == b"IEND":
                return
            if cid in _TEXT_CHUNKS:
                png.call(cid, fp.tell(), length)
            else:
                fp.seek(length, 1)
            fp.read(4)
    except Exception:  # damaged metadata after complete pixels: the pixels are still good
        return

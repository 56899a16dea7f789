"""Open and verify a source, then normalize it to 8-bit sRGB RGB/RGBA, upright, as small as the job allows.

Order matters for memory: a JPEG is decoded at a reduced scale (`draft`), and every format is
then shrunk with `reduce()` (strip by strip where a mode conversion or premultiplied alpha
would otherwise copy the whole image), so a 60-megapixel source is held once, at its decoded
size, and never copied at full size. Orientation and colour (colour.py) run on the small image.
A large JPEG that cannot be shrunk is, where the caller can take it, held at 3 bytes a pixel
(`PackedRGB`) instead of Pillow's 4.

Every failure is an `AssetError` naming the file and the reason in words an artist
understands; docs/formats.md lists what happens to each format and mode.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import math
import os
import stat
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError, features

from . import png_strips
from .colour import SRGB, to_srgb
from .errors import AssetError, ImageTooLarge, UnreadableImage
from .records import Finding, SourceFile

log = logging.getLogger("asset_pipeline")

if not features.check("avif"):  # pragma: no cover - Pillow >= 11.3 wheels decode AVIF themselves
    try:
        import pillow_avif  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        pass

MAX_SIDE = 65_535  # no format we read legitimately goes past this; larger is a hostile header
STRIP_PIXELS = 1 << 20  # strip-wise shrink: about a megapixel converted at a time
_NON_ANIMATED_MULTIFRAME = {"PSD", "MPO", "ICO", "ICNS", "DCX", "FLI"}  # layers, previews, sizes
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "CMYK", "I", "F"}
# EXIF orientation -> the transpose that makes the image upright (EXIF 2.32, tag 0x0112)
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"WEBP", "WebP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"8BPS", "PSD"), (b"BM", "BMP"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedImage:
    """A decoded, normalized source. `image` is RGB or RGBA, 8-bit sRGB, upright (a PackedRGB
    only where the caller said it can take one)."""

    source: SourceFile
    image: Image.Image | PackedRGB = field(compare=False, repr=False)
    format: str
    width: int  # the source's upright size before any shrink-on-load
    height: int
    has_alpha: bool
    findings: tuple[Finding, ...] = ()


PACKED_MIN_PIXELS = 4_000_000  # below this a JPEG decode is small enough for Pillow's 4 bytes a pixel


@dataclass(frozen=True, slots=True)
class PackedRGB:
    """A large RGB decode held at 3 bytes a pixel (Pillow keeps RGB at 4), handing out Pillow
    images of the parts asked for. What the linear-light render and the fingerprint need of a
    source (`size`, `mode`, `crop`, `reduce`); anything else asks for `image()`, a full copy.
    """

    array: np.ndarray = field(repr=False)  # (h, w, 3) uint8: the pixels held, from `origin` on
    full: tuple[int, int] | None = None  # the image's size, when only a part of it is held (`keep`)
    origin: tuple[int, int] = (0, 0)
    mode = "RGB"

    @property
    def size(self) -> tuple[int, int]:
        return self.full or (self.array.shape[1], self.array.shape[0])

    def rows(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """The pixels of an integer box inside the part held, (h, w, 3) uint8 (a view)."""
        x0, y0, x1, y1 = box
        ox, oy = self.origin
        x0, y0, x1, y1 = x0 - ox, y0 - oy, x1 - ox, y1 - oy
        if x0 < 0 or y0 < 0 or x1 > self.array.shape[1] or y1 > self.array.shape[0]:
            msg = f"{box} is outside the part held ({ox}, {oy}) + {self.array.shape[1]}x{self.array.shape[0]}"
            raise ValueError(msg)
        return self.array[y0:y1, x0:x1]

    def keep(self, box: tuple[int, int, int, int]) -> PackedRGB:
        """Only the pixels of `box`: its rows are moved to the front of the same buffer, which is
        then shrunk (realloc), so the part is kept without ever holding a copy of it. A 4096x2304
        key art covered to a square reads 57 % of its columns: 15 of its 27 MiB are kept.

        `self` is spent: its array is the part now. Where something else still refers to the
        array (a view), nothing is moved and `self` comes back.
        """
        x0, y0, x1, y1 = box
        ox, oy = self.origin
        h, w = self.array.shape[:2]
        full = self.size
        lx, ly, nw, nh = x0 - ox, y0 - oy, x1 - x0, y1 - y0
        if (lx, ly, nw, nh) == (0, 0, w, h) or nw <= 0 or nh <= 0:
            return self
        if lx < 0 or ly < 0 or lx + nw > w or ly + nh > h:
            msg = f"{box} is outside the part held"
            raise ValueError(msg)
        # 2: this field and getrefcount's argument; a view, or another holder, would be more
        if not self.array.flags.owndata or not self.array.flags.c_contiguous or sys.getrefcount(self.array) > 2:
            return self
        flat = self.array.reshape(-1)
        row = nw * 3
        for i in range(nh):  # each row lands at or before where it was: rows not yet moved are intact
            start = ((ly + i) * w + lx) * 3
            if start != i * row:
                flat[i * row : (i + 1) * row] = flat[start : start + row]
        del flat
        # no view can exist (checked above); numpy's own refcheck also counts the reference a
        # profiler's call event holds (cProfile, pyinstrument), and fails after the rows moved
        self.array.resize((nh, nw, 3), refcheck=False)
        return PackedRGB(self.array, full=full, origin=(x0, y0))

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        return Image.fromarray(np.ascontiguousarray(self.rows(box)), "RGB")

    def channel(self, box: tuple[int, int, int, int], band: int) -> Image.Image:
        """`crop(box).getchannel(band)`, copying only that band."""
        return Image.fromarray(np.ascontiguousarray(self.rows(box)[..., band]), "L")

    def reduce(self, factor: int) -> Image.Image:
        return reduce_in_strips(self, factor)

    def image(self) -> Image.Image:
        if self.full is not None:
            msg = "only a part of this image is held"
            raise ValueError(msg)
        return Image.fromarray(self.array, "RGB")


def reduce_in_strips(im: Image.Image | PackedRGB, factor: int) -> Image.Image:
    """Pillow's `reduce(factor)` of `im`, a strip of whole blocks at a time: box means are
    local, so the result is the same. Pillow reduces RGBA through a premultiplied copy of the
    whole image (15 MB for a 2000x2000 cut-out, more than the reduce itself needs); an RGB
    image it reduces in place, so that is left to it. A PackedRGB has no Pillow image to reduce."""
    if isinstance(im, Image.Image) and im.mode != "RGBA":
        return im.reduce(factor)
    w, h = im.size
    out = Image.new(im.mode, (math.ceil(w / factor), math.ceil(h / factor)))
    rows = factor * max(1, STRIP_PIXELS // 4 // max(1, w * factor))  # each strip is copied twice
    for y in range(0, h, rows):
        out.paste(im.crop((0, y, w, min(h, y + rows))).reduce(factor), (0, y // factor))
    return out


def as_image(im: Image.Image | PackedRGB) -> Image.Image:
    """A Pillow image of `im` (a full copy of a PackedRGB)."""
    return im.image() if isinstance(im, PackedRGB) else im


# --- opening --------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """What a file that is not a supported image is, from its first bytes (None: no idea)."""
    if not head:
        return "empty file (0 bytes)"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:256].lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "SVG is a vector format and is not supported; export a PNG"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page, not an image (a failed download?)"
    if head[4:8] == b"ftyp":
        major = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if major in _HEIF_BRANDS or (not ({major} | compatible) & _AVIF_BRANDS and compatible & _HEIF_BRANDS):
            return "HEIC/HEIF is not supported; export a PNG or JPEG"
        if major in _AVIF_BRANDS or compatible & _AVIF_BRANDS:
            return None  # an AVIF Pillow could not decode: its own error says more
    if b"\x00" not in head[:512]:
        try:  # incremental: a character cut at byte 512 is not an error
            codecs.getincrementaldecoder("utf-8")().decode(head[:512], final=False)
        except UnicodeDecodeError:
            pass
        else:
            return "a text file, not an image"
    for magic, name in _MAGIC:
        if head.startswith(magic) or (name == "WebP" and head[:4] == b"RIFF" and head[8:12] == magic):
            return f"a {name} file whose header is damaged"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not an image"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file; refused so the build cannot hang on it"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is a device, not a regular file"


def _open(source: SourceFile) -> Image.Image:
    """Open without decoding pixels; every failure names the file and why."""
    rel = source.rel
    try:
        st = os.stat(source.path)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableImage(rel, _kind(st.st_mode))
        with source.path.open("rb") as fh:
            head = fh.read(512)
    except PermissionError:
        raise UnreadableImage(rel, "permission denied") from None
    except FileNotFoundError:
        raise UnreadableImage(rel, "file not found (moved or deleted during the build?)") from None
    except OSError as exc:
        raise UnreadableImage(rel, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise UnreadableImage(rel, "empty file (0 bytes)")
    try:
        return Image.open(source.path)
    except UnidentifiedImageError:
        raise UnreadableImage(rel, sniff(head) or "not a recognised image format") from None
    except Exception as exc:  # Pillow raises many types on hostile headers
        raise UnreadableImage(rel, _metadata_bomb(exc) or sniff(head) or f"corrupt image header ({_short(exc)})") from None


@contextlib.contextmanager
def _pillow_pixel_limit(limit: int | None) -> Iterator[None]:
    """Set Pillow's global bomb limit for the duration (the pipeline's workers are processes).

    Pillow checks it at open, warning above the limit and raising above twice it, with a message
    that names no file; some plugins check again while decoding or seeking. We open with no
    limit and check ours (the preset's render.max_pixels) right after, then decode with
    Pillow's set to half of ours, so its own checks refuse exactly what ours would. Other code
    in the process keeps Pillow's default.
    """
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _metadata_bomb(exc: BaseException) -> str | None:
    """The reason for Pillow's refusal to inflate a PNG's text or ICC chunk past its limits
    (a decompression bomb, or an editor's bloated metadata): not a damaged header."""
    text = str(exc)
    if isinstance(exc, ValueError) and ("MAX_TEXT_CHUNK" in text or "text chunks" in text):
        return ("a metadata chunk (text or ICC profile) inflates past the 1 MB safety limit; "
                "re-export the image without that metadata")
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


# --- shrinking and mode normalization ----------------------------------------------------------


def _shrink_factor(width: int, height: int, shrink_to: tuple[Literal["short", "long"], int] | None) -> float:
    """How much smaller than the source the decoded image may be."""
    if shrink_to is None:
        return 1.0
    side, keep = shrink_to
    basis = min(width, height) if side == "short" else max(width, height)
    return max(1.0, basis / max(1, keep))


Convert = Callable[[Image.Image], Image.Image]


def _scale_to_l(scale: float) -> Convert:
    """High-bit-depth grey (I;16, I, F) to 8-bit L: value * scale, rounded and clipped."""

    def convert(part: Image.Image) -> Image.Image:
        arr = np.asarray(part)
        if arr.dtype.kind == "f":
            arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
        out = np.clip(np.rint(arr.astype(np.float32) * np.float32(scale)), 0, 255).astype(np.uint8)
        return Image.fromarray(out)

    return convert


def _converter(im: Image.Image) -> Convert | None:
    """How to bring `im` into a mode `reduce()` and ImageCms handle (None: it already is).

    Decided on the whole image (its value range, its transparency key), then applied strip by
    strip.
    """
    mode = im.mode
    if mode.startswith("I;16"):
        return _scale_to_l(255.0 / 65535.0)
    if mode in ("I", "F"):
        extrema = im.getextrema()
        top = float(extrema[1]) if isinstance(extrema[1], (int, float)) else 0.0
        hi = top if math.isfinite(top) else 0.0
        if mode == "F" and hi <= 1.0:
            scale = 255.0  # float images hold 0-1
        elif hi <= 255:
            scale = 1.0
        elif hi <= 65535:
            scale = 255.0 / 65535.0
        else:
            scale = 255.0 / hi
        return _scale_to_l(scale)
    if mode == "1":
        return lambda p: p.convert("L")
    if mode in ("P", "PA"):
        target = "RGBA" if mode == "PA" or "transparency" in im.info else "RGB"
        return lambda p: p.convert(target)
    if mode in ("L", "RGB") and "transparency" in im.info:
        target = "LA" if mode == "L" else "RGBA"
        return lambda p: p.convert(target)
    if mode in ("La", "RGBa"):
        target = "LA" if mode == "La" else "RGBA"
        return lambda p: p.convert(target)
    if mode == "LAB":
        lab = ImageCms.createProfile("LAB")
        return lambda p: ImageCms.profileToProfile(p, lab, SRGB, outputMode="RGB") or p
    if mode in _REDUCIBLE:
        return None
    target = "RGBA" if "A" in mode else "RGB"
    return lambda p: p.convert(target)


PRECISE_BELOW = 64  # output alpha under which Pillow's 8-bit premultiplied reduce loses colour
MIXED_SHARE = 0.08  # a strip with more blocks of mixed alpha than this goes through Pillow's reduce
EXACT_CHUNK = 4096  # mixed-alpha blocks averaged at a time (their float32 copy: ~0.6 MB at 3x3)


def _exact_blocks(blocks: np.ndarray) -> np.ndarray:
    """The alpha-weighted mean colour and the mean alpha of each (n, bh, bw, 4) block, rounded.

    float32 holds every sum exactly (at most 255 * 255 * 16 * 16 < 2**24 for blocks of 16x16);
    the weighted sums are one batched (1 x n) @ (n x 4) product per block.
    """
    k, n = len(blocks), blocks.shape[1] * blocks.shape[2]
    px = blocks.reshape(k, n, 4).astype(np.float32)
    sums = np.matmul(px[:, None, :, 3], px)[:, 0]  # sum(a * c) for c in R, G, B, A
    total = px[..., 3].sum(axis=1)
    out = np.empty((k, 4), np.float32)
    np.divide(sums[:, :3], np.maximum(total, 1)[:, None], out=out[:, :3])
    np.divide(total, n, out=out[:, 3])
    out += 0.5
    np.floor(out, out=out)
    return out.astype(np.uint8)


def reduce_rgba(im: Image.Image, step: int, top: int = 0, pixels: np.ndarray | None = None) -> Image.Image:
    """`im.reduce(step)` of rows `top`.. of an RGBA image, with exact colour where Pillow's is not.

    Pillow reduces RGBA by premultiplying to 8 bits (a pixel of alpha `a` keeps only `a` levels
    of colour: a glow at alpha 6 came out tens of levels off, which a lossless PNG pays for),
    converting the whole strip twice on the way. Most blocks of real art are opaque or clear:
    there the plain mean of the bytes read as RGBX (one fast pass, which also gives the mean
    alpha that tells them apart) is the weighted one, and clear blocks are zero, as Pillow's;
    the few blocks of mixed alpha (anti-aliased edges) get the exact alpha-weighted mean from
    numpy. That is ~1.4x faster than Pillow's reduce on the corpus' cut-outs. A strip with many
    mixed blocks (a soft glow) is cheaper through Pillow: see `_reduce_rgba_soft`. `pixels`:
    `im`'s bytes as an (h, w, 4) array, when the image maps one (png_strips), read without a copy.
    """
    w, h = im.size
    src = (np.asarray(im) if pixels is None else pixels)[top:]
    # RGBX's fourth band is the mean alpha, as Pillow's own
    out = np.array(Image.frombuffer("RGBX", (w, h - top), src, "raw", "RGBX", 0, 1).reduce(step))
    alpha = out[..., 3]
    clear = alpha == 0  # nothing shows (Pillow's own alpha is 0 there too)
    mixed = ~clear & (alpha != 255)  # a mean of 255: every pixel >= 251, the plain mean is the weighted one to 2 %
    if mixed.mean() > MIXED_SHARE:
        return _reduce_rgba_soft(im, step, top, out)
    out[clear] = 0
    if mixed.any():
        n_rows, n_cols = out.shape[:2]
        fh, fw = src.shape[0] // step, w // step  # whole blocks; then a partial row and column
        for y0, y1 in ((0, fh), (fh, n_rows)):
            for x0, x1 in ((0, fw), (fw, n_cols)):
                part = mixed[y0:y1, x0:x1]
                if not part.any():
                    continue
                pix = src[y0 * step : y1 * step, x0 * step : x1 * step]
                bh, bw = pix.shape[0] // (y1 - y0), pix.shape[1] // (x1 - x0)
                grid = pix.reshape(y1 - y0, bh, x1 - x0, bw, 4)
                ys, xs = np.nonzero(part)
                for i in range(0, len(ys), EXACT_CHUNK):  # bounded float32 temporaries
                    cy, cx = ys[i : i + EXACT_CHUNK], xs[i : i + EXACT_CHUNK]
                    out[cy + y0, cx + x0] = _exact_blocks(grid[cy, :, cx])
    return Image.fromarray(out, "RGBA")


def _reduce_rgba_soft(im: Image.Image, step: int, top: int, plain: np.ndarray) -> Image.Image:
    """Pillow's reduce, with exact colour in faint, flat alpha: for strips of soft alpha.

    Where a block's alpha is flat, sum(colour * alpha) / sum(alpha) is the plain mean of its
    colours: `plain`, the strip reduced as RGBX. Blocks whose alpha varies keep Pillow's value:
    at low alpha their colour error stays under a level once composited.
    """
    w, h = im.size
    fast = im.reduce(step, box=(0, top, w, h))
    fh, fw = (h - top) // step, w // step  # whole blocks (a partial edge block keeps Pillow's value)
    if fh == 0 or fw == 0:
        return fast
    alpha = np.asarray(fast.getchannel("A"))[:fh, :fw]
    low = (alpha > 0) & (alpha < PRECISE_BELOW)
    if not low.any():
        return fast
    a = np.asarray(im.getchannel("A"))[top : top + fh * step, : fw * step]
    amax, amin = a[::step, ::step].copy(), a[::step, ::step].copy()
    for dy in range(step):
        for dx in range(step):
            np.maximum(amax, a[dy::step, dx::step], out=amax)
            np.minimum(amin, a[dy::step, dx::step], out=amin)
    flat = low & (amax - amin <= 1)
    if flat.any():
        fast.paste(Image.fromarray(np.ascontiguousarray(plain[:fh, :fw]), "RGBA"), (0, 0),
                   Image.fromarray(flat.view(np.uint8) * np.uint8(255)))
    return fast


def _shrink_and_normalize(im: Image.Image, step: int, *, streamed: bool = False) -> Image.Image:
    """`im` in a light mode, `reduce(step)`-ed, without a full-size copy of the image.

    Strips are a multiple of `step` rows tall, so the result is identical to reducing the
    whole image; each strip is converted, reduced and pasted, then dropped. `streamed`: `im` is
    an unloaded PNG whose strips are decoded one at a time (png_strips.py), so not even the
    decode is held whole.
    """
    convert = _converter(im)
    if step <= 1:
        whole = png_strips.decode_whole(im) if streamed else im  # streamed: for zlib-ng's inflate alone
        return convert(whole) if convert is not None else whole
    if convert is None and im.mode in ("L", "RGB", "CMYK") and not streamed:
        return im.reduce(step)  # no conversion and no premultiplying: Pillow reduces without a copy
    w, h = im.size
    # a streamed strip passes through four buffers (inflated rows, decoded strip, Pillow's
    # premultiplied copy, the reduced part): a quarter of the usual strip keeps them in cache
    pixels = STRIP_PIXELS // 4 if streamed else STRIP_PIXELS
    rows = step * max(1, pixels // max(1, w * step))
    parts = png_strips.strips(im, rows) if streamed else ((im.crop((0, y, w, min(h, y + rows))), 0, None) for y in range(0, h, rows))
    out: Image.Image | None = None
    for y, (part, top, array) in zip(range(0, h, rows), parts, strict=True):
        if convert is not None:
            part, array = convert(part), None
        if part.mode == "RGBA":
            part = reduce_rgba(part, step, top, array)
        else:
            part = part.reduce(step, box=(0, top, w, part.height))
        if out is None:
            out = Image.new(part.mode, (math.ceil(w / step), math.ceil(h / step)))
        out.paste(part, (0, y // step))
    assert out is not None
    return out


# --- the loader ----------------------------------------------------------------------------------


def _orientation(im: Image.Image, *, loaded: bool = True) -> int:
    try:
        # an unloaded PNG's own getexif() would decode it whole to look for a late eXIf chunk;
        # png_strips has read those chunks already
        value = (im.getexif() if loaded else Image.Image.getexif(im)).get(0x0112, 1)
    except Exception:  # corrupt EXIF: the pixels may still be fine
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def _frames_finding(im: Image.Image, fmt: str, rel: str) -> Finding | None:
    if not getattr(im, "is_animated", False) or fmt in _NON_ANIMATED_MULTIFRAME:
        return None
    n = getattr(im, "n_frames", "?")
    if fmt == "TIFF":
        return Finding(code="multipage", source=rel, message=f"TIFF with {n} pages: using the first page")
    return Finding(code="animated", source=rel, message=f"animated {fmt} ({n} frames): using the first frame")


def load_image(
    source: SourceFile,
    *,
    max_pixels: int = 150_000_000,
    shrink_to: tuple[Literal["short", "long"], int] | None = None,
    packed: bool = False,
) -> LoadedImage:
    """Decode `source` into upright 8-bit sRGB RGB or RGBA.

    `shrink_to=("short", n)` lets the loader decode or reduce the image as long as its short
    side stays >= n (a JPEG's DCT scaling, then an integer `reduce()`): callers ask for about
    twice the target size so the final LANCZOS step still has room to work.

    `packed`: the caller can take a PackedRGB, which a large JPEG that is neither shrunk,
    turned nor colour-converted is decoded into (3 bytes a pixel instead of Pillow's 4).

    Raises UnreadableImage or ImageTooLarge (both AssetError); nothing else escapes.
    """
    with warnings.catch_warnings():
        # Pillow warns about odd but readable files (corrupt EXIF, palette transparency); the
        # loader turns what matters into findings, the rest would only be noise
        warnings.simplefilter("ignore")
        with _pillow_pixel_limit(None):
            opened = _open(source)
        try:
            with _pillow_pixel_limit(max(1, max_pixels // 2)):
                return _load(opened, source, max_pixels=max_pixels, shrink_to=shrink_to, packed=packed)
        except AssetError:
            raise
        except MemoryError:
            raise ImageTooLarge(source.rel, "not enough memory to decode") from None
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(source.rel, _short(exc)) from None
        except Exception as exc:  # hostile or damaged data: Pillow's plugins raise many types
            log.debug("decoding %s failed", source.rel, exc_info=True)
            raise UnreadableImage(source.rel, _metadata_bomb(exc) or f"truncated or corrupt image data ({_short(exc)})") from None
        finally:
            opened.close()  # the normalized copy lives on; the file handle and full image do not


def _packed(im: Image.Image, source: SourceFile, icc: bytes | None) -> PackedRGB | None:
    """`im` (an opened JPEG) decoded by simplejpeg into a PackedRGB, when that is the same
    pixels as Pillow's decode: RGB, upright, already sRGB. None otherwise, or on any error
    (Pillow then decodes it, and reports what is wrong)."""
    if im.mode != "RGB" or im.width * im.height < PACKED_MIN_PIXELS or _orientation(im) != 1:
        return None
    if not _srgb_already(icc, source):  # a colour transform to make, or a profile to report: Pillow's path
        return None
    try:
        if os.stat(source.path).st_size >= im.width * im.height:
            return None  # the file is held while it decodes: packed must cost less than Pillow's 4th byte
        import simplejpeg  # type: ignore[import-untyped]

        data = source.path.read_bytes()
        # libjpeg-turbo, as in Pillow: same IDCT and upsampling, so the same pixels
        array = simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=False, fastupsample=False)
    except Exception:  # noqa: BLE001 - damaged data, an odd JPEG: Pillow's path says what is wrong
        log.debug("simplejpeg could not decode %s; using Pillow", source.rel, exc_info=True)
        return None
    if array.shape != (im.height, im.width, 3):
        return None
    return PackedRGB(array)


def _srgb_already(icc: bytes | None, source: SourceFile) -> bool:
    """Whether the pixels need no colour transform and the profile no finding."""
    probe = Image.new("RGB", (1, 1))
    out, found = to_srgb(probe, icc, source.rel)
    return out is probe and not found


def _packed_png(im: Image.Image, source: SourceFile, icc: bytes | None) -> PackedRGB | Image.Image | None:
    """A full-size RGB PNG (8 or 16 bits, no transparency key, sRGB) decoded into a PackedRGB;
    an Image where a late eXIf turns it (PackedRGB does not transpose); None: not such a PNG."""
    if im.mode != "RGB" or "transparency" in im.info or im.width * im.height < PACKED_MIN_PIXELS:
        return None
    if not _srgb_already(icc, source):
        return None
    array = png_strips.decode_rgb(im)
    if _orientation(im, loaded=False) != 1:
        return Image.fromarray(array, "RGB")
    return PackedRGB(array)


INFLATE_BOUND = 1 / 16  # compressed / raw pixel bytes above which a full-size PNG decode is mostly inflate


def _inflate_bound(im: Image.Image, source: SourceFile) -> bool:
    """Whether a PNG kept at its full size decodes faster strip by strip, for zlib-ng's inflate
    (the system zlib Pillow links is the slower one): where the file is large for its pixels.
    Measured at full size (png_strips.decode_whole): a 16-bit sky photo (0.55 of its raw bytes)
    230 -> 170 ms, a photo cut-out (0.16) 163 -> 137 ms; flat art inflates fast either way and
    pays for the strips (a palette logo at 0.006: +40 % when streamed)."""
    return source.size >= png_strips.raw_bytes(im) * INFLATE_BOUND


def _draft(im: Image.Image, fmt: str, shrink_to: tuple[Literal["short", "long"], int] | None) -> tuple[float, int]:
    """(how much smaller than the source the decode may be, the integer reduce left after a
    JPEG's DCT scaling), the scaling set on the unloaded `im`."""
    width, height = im.size
    factor = _shrink_factor(width, height, shrink_to)
    if fmt in ("JPEG", "MPO") and factor >= 2:
        # libjpeg's DCT scaling: 1/2, 1/4 or 1/8, never below the size asked for
        im.draft(None, (math.ceil(width / factor), math.ceil(height / factor)))
    return factor, int(_shrink_factor(*im.size, shrink_to))


def held_pixels(path: Path, shrink_to: tuple[Literal["short", "long"], int] | None) -> int:
    """About how many pixels `load_image` holds of the file at `path`, from its header alone
    (0 where it cannot tell): the source's size after DCT scaling and the integer reduce."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a bomb's warning is the loader's to turn into an error
            with Image.open(path) as im:
                _, step = _draft(im, im.format or "", shrink_to)
                w, h = im.size
    except Exception:  # noqa: BLE001 - an unreadable file fails, with its reason, in its task
        return 0
    step = max(1, step)
    return math.ceil(w / step) * math.ceil(h / step)


def _load(im: Image.Image, source: SourceFile, *, max_pixels: int, shrink_to: tuple[Literal["short", "long"], int] | None,
          packed: bool = False) -> LoadedImage:
    rel = source.rel
    width, height = im.size
    if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE:
        raise ImageTooLarge(rel, f"absurd dimensions {width}x{height} (the limit is {MAX_SIDE} per side)")
    if width * height > max_pixels:
        msg = f"{width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit of {max_pixels / 1e6:.0f} (render.max_pixels)"
        raise ImageTooLarge(rel, msg)
    fmt = im.format or "unknown"
    findings: list[Finding] = []
    frames = _frames_finding(im, fmt, rel)
    if frames is not None:
        findings.append(frames)
    icc = im.info.get("icc_profile")
    factor, step = _draft(im, fmt, shrink_to)
    if packed and fmt == "JPEG" and factor < 2 and step < 2:
        pixels = _packed(im, source, icc if isinstance(icc, bytes) else None)
        if pixels is not None:
            return LoadedImage(source=source, image=pixels, format=fmt, width=width, height=height, has_alpha=False,
                               findings=tuple(findings))
    streamed = png_strips.streamable(im) and (step >= 2 or _inflate_bound(im, source))
    whole = _packed_png(im, source, icc if isinstance(icc, bytes) else None) if packed and streamed and step < 2 else None
    if isinstance(whole, PackedRGB):
        return LoadedImage(source=source, image=whole, format=fmt, width=width, height=height, has_alpha=False,
                           findings=tuple(findings))
    if not streamed:
        im.load()
    out = whole if whole is not None else _shrink_and_normalize(im, step, streamed=streamed)
    # read after the pixels: a PNG's eXIf may follow them, and Pillow's TIFF reader turns the
    # image itself and clears the tag (reading it earlier would turn TIFFs twice); an AVIF's
    # irot/imir boxes arrive as this same tag
    orientation = _orientation(im, loaded=not streamed)
    if orientation in _ORIENT:
        out = out.transpose(_ORIENT[orientation])
    out, icc_findings = to_srgb(out, icc if isinstance(icc, bytes) else None, rel)
    findings.extend(icc_findings)
    if out.mode == "LA":
        out = out.convert("RGBA")
    elif out.mode not in ("RGB", "RGBA"):
        out = out.convert("RGB")
    has_alpha = False
    if out.mode == "RGBA":
        if out.getchannel("A").getextrema()[0] == 255:
            out = out.convert("RGB")  # an opaque alpha channel carries nothing
        else:
            has_alpha = True
    if out is im:
        # the opened image is closed on return, which drops its pixels: a new image object on
        # the same pixels keeps them without a copy (a 4096x2304 JPEG that is not shrunk is 38 MB)
        out = im._new(im.im)
    out.info.clear()  # nothing of the source's metadata travels on
    up_w, up_h = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return LoadedImage(
        source=source, image=out, format=fmt, width=up_w, height=up_h,
        has_alpha=has_alpha, findings=tuple(findings),
    )

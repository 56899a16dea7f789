"""Open and verify a source, then normalize it to 8-bit sRGB RGB/RGBA, upright, as small as the job allows.

Order matters for memory: the image is shrunk (JPEG draft, then `reduce()`) before any
full-size copy is made by colour or mode conversion, so a 60-megapixel source is held
about once.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import ImageTooLarge, UnreadableImage
from .records import Finding, SourceFile

# We enforce our own, configurable pixel limit before decoding (load_image's max_pixels);
# Pillow's global bomb check would otherwise warn or raise with a message naming no file.
Image.MAX_IMAGE_PIXELS = None

try:  # AVIF through the plugin where Pillow has no AVIF of its own
    import pillow_avif  # noqa: F401
except ImportError:  # pragma: no cover - the plugin is a dependency
    pass

_MAX_SIDE = 65_535  # no image format we read legitimately goes past this
_SRGB = ImageCms.createProfile("sRGB")
_NON_ANIMATED_MULTIFRAME = {"PSD", "TIFF", "MPO", "ICO", "ICNS"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedImage:
    """A decoded, normalized source. `image` is RGB or RGBA, 8-bit sRGB, upright."""

    source: SourceFile
    image: Image.Image = field(compare=False, repr=False)
    format: str
    width: int  # the source's upright size before any shrink-on-load
    height: int
    has_alpha: bool
    findings: tuple[Finding, ...] = ()


def _sniff(head: bytes) -> str:
    """Why Pillow could not identify a file, in words an artist understands."""
    text = head.lstrip()[:256].lower()
    if not head:
        return "empty file (0 bytes)"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "SVG is a vector format and is not supported; export a PNG"
    if text.startswith((b"<!doctype html", b"<html")):
        return "an HTML page, not an image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "HEIC/HEIF is not supported; export a PNG or JPEG"
    if b"\x00" not in head[:512]:
        return "a text file, not an image"
    return "not a recognised image format"


def _open(source: SourceFile) -> Image.Image:
    try:
        with source.path.open("rb") as fh:
            head = fh.read(512)
    except PermissionError:
        raise UnreadableImage(source.rel, "permission denied") from None
    except IsADirectoryError:
        raise UnreadableImage(source.rel, "is a directory, not an image") from None
    except OSError as exc:
        raise UnreadableImage(source.rel, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise UnreadableImage(source.rel, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(source.path)
    except UnidentifiedImageError:
        raise UnreadableImage(source.rel, _sniff(head)) from None
    except Exception as exc:  # Pillow raises many types on hostile headers
        raise UnreadableImage(source.rel, f"corrupt image header ({_short(exc)})") from None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _shrink_factor(width: int, height: int, shrink_to: tuple[Literal["short", "long"], int] | None) -> float:
    """How much smaller than the source the decoded image may be."""
    if shrink_to is None:
        return 1.0
    side, keep = shrink_to
    basis = min(width, height) if side == "short" else max(width, height)
    return max(1.0, basis / max(1, keep))


def _to_8bit(im: Image.Image) -> Image.Image:
    """Modes Pillow would clip or refuse (I;16, I, F) scaled to 8-bit grey."""
    import numpy as np

    arr = np.asarray(im)
    if im.mode == "F":
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = float(arr.max()) if arr.size else 1.0
        scale = 255.0 if top <= 1.0 else (1.0 if top <= 255.0 else 255.0 / 65535.0)
    else:
        arr = arr.astype(np.float64)
        top = float(arr.max()) if arr.size else 0.0
        scale = 1.0 if top <= 255 else 255.0 / 65535.0  # I and I;16 carry 16-bit samples
    out = np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "L")


def _light_mode(im: Image.Image) -> Image.Image:
    """Bring exotic modes into one `reduce()` and ImageCms understand, cheaply."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _to_8bit(im)
    if im.mode == "1":
        return im.convert("L")
    if im.mode == "P":
        has_t = "transparency" in im.info
        return im.convert("RGBA" if has_t else "RGB")
    if im.mode == "PA":
        return im.convert("RGBA")
    if im.mode in ("La",):
        return im.convert("LA")
    if im.mode in ("RGBa",):
        return im.convert("RGBA")
    if im.mode in ("YCbCr", "LAB", "HSV", "RGBX"):
        return im.convert("RGB")
    return im


def _apply_icc(im: Image.Image, icc: bytes | None, rel: str) -> tuple[Image.Image, list[Finding]]:
    """Convert to sRGB through the embedded profile; keep alpha aside (lcms ignores it)."""
    findings: list[Finding] = []
    if not icc:
        if im.mode == "CMYK":
            return im.convert("RGB"), findings
        return im, findings
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = src.profile.xcolor_space.strip()
        desc = (src.profile.profile_description or "").strip()
    except Exception:  # a broken profile must not stop the build: say so and go on
        findings.append(Finding(code="icc_invalid", source=rel, message="embedded ICC profile is unreadable; treated as sRGB"))
        return (im.convert("RGB") if im.mode == "CMYK" else im), findings
    if space == "RGB" and desc.lower().startswith("srgb"):
        return im, findings  # already sRGB: skip the transform
    alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
    base_mode = {"RGBA": "RGB", "LA": "L"}.get(im.mode, im.mode)
    want_in = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}.get(space)
    if want_in is None:
        findings.append(Finding(code="icc_unsupported", source=rel, message=f"ICC colour space {space!r} not supported; treated as sRGB"))
        return im.convert("RGBA" if alpha else "RGB"), findings
    base = im.convert(base_mode) if im.mode != base_mode else im
    if base.mode != want_in:
        findings.append(Finding(code="icc_mismatch", source=rel, message=f"ICC profile is {space} but pixels are {base.mode}; profile ignored"))
        out = base.convert("RGB")
    else:
        try:
            out = ImageCms.profileToProfile(
                base, src, _SRGB, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="RGB",
                flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
            )
        except Exception as exc:
            findings.append(Finding(code="icc_failed", source=rel, message=f"colour conversion failed ({_short(exc)}); treated as sRGB"))
            out = base.convert("RGB")
        else:
            findings.append(Finding(code="icc_converted", source=rel, message=f"converted from {desc or space} to sRGB"))
    assert out is not None
    if alpha is not None:
        out.putalpha(alpha)
    return out, findings


def load_image(
    source: SourceFile,
    *,
    max_pixels: int = 150_000_000,
    shrink_to: tuple[Literal["short", "long"], int] | None = None,
) -> LoadedImage:
    """Decode `source` into upright 8-bit sRGB RGB or RGBA.

    `shrink_to=("short", n)` lets the loader decode or reduce the image as long as its short
    side stays >= n (a JPEG's DCT scaling, then an integer `reduce()`): callers ask for about
    twice the target size so the final LANCZOS step still has room to work.
    """
    im = opened = _open(source)
    findings: list[Finding] = []
    try:
        width, height = im.size
        if width <= 0 or height <= 0 or width > _MAX_SIDE or height > _MAX_SIDE:
            raise ImageTooLarge(source.rel, f"absurd dimensions {width}x{height}")
        if width * height > max_pixels:
            msg = f"{width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit of {max_pixels / 1e6:.0f} (render.max_pixels)"
            raise ImageTooLarge(source.rel, msg)
        fmt = im.format or "unknown"
        if getattr(im, "is_animated", False) and fmt not in _NON_ANIMATED_MULTIFRAME:
            findings.append(Finding(code="animated", source=source.rel, message=f"animated {fmt} ({getattr(im, 'n_frames', '?')} frames): using the first frame"))
            im.seek(0)
        factor = _shrink_factor(width, height, shrink_to)
        if fmt == "JPEG" and factor >= 2:
            scale = 1.0 / factor
            im.draft(None, (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
        icc = im.info.get("icc_profile")
        exif_orientation = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.load()
        im = _light_mode(im)
        # integer reduce while the short (or long) side stays above what the caller needs
        if shrink_to is not None:
            factor = _shrink_factor(*im.size, shrink_to)
            step = int(factor)
            if step >= 2 and im.mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
                im = im.reduce(step)
        if exif_orientation not in (None, 1):
            exif = im.getexif()
            exif[0x0112] = exif_orientation  # the light-mode copy may have lost the tag
            im = ImageOps.exif_transpose(im) or im
        im, icc_findings = _apply_icc(im, icc, source.rel)
        findings.extend(icc_findings)
        if im.mode == "LA":
            im = im.convert("RGBA")
        elif im.mode != "RGBA" and im.mode != "RGB":
            im = im.convert("RGB")
        has_alpha = False
        if im.mode == "RGBA":
            lo, _hi = im.getchannel("A").getextrema()  # type: ignore[misc]
            if lo == 255:
                im = im.convert("RGB")  # an opaque alpha channel carries nothing
            else:
                has_alpha = True
        im.info.clear()  # nothing of the source's metadata travels on
        up_w, up_h = (height, width) if exif_orientation in (5, 6, 7, 8) else (width, height)
        return LoadedImage(
            source=source, image=im, format=fmt, width=up_w, height=up_h,
            has_alpha=has_alpha, findings=tuple(findings),
        )
    except (UnreadableImage, ImageTooLarge):
        raise
    except MemoryError:
        raise ImageTooLarge(source.rel, "not enough memory to decode") from None
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(source.rel, _short(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error, ZeroDivisionError) as exc:
        raise UnreadableImage(source.rel, f"truncated or corrupt image data ({_short(exc)})") from None
    finally:
        if im is not opened:
            opened.close()  # the decoded copy lives on; the file handle does not

"""Colour: embedded ICC profiles (RGB, grey, CMYK) to 8-bit sRGB through LittleCMS.

Relative colorimetric intent with black-point compensation (Photoshop's default); alpha is set
aside and put back, since LittleCMS ignores it. docs/formats.md ("Colour") gives the accuracy
the tests hold it to.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms

from .records import Finding

SRGB = ImageCms.createProfile("sRGB")
ICC_EXACT_TOLERANCE = 2  # levels of 255: above this, LittleCMS's 8-bit shortcut is not used


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


def _probe_pixels(mode: str) -> Image.Image:
    """A small image spanning the input space: grid plus a full ramp per channel."""
    if mode == "L":
        return Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16))
    n = 4 if mode == "CMYK" else 3
    levels = np.linspace(0, 255, 7 if n == 4 else 16).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(*([levels] * n), indexing="ij"), axis=-1).reshape(-1, n)
    ramp = np.arange(256, dtype=np.uint8)
    ramps = [np.zeros((256, n), np.uint8) for _ in range(n)]
    for i, r in enumerate(ramps):
        r[:, i] = ramp
    grey = np.repeat(ramp[:, None], n, axis=1) if n == 3 else np.zeros((256, n), np.uint8)
    if n == 4:
        grey[:, 3] = ramp
    pixels = np.concatenate([grid, *ramps, grey])
    pixels = np.concatenate([pixels, np.zeros((-len(pixels) % 64, n), np.uint8)])
    return Image.fromarray(pixels.reshape(-1, 64, n), mode)


@functools.lru_cache(maxsize=32)
def _transform(icc: bytes, mode: str) -> tuple[ImageCms.ImageCmsTransform, bool]:
    """The profile -> sRGB transform for `mode` pixels, and whether it is the exact (slow) one.

    LittleCMS optimizes 8-bit transforms into lookup tables that are within a level or two for
    usual profiles (sRGB-like curves), but can be 10 levels off in the shadows of steep ones
    (a linear-gamma profile). Both are tried on a probe image; the fast one is kept when it
    agrees with the exact one within ICC_EXACT_TOLERANCE levels.
    """
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    intent = ImageCms.Intent.RELATIVE_COLORIMETRIC
    bpc = ImageCms.Flags.BLACKPOINTCOMPENSATION
    fast = ImageCms.buildTransform(src, SRGB, mode, "RGB", renderingIntent=intent, flags=bpc)
    exact = ImageCms.buildTransform(src, SRGB, mode, "RGB", renderingIntent=intent, flags=bpc | ImageCms.Flags.NOOPTIMIZE)
    probe = _probe_pixels(mode)
    a = np.asarray(ImageCms.applyTransform(probe, fast), dtype=np.int16)
    b = np.asarray(ImageCms.applyTransform(probe, exact), dtype=np.int16)
    if int(np.abs(a - b).max()) <= ICC_EXACT_TOLERANCE:
        return fast, False
    return exact, True


def to_srgb(im: Image.Image, icc: bytes | None, rel: str) -> tuple[Image.Image, list[Finding]]:
    """Convert to sRGB through the embedded profile; keep alpha aside (lcms ignores it)."""
    findings: list[Finding] = []
    if not icc:
        if im.mode == "CMYK":
            findings.append(Finding(code="cmyk_no_profile", source=rel, message="CMYK without an ICC profile: converted with a plain formula; colours may be off (embed the print profile)"))
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
    base = im.convert(base_mode) if im.mode != base_mode else im
    if want_in is None:
        findings.append(Finding(code="icc_unsupported", source=rel, message=f"ICC colour space {space!r} not supported; treated as sRGB"))
        out = base.convert("RGB")
    elif base.mode != want_in:
        findings.append(Finding(code="icc_mismatch", source=rel, message=f"ICC profile is {space} but pixels are {base.mode}; profile ignored"))
        out = base.convert("RGB")
    else:
        try:
            transform, exact = _transform(icc, want_in)
            out = ImageCms.applyTransform(base, transform) or base
        except Exception as exc:
            findings.append(Finding(code="icc_failed", source=rel, message=f"colour conversion failed ({_short(exc)}); treated as sRGB"))
            out = base.convert("RGB")
        else:
            how = " (exact transform)" if exact else ""
            findings.append(Finding(code="icc_converted", source=rel, message=f"converted from {desc or space} to sRGB{how}"))
    assert out is not None
    if alpha is not None:
        out.putalpha(alpha)
    return out, findings

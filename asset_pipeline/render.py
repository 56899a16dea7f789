"""Fit a loaded image to the target square: cover, contain or attention, resampled in linear light.

Fit words follow CSS `object-fit` (as sharp does): `cover` crops the centre, `contain` pads
with the background colour, `attention` crops where the art's salient part is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .load import LoadedImage
from .records import FITS, Finding, RenderSpec
COVER_CROP_WARN = 0.20  # SPEC 5: warn when cover crops away more than 20 % of the area

# sRGB transfer curve as lookup tables (8-bit in, float out; 4096-entry table back)
_LIN = np.where(
    (v := np.arange(256) / 255.0) <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4
).astype(np.float32)
_ENC_N = 4096
_ENC = np.clip(
    np.rint(
        255.0
        * np.where(
            (u := np.linspace(0.0, 1.0, _ENC_N)) <= 0.0031308, u * 12.92, 1.055 * u ** (1 / 2.4) - 0.055
        )
    ),
    0,
    255,
).astype(np.uint8)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition:
    """The loaded image fitted to one target size."""

    image: Image.Image = field(compare=False, repr=False)
    fit: str
    crop: tuple[int, int, int, int]  # the box taken from the loaded image
    has_alpha: bool
    findings: tuple[Finding, ...] = ()


def _to_linear(band: np.ndarray) -> np.ndarray:
    return _LIN[band]


def _from_linear(arr: np.ndarray) -> np.ndarray:
    idx = np.clip(np.rint(arr * (_ENC_N - 1)), 0, _ENC_N - 1).astype(np.int32)
    return _ENC[idx]


def resize(im: Image.Image, size: tuple[int, int], box: tuple[float, float, float, float], *, linear: bool) -> Image.Image:
    """LANCZOS resize of `box` to `size`; in linear light with premultiplied alpha when `linear`."""
    if not linear:
        return im.resize(size, Image.Resampling.LANCZOS, box=box)  # Pillow premultiplies RGBA itself
    arr = np.asarray(im)
    lin = _to_linear(arr[..., :3])
    alpha = arr[..., 3].astype(np.float32) / 255.0 if im.mode == "RGBA" else None
    if alpha is not None:
        lin *= alpha[..., None]  # premultiply so transparent pixels do not bleed colour
    bands = [
        np.asarray(Image.fromarray(np.ascontiguousarray(lin[..., c]), "F").resize(size, Image.Resampling.LANCZOS, box=box))
        for c in range(3)
    ]
    out = np.stack(bands, axis=-1)
    if alpha is not None:
        a = np.asarray(Image.fromarray(alpha, "F").resize(size, Image.Resampling.LANCZOS, box=box))
        a = np.clip(a, 0.0, 1.0)
        safe = np.where(a > 1e-6, a, 1.0)
        out = out / safe[..., None]
        rgb = _from_linear(np.clip(out, 0.0, 1.0))
        a8 = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(np.dstack([rgb, a8]), "RGBA")
    return Image.fromarray(_from_linear(np.clip(out, 0.0, 1.0)), "RGB")


def saliency_offset(im: Image.Image, side: int) -> tuple[int, int]:
    """Top-left corner of the `side` square holding the most salient content of `im`.

    Saliency is edge energy plus colour distance from the image's mean colour, measured on a
    small copy; a slight pull to the centre breaks ties on flat art.
    """
    w, h = im.size
    if w == h:
        return 0, 0
    scale = 256 / max(w, h)
    small = im.convert("RGB").resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    arr = np.asarray(small, dtype=np.float32)
    lum = arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gy, gx = np.gradient(lum)
    energy = np.hypot(gx, gy)
    colour = np.linalg.norm(arr - arr.reshape(-1, 3).mean(axis=0), axis=-1)
    sal = energy / (energy.mean() + 1e-6) + colour / (colour.mean() + 1e-6)
    if im.mode == "RGBA":
        sal *= np.asarray(im.getchannel("A").resize(small.size), dtype=np.float32) / 255.0
    along = sal.sum(axis=0) if w > h else sal.sum(axis=1)
    n = along.size
    win = max(1, min(n, round(side * scale)))
    sums = np.convolve(along, np.ones(win, dtype=np.float32), mode="valid")
    pos = np.arange(sums.size)
    centre = (sums.size - 1) / 2
    bias = 1.0 - 0.05 * np.abs(pos - centre) / max(centre, 1)
    best = int(np.argmax(sums * bias))
    offset = round(best / scale)
    offset = max(0, min(offset, (w if w > h else h) - side))
    return (offset, 0) if w > h else (0, offset)


def render(loaded: LoadedImage, spec: RenderSpec, *, linear_light: bool = True) -> Rendition:
    """Fit `loaded` to `spec` (never modifies `loaded.image`)."""
    im = loaded.image
    w, h = im.size
    tw, th = spec.width, spec.height
    findings: list[Finding] = []
    rel = loaded.source.rel
    if spec.fit not in FITS:
        msg = f"unknown fit {spec.fit!r}"
        raise ValueError(msg)
    if spec.fit == "contain":
        scale = min(tw / w, th / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        inner = resize(im, (nw, nh), (0, 0, w, h), linear=linear_light)
        canvas = Image.new(im.mode, (tw, th), spec.background + ((255,) if im.mode == "RGBA" else ()))
        canvas.paste(inner, ((tw - nw) // 2, (th - nh) // 2))
        out, crop = canvas, (0, 0, w, h)
        upscale = max(tw / loaded.width, th / loaded.height) if loaded.width and loaded.height else 1.0
        src_fit = max(loaded.width / tw, loaded.height / th)
        upscaled = src_fit < 1.0
    else:
        target_ratio = tw / th
        if w / h > target_ratio:
            cw, ch = round(h * target_ratio), h
        else:
            cw, ch = w, round(w / target_ratio)
        if spec.fit == "attention":
            x0, y0 = saliency_offset(im, max(cw, ch)) if cw != w or ch != h else (0, 0)
            x0, y0 = min(x0, w - cw), min(y0, h - ch)
        else:
            x0, y0 = (w - cw) // 2, (h - ch) // 2
        crop = (x0, y0, x0 + cw, y0 + ch)
        out = resize(im, (tw, th), crop, linear=linear_light)
        cropped = 1.0 - (cw * ch) / (w * h)
        if cropped > COVER_CROP_WARN:
            findings.append(
                Finding(
                    code="cover_crop", source=rel, value=round(cropped, 3),
                    message=f"{spec.fit} crop cuts {cropped:.0%} of the art (keep the subject inside the centre square, or use fit = \"contain\")",
                )
            )
        upscale = max(tw / min(loaded.width, loaded.height) * (1 if tw == th else 1), 1.0)
        upscaled = min(loaded.width, loaded.height) < min(tw, th)
    if upscaled:
        findings.append(
            Finding(
                code="upscaled", source=rel, value=round(upscale, 3),
                message=f"source {loaded.width}x{loaded.height} is smaller than the {tw}x{th} target: upscaled {upscale:.2f}x",
            )
        )
    has_alpha = out.mode == "RGBA" and out.getchannel("A").getextrema()[0] < 255  # type: ignore[index]
    if out.mode == "RGBA" and not has_alpha:
        out = out.convert("RGB")
    return Rendition(image=out, fit=spec.fit, crop=crop, has_alpha=has_alpha, findings=tuple(findings))

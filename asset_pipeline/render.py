"""Fit a loaded image to the target size: cover, contain or attention, resampled in linear light.

Fit words follow CSS `object-fit` (as sharp does): `cover` crops the centre, `contain` pads
with the background colour, `attention` crops where the art's salient part is. The final
LANCZOS step runs in linear light on premultiplied alpha (docs/formats.md says why and what it
costs); the loader has already shrunk the source to at most about twice the target.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageMath

from . import resample as rs
from .load import LoadedImage, PackedRGB, as_image
from .records import FITS, Finding, RenderSpec

COVER_CROP_WARN = 0.20  # SPEC 5: warn when cover crops away more than 20 % of the area
LANCZOS_SUPPORT = 3.0  # Pillow's LANCZOS is Lanczos-3
REDUCING_GAP = 2.0  # box-reduce first only while the remaining LANCZOS step is >= 2x (Pillow's idea)

# sRGB transfer curve (IEC 61966-2-1): 8-bit in, float32 out, and a 16-bit-indexed table back,
# fine enough that every 8-bit value survives the round trip exactly
_LIN = np.where(
    (v := np.arange(256) / 255.0) <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4
).astype(np.float32)
_LIN_LIST = [float(x) for x in _LIN]
_ENC_N = 65536
_ENC = np.clip(
    np.rint(255.0 * np.where((u := np.linspace(0.0, 1.0, _ENC_N)) <= 0.0031308, u * 12.92, 1.055 * u ** (1 / 2.4) - 0.055)),
    0, 255,
).astype(np.uint8)
_UNIT_LIST = [i / 255.0 for i in range(256)]
_UNIT = np.array(_UNIT_LIST, dtype=np.float32)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition:
    """The loaded image fitted to one target size."""

    image: Image.Image = field(compare=False, repr=False)
    fit: str
    crop: tuple[int, int, int, int]  # the box taken from the loaded image
    has_alpha: bool
    findings: tuple[Finding, ...] = ()


def _from_linear(arr: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """Linear float (0-1; premultiplied by `alpha` when given) to 8-bit sRGB, with one float copy."""
    work = np.divide(arr, alpha) if alpha is not None else np.array(arr)
    np.clip(work, 0.0, 1.0, out=work)
    work *= _ENC_N - 1
    np.rint(work, out=work)
    return np.take(_ENC, work.astype(np.uint16))  # np.take: 2.5x numpy's fancy indexing for a table


def _alpha(resized: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A resized float alpha band: (its 8-bit values, the divisor that makes colour straight again)."""
    safe = np.clip(resized, 0.0, 1.0)
    alpha8 = np.rint(safe * 255.0).astype(np.uint8)
    np.copyto(safe, np.float32(1.0), where=safe <= 1e-6)
    return alpha8, safe


def _region(im_size: tuple[int, int], size: tuple[int, int], box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """The part of the image LANCZOS reads for `box` -> `size`: the box plus the filter's reach."""
    w, h = im_size
    x0, y0, x1, y1 = box
    mx = math.ceil(LANCZOS_SUPPORT * max(1.0, (x1 - x0) / size[0])) + 2
    my = math.ceil(LANCZOS_SUPPORT * max(1.0, (y1 - y0) / size[1])) + 2
    return max(0, math.floor(x0) - mx), max(0, math.floor(y0) - my), min(w, math.ceil(x1) + mx), min(h, math.ceil(y1) + my)


STRIP = 1 << 17  # pixels of the source converted to float at a time
OUT_ROWS = 64  # output rows made at a time (a multiple of resample.BLOCK): their input rows are resized across first


def _linear_strips(im: Image.Image | PackedRGB, region: tuple[int, int, int, int], channel: int,
                   rows: int) -> Iterator[tuple[int, Image.Image]]:
    """Band `channel` of `im`'s `region` in linear light (times alpha for RGBA), as float strips of `rows` rows.

    From lookup tables, a strip at a time: neither the region nor the float band is ever
    copied whole. Strips are yielded with their first row, counted from the region's top.
    """
    x0, y0, x1, y1 = region
    for y in range(y0, y1, rows):
        box = (x0, y, x1, min(y1, y + rows))
        y -= y0
        if isinstance(im, PackedRGB):  # one channel's bytes: no strip in Pillow's 4-byte layout
            yield y, im.channel(box, channel).point(_LIN_LIST, "F")
            continue
        strip = im.crop(box)
        if im.mode != "RGBA":
            yield y, strip.getchannel(channel).point(_LIN_LIST, "F")
        elif channel == 3:
            yield y, strip.getchannel(3).point(_UNIT_LIST, "F")
        else:  # Pillow's lookup tables and float product: 3x faster than doing it in numpy
            colour = strip.getchannel(channel).point(_LIN_LIST, "F")
            alpha = strip.getchannel(3).point(_UNIT_LIST, "F")
            yield y, ImageMath.lambda_eval(lambda v: v["c"] * v["a"], c=colour, a=alpha)


Box = tuple[float, float, float, float]


def _reduced_band(im: Image.Image | PackedRGB, region: tuple[int, int, int, int], channel: int, size: tuple[int, int], rbox: Box,
                  step: int) -> np.ndarray:
    """One linear-light band of `im`'s `region`, box-reduced by `step`, then LANCZOS of `rbox`
    (region coordinates) to `size`: float32. Only the reduced band and the result are held."""
    w = region[2] - region[0]
    ibox = (math.floor(rbox[0]), math.floor(rbox[1]), math.ceil(rbox[2]), math.ceil(rbox[3]))
    rows = step * max(1, STRIP // max(1, w * step))
    sub = (region[0], region[1] + ibox[1], region[2], region[1] + ibox[3])
    small = Image.new("F", (math.ceil((ibox[2] - ibox[0]) / step), math.ceil((ibox[3] - ibox[1]) / step)))
    for y, strip in _linear_strips(im, sub, channel, rows):
        small.paste(strip.reduce(step, box=(ibox[0], 0, ibox[2], strip.height)), (0, y // step))
    sbox = tuple((v - ibox[i % 2]) / step for i, v in enumerate(rbox))
    return np.asarray(small.resize(size, Image.Resampling.LANCZOS, box=sbox))


def _banded(im: Image.Image | PackedRGB, region: tuple[int, int, int, int], size: tuple[int, int], rbox: Box) -> Image.Image:
    """LANCZOS of `rbox` (region coordinates) to `size` in linear light, OUT_ROWS output rows at
    a time: a band's input rows are converted to linear light a strip at a time and resized
    across, then the band is resized down (`resample`: Pillow's taps for the whole image, so
    the bands join seamlessly). Only a band of float rows and the 8-bit result are held."""
    w, h = region[2] - region[0], region[3] - region[1]
    across, down = rs.taps(w, rbox[0], rbox[2], size[0]), rs.taps(h, rbox[1], rbox[3], size[1])
    rgba = im.mode == "RGBA"
    result = Image.new(im.mode, size)
    rows = max(1, STRIP // max(1, w))
    for a in range(0, size[1], OUT_ROWS):
        b = min(size[1], a + OUT_ROWS)
        lo, hi = down.span(a, b)
        wide = np.empty((4 if rgba else 3, hi - lo, size[0]), np.float32)  # the band, resized across
        for y in range(lo, hi, rows):
            box = (region[0], region[1] + y, region[2], region[1] + min(hi, y + rows))
            px = im.rows(box) if isinstance(im, PackedRGB) else np.asarray(im.crop(box))
            part = slice(y - lo, y - lo + px.shape[0])
            if rgba:
                unit = np.take(_UNIT, px[..., 3])
                wide[3, part] = rs.across(unit, across)
            for c in range(3):
                lin = np.take(_LIN, px[..., c])  # 2x faster than _LIN[...]
                if rgba:
                    lin *= unit  # premultiplied: what Pillow's float product gave, to the bit
                wide[c, part] = rs.across(lin, across)
        out = np.empty((b - a, size[0], wide.shape[0]), np.uint8)
        alpha = None
        if rgba:
            out[..., 3], alpha = _alpha(rs.down(wide[3], down, a, b, lo))
        for c in range(3):
            out[..., c] = _from_linear(rs.down(wide[c], down, a, b, lo), alpha)
        del wide
        result.paste(Image.fromarray(out, im.mode), (0, a))
    return result


def premultiplied(im: Image.Image | PackedRGB) -> Image.Image | None:
    """`im` as Pillow's premultiplied RGBa, for the gamma-space resizes of one RGBA decode (None
    for any other mode). Pillow makes this copy of the whole image for every resize or reduce
    of RGBA and undoes it on the result; made once and handed to each (`resize`, and
    `dedupe.fingerprint`), the results are the same bytes, for one premultiply instead of three."""
    return im.convert("RGBa") if isinstance(im, Image.Image) and im.mode == "RGBA" else None


def resize(im: Image.Image | PackedRGB, size: tuple[int, int], box: tuple[float, float, float, float], *, linear: bool,
           gap: float = REDUCING_GAP, premultiplied: Image.Image | None = None) -> Image.Image:
    """LANCZOS resize of `box` to `size`; in linear light with premultiplied alpha when `linear`.

    In gamma space, `gap` is Pillow's reducing_gap: an integer box reduce first, as long as
    LANCZOS is left at least `gap` times the target (the preset's render.reducing_gap: `fast`
    reduces to the target itself, as its decode does, and its 360 renders cost a third).

    The linear path reads only the region the filter reads, and converts it to float a band at
    a time; Pillow's LANCZOS taps do the filtering (`resample`). `premultiplied`: `im` as RGBa
    (see `premultiplied`), for the gamma path.
    """
    if not linear:
        if premultiplied is not None and (size != im.size or box != (0, 0, *im.size)):
            # what Pillow does with RGBA, without its copy (an unchanged size stays a plain copy)
            return premultiplied.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=gap).convert("RGBA")
        return as_image(im).resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=gap)  # Pillow premultiplies RGBA
    region = _region(im.size, size, box)
    rbox = (box[0] - region[0], box[1] - region[1], box[2] - region[0], box[3] - region[1])
    # where the ratio is >= 4, box-reduce each float band by an integer factor first (in linear
    # light, so fine detail keeps its brightness): the LANCZOS step then reads ~4x fewer pixels
    step = int(min((rbox[2] - rbox[0]) / size[0], (rbox[3] - rbox[1]) / size[1]) // REDUCING_GAP)
    if step < 2:
        return _banded(im, region, size, rbox)
    safe = alpha8 = None
    if im.mode == "RGBA":
        alpha8, safe = _alpha(_reduced_band(im, region, 3, size, rbox, step))
    bands = [Image.fromarray(_from_linear(_reduced_band(im, region, c, size, rbox, step), safe), "L") for c in range(3)]
    if alpha8 is None:
        return Image.merge("RGB", bands)
    return Image.merge("RGBA", (*bands, Image.fromarray(alpha8, "L")))


def saliency_window(im: Image.Image, crop: tuple[int, int]) -> tuple[int, int]:
    """Top-left corner of the `crop`-sized window holding the most salient content of `im`.

    Saliency is edge energy plus colour distance from the image's mean colour (what draws the
    eye: detail and colour that stand out), weighted by alpha, measured on a small copy; a
    slight pull to the centre breaks ties on flat art. The window slides along the one axis
    the crop leaves room on.
    """
    w, h = im.size
    cw, ch = crop
    if cw >= w and ch >= h:
        return 0, 0
    scale = 256 / max(w, h)
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = im.convert("RGB").resize(small_size, Image.Resampling.BILINEAR)
    arr = np.asarray(small, dtype=np.float32)
    lum = arr @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gy, gx = np.gradient(lum) if min(lum.shape) > 1 else (np.zeros_like(lum), np.zeros_like(lum))
    energy = np.hypot(gx, gy)
    colour = np.linalg.norm(arr - arr.reshape(-1, 3).mean(axis=0), axis=-1)
    sal = energy / (energy.mean() + 1e-6) + colour / (colour.mean() + 1e-6) + 1e-3  # flat art: all equal, centre wins
    if im.mode == "RGBA":
        sal *= np.asarray(im.getchannel("A").resize(small.size), dtype=np.float32) / 255.0
    horizontal = w - cw >= h - ch
    along = sal.sum(axis=0) if horizontal else sal.sum(axis=1)
    length, room = (w, w - cw) if horizontal else (h, h - ch)
    if float(np.ptp(along)) <= 1e-6 * float(along.mean()):
        return (room // 2, (h - ch) // 2) if horizontal else ((w - cw) // 2, room // 2)  # nothing stands out
    win = max(1, min(along.size, round((length - room) * scale)))
    sums = np.convolve(along, np.ones(win, dtype=np.float32), mode="valid")
    pos = np.arange(sums.size)
    centre = (sums.size - 1) / 2
    bias = 1.0 - 0.05 * np.abs(pos - centre) / max(centre, 1)
    best = int(np.argmax(sums * bias))
    offset = max(0, min(round(best / scale), room))
    return (offset, (h - ch) // 2) if horizontal else ((w - cw) // 2, offset)


def _upscale(src_w: int, src_h: int, tw: int, th: int, fit: str) -> float:
    """How much the source's pixels are enlarged: cover fills the target, contain fits inside it."""
    sx, sy = tw / src_w, th / src_h
    return min(sx, sy) if fit == "contain" else max(sx, sy)


def _window(w: int, h: int, tw: int, th: int) -> tuple[float, float]:
    """The largest box of the target's shape inside the image, as floats: exact centring."""
    target_ratio = tw / th
    return (h * target_ratio, float(h)) if w / h > target_ratio else (float(w), w / target_ratio)


def reads(size: tuple[int, int], spec: RenderSpec, *, linear_light: bool) -> tuple[int, int, int, int] | None:
    """The part of an image of `size` that `render` reads for `spec` (None: maybe all of it).

    Only a linear-light cover is bounded in advance: contain reads the whole image, attention's
    window depends on the pixels, and the gamma path is Pillow's resize of the image.
    """
    if spec.fit != "cover" or not linear_light:
        return None
    w, h = size
    cw, ch = _window(w, h, spec.width, spec.height)
    x0, y0 = (w - cw) / 2, (h - ch) / 2
    return _region(size, (spec.width, spec.height), (x0, y0, x0 + cw, y0 + ch))


def render(loaded: LoadedImage, spec: RenderSpec, *, linear_light: bool = True, gap: float = REDUCING_GAP,
           premultiplied: Image.Image | None = None) -> Rendition:
    """Fit `loaded` to `spec` (never modifies `loaded.image`); `gap`, `premultiplied`: see `resize`."""
    im = loaded.image
    w, h = im.size
    tw, th = spec.width, spec.height
    findings: list[Finding] = []
    rel = loaded.source.rel
    if spec.fit not in FITS:
        msg = f"unknown fit {spec.fit!r}; expected one of {', '.join(FITS)}"
        raise ValueError(msg)
    if spec.fit == "contain":
        scale = min(tw / w, th / h)
        nw, nh = min(tw, max(1, round(w * scale))), min(th, max(1, round(h * scale)))
        inner = resize(im, (nw, nh), (0, 0, w, h), linear=linear_light, gap=gap, premultiplied=premultiplied)
        canvas = Image.new(im.mode, (tw, th), spec.background + ((255,) if im.mode == "RGBA" else ()))
        canvas.paste(inner, ((tw - nw) // 2, (th - nh) // 2))
        out, crop = canvas, (0, 0, w, h)
    else:
        cw, ch = _window(w, h, tw, th)
        if spec.fit == "attention":
            sx, sy = saliency_window(as_image(im), (round(cw), round(ch)))
            x0, y0 = min(float(sx), w - cw), min(float(sy), h - ch)
        else:
            x0, y0 = (w - cw) / 2, (h - ch) / 2
        box = (x0, y0, x0 + cw, y0 + ch)
        out = resize(im, (tw, th), box, linear=linear_light, gap=gap, premultiplied=premultiplied)
        crop = (round(box[0]), round(box[1]), round(box[2]), round(box[3]))
        cropped = 1.0 - (cw * ch) / (w * h)
        if cropped > COVER_CROP_WARN:
            findings.append(
                Finding(
                    code="cover_crop", source=rel, value=round(cropped, 3),
                    message=f"{spec.fit} crop cuts {cropped:.0%} of the art (keep the subject inside the {'centre ' if spec.fit == 'cover' else ''}square, or use fit = \"contain\")",
                )
            )
    factor = _upscale(loaded.width, loaded.height, tw, th, spec.fit)
    if factor > 1.0:
        findings.append(
            Finding(
                code="upscaled", source=rel, value=round(factor, 3),
                message=f"source {loaded.width}x{loaded.height} is smaller than the {tw}x{th} target: upscaled {factor:.2f}x",
            )
        )
    has_alpha = out.mode == "RGBA" and out.getchannel("A").getextrema()[0] != 255
    if out.mode == "RGBA" and not has_alpha:
        out = out.convert("RGB")
    return Rendition(image=out, fit=spec.fit, crop=crop, has_alpha=has_alpha, findings=tuple(findings))

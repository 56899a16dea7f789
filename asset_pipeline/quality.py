"""The perceptual score recorded for every asset: SSIM on Y, Cb and Cr, weighted 6:1:1.

Why this metric: SSIM is well known and cheap enough to sit inside a quality search, where
SSIMULACRA2 in pure Python takes seconds per image; the 6:1:1 luma/chroma weighting is the
usual one in codec evaluation, and scoring chroma at half resolution lets it see chroma
subsampling damage (red edges) that luma-only SSIM misses.

The SSIM is scikit-image's `structural_similarity` (7x7 uniform window, sample covariance,
K1 = 0.01, K2 = 0.03, the border of half a window left out of the mean) computed in a
search-friendly way: the reference's local means and variances are computed once and reused
for every candidate, and the window sums are plain shifted adds on float32. It is ~3x faster
than calling scikit-image per candidate and agrees with it to 1e-6 (tests/test_quality.py
checks that against scikit-image itself).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

METRIC = "ssim"
WEIGHTS = (6.0, 1.0, 1.0)  # Y, Cb, Cr
WIN = 7  # scikit-image's default window
_COV = WIN * WIN / (WIN * WIN - 1)  # sample covariance, as scikit-image's default
_C1 = (0.01 * 255) ** 2
SSIM_ROWS = 128  # SSIM map rows computed at a time (a 1024-wide strip's ~8 float temporaries: ~0.5 MB each;
# 32 rows held 3 MB less and scored 1.3x slower)
_C2 = (0.03 * 255) ** 2


def _box_sum(a: np.ndarray) -> np.ndarray:
    """Sum over every full WIN x WIN window ("valid" region: the border SSIM leaves out).

    Along each axis, 7 = 2 + 2 + 2 + 1: sums of neighbouring pairs, then three of them and one
    more line, 4 array adds instead of 6 (a 134x1024 strip 0.24 vs 0.32-0.44 ms). Every sum here
    is of integers below 2**24, exact in float32 in any order: the result is the same to the bit.
    """
    assert WIN == 7
    h = a.shape[0] - WIN + 1
    pairs = a[:-1] + a[1:]
    rows = pairs[:h] + pairs[2 : 2 + h]
    rows += pairs[4 : 4 + h]
    rows += a[6 : 6 + h]
    del pairs
    w = a.shape[1] - WIN + 1
    pairs = rows[:, :-1] + rows[:, 1:]
    out: np.ndarray = pairs[:, :w] + pairs[:, 2 : 2 + w]
    out += pairs[:, 4 : 4 + w]
    out += rows[:, 6 : 6 + w]
    return out


_MEAN = np.float32(1.0 / (WIN * WIN))


def _box_mean(a: np.ndarray) -> np.ndarray:
    """Mean over every full WIN x WIN window."""
    out = _box_sum(a)
    out *= _MEAN
    return out


def _numerator(ux: np.ndarray, uy: np.ndarray, uxy: np.ndarray) -> np.ndarray:
    """SSIM's numerator, (2 cov(x, y) + C2)(2 ux uy + C1), made in `uxy` (the mean of x * y)."""
    t = ux * uy
    num = uxy
    num -= t
    num *= 2 * _COV
    num += _C2  # 2 cov(x, y) + C2
    t *= 2
    t += _C1  # 2 ux uy + C1
    num *= t
    return num


@dataclass(frozen=True, slots=True)
class _Plane:
    """One reference plane with the statistics every comparison against it needs."""

    x: np.ndarray = field(repr=False)  # 8-bit
    # local sums of x (uint16: 49 * 255 fits, exact in float32 too), the local mean times 49;
    # None when the plane is too small. Half of float32 means, to the bit the same means.
    sx: np.ndarray | None = field(repr=False)
    var: np.ndarray | None = field(repr=False)  # sample variance + C2

    @classmethod
    def of(cls, x: np.ndarray) -> _Plane:
        if min(x.shape) < WIN:
            return cls(x, None, None)
        n, m = x.shape[0] - WIN + 1, x.shape[1] - WIN + 1
        sx = np.empty((n, m), np.uint16)
        var = np.empty((n, m), np.float32)
        for r0 in range(0, n, SSIM_ROWS):
            r1 = min(n, r0 + SSIM_ROWS)
            xs = x[r0 : r1 + WIN - 1].astype(np.float32)
            u = _box_sum(xs)
            sx[r0:r1] = u
            u *= _MEAN
            v = _box_mean(xs * xs)
            v -= u * u
            v *= _COV
            v += _C2
            var[r0:r1] = v
        return cls(x, sx, var)

    def ssim(self, y: np.ndarray) -> float:
        if self.sx is None or self.var is None:
            return 1.0 if np.array_equal(self.x, y) else 0.0
        total = 0.0
        n = self.sx.shape[0]
        for r0 in range(0, n, SSIM_ROWS):  # strips of output rows: the temporaries stay small
            r1 = min(n, r0 + SSIM_ROWS)
            total += self._strip_sum(y, r0, r1)
        return total / self.sx.size

    def _strip_sum(self, y: np.ndarray, r0: int, r1: int) -> float:
        """Sum of the SSIM map over output rows r0..r1 (inputs r0..r1 + WIN - 1)."""
        assert self.sx is not None and self.var is not None
        # the planes stay 8-bit; each strip is made float here (4x less held than float planes)
        x, ys = self.x[r0 : r1 + WIN - 1].astype(np.float32), y[r0 : r1 + WIN - 1].astype(np.float32)
        ux = self.sx[r0:r1] * _MEAN  # float32, as _box_mean made it
        uy = _box_mean(ys)
        uyy = _box_mean(ys * ys)
        num = _numerator(ux, uy, _box_mean(x * ys))
        uy *= uy
        uyy -= uy
        uyy *= _COV
        uyy += self.var[r0:r1]  # var x + var y + C2
        uy += ux * ux
        uy += _C1  # ux^2 + uy^2 + C1
        uyy *= uy
        num /= uyy
        return float(num.sum(dtype=np.float64))


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference image prepared once, scored against many candidates."""

    planes: tuple[_Plane, _Plane, _Plane] = field(repr=False)
    size: tuple[int, int]


def flatten(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """RGBA over an opaque background colour, as Pillow's (premultiplied-correct) alpha_composite.

    An RGB image comes back as it is, not copied: scoring, hashing and lint all flatten the same
    rendition, and none of them writes to it. The composite is a paste with the alpha as the
    mask: over an opaque background Pillow's blend and alpha_composite round to the same value
    for every colour, alpha and background level (tests/test_quality.py checks all of them),
    and the paste holds only the RGB result and costs a third (2.7 vs 8.2 ms at 1024 px) of
    compositing strips of RGBA copies.
    """
    if image.mode == "RGB":
        return image
    if image.mode != "RGBA":
        return image.convert("RGB")
    out = Image.new("RGB", image.size, background)
    out.paste(image, (0, 0), image)
    return out


def _flatten_palette(im: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """A palette image flattened by flattening its palette: the same pixels as flattening
    `im.convert("RGBA")`, without ever holding RGBA copies of the picture."""
    n = 256
    index = Image.frombytes("P", (n, 1), bytes(range(n)))
    index.putpalette(im.palette)  # type: ignore[arg-type]  # an ImagePalette keeps its RGBA mode
    if "transparency" in im.info:
        index.info["transparency"] = im.info["transparency"]
    colours = flatten(index.convert("RGBA"), background).tobytes()
    im.info.pop("transparency", None)
    im.putpalette(colours, "RGB")
    return im.convert("RGB")


PLANE_ROWS = 128  # rows converted to YCbCr at a time (even: chroma is halved in 2x2 blocks)


def _planes(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y at full resolution and Cb, Cr at half (where 4:2:0 subsampling damage shows: see the
    module docstring), converted a strip of rows at a time: only the 8-bit planes are held."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    w, h = rgb.size
    half = min(w, h) >= 2 * WIN
    y = np.empty((h, w), np.uint8)
    cb, cr = (np.empty(((h + 1) // 2, (w + 1) // 2) if half else (h, w), np.uint8) for _ in range(2))
    for r in range(0, h, PLANE_ROWS):
        py, pcb, pcr = rgb.crop((0, r, w, min(h, r + PLANE_ROWS))).convert("YCbCr").split()
        y[r : r + py.height] = np.asarray(py)
        for plane, c in ((cb, pcb), (cr, pcr)):
            if half:
                c = c.reduce(2)
            plane[r // 2 if half else r :][: c.height] = np.asarray(c)
    return y, cb, cr


def reference(image: Image.Image) -> Reference:
    """`image` must be opaque RGB (flatten it first)."""
    y, cb, cr = _planes(image)
    return Reference((_Plane.of(y), _Plane.of(cb), _Plane.of(cr)), image.size)


def score(ref: Reference, candidate: Image.Image) -> float:
    """SSIM of `candidate` (opaque RGB) against the reference, 1.0 meaning identical."""
    return _score_planes(ref, _candidate_planes(ref, candidate))


def _candidate_planes(ref: Reference, candidate: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if candidate.size != ref.size:
        msg = f"candidate is {candidate.size}, reference is {ref.size}"
        raise ValueError(msg)
    return _planes(candidate)


def _score_planes(ref: Reference, planes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    total = sum(w * p.ssim(c) for w, p, c in zip(WEIGHTS, ref.planes, planes, strict=True))
    return round(total / sum(WEIGHTS), 6)


def score_once(image: Image.Image, candidate: Image.Image) -> float:
    """`score(reference(image), candidate)`, for an image scored against one candidate only.

    Nothing is kept for a second candidate, so each strip's five window means come from four
    box sums made while the strip is in cache: var x + var y from the mean of x^2 + y^2, as
    only their sum enters SSIM. 15 % less time than a reference and its score (25 vs 30 ms at
    1024 px); the same value to float32 rounding (tests/test_quality.py).
    """
    if candidate.size != image.size:
        msg = f"candidate is {candidate.size}, reference is {image.size}"
        raise ValueError(msg)
    parts = zip(WEIGHTS, _planes(image), _planes(candidate), strict=True)
    total = sum(w * _ssim_once(x, y) for w, x, y in parts)
    return round(total / sum(WEIGHTS), 6)


def _ssim_once(x8: np.ndarray, y8: np.ndarray) -> float:
    if min(x8.shape) < WIN:
        return 1.0 if np.array_equal(x8, y8) else 0.0
    n, m = x8.shape[0] - WIN + 1, x8.shape[1] - WIN + 1
    total = 0.0
    for r0 in range(0, n, SSIM_ROWS):
        r1 = min(n, r0 + SSIM_ROWS)
        x, y = x8[r0 : r1 + WIN - 1].astype(np.float32), y8[r0 : r1 + WIN - 1].astype(np.float32)
        ux, uy = _box_mean(x), _box_mean(y)
        uxy = _box_mean(x * y)
        x *= x
        y *= y
        x += y
        both = _box_mean(x)  # mean of x^2 + y^2
        num = _numerator(ux, uy, uxy)
        ux *= ux
        uy *= uy
        ux += uy  # ux^2 + uy^2
        both -= ux
        both *= _COV
        both += _C2  # var x + var y + C2
        ux += _C1
        both *= ux
        num /= both
        total += float(num.sum(dtype=np.float64))
    return float(total / (n * m))


def decode(data: bytes, background: tuple[int, int, int]) -> Image.Image:
    """Decode encoded bytes to opaque RGB, flattening any alpha onto `background`."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        if im.mode == "P" and im.palette is not None:
            return _flatten_palette(im, background)
        return flatten(im.convert("RGBA") if im.mode in ("RGBA", "LA", "PA", "P") else im, background)


def score_bytes(ref: Reference, data: bytes, background: tuple[int, int, int]) -> float:
    """Decode encoded bytes and score them. Only the candidate's planes are kept for the sums:
    its decode (4 MB at 1024 px) is dropped first."""
    return _score_planes(ref, _candidate_planes(ref, decode(data, background)))

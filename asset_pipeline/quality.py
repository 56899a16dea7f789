"""The perceptual score recorded for every asset: SSIM (scikit-image) on Y, Cb and Cr, weighted 6:1:1.

Why this metric: SSIM is well known and cheap enough to sit inside a quality search (about
0.15 s for a 1024x1024 image here, against seconds for SSIMULACRA2 in pure Python); the
6:1:1 luma/chroma weighting is the usual one in codec evaluation, and scoring chroma at half
resolution lets it see chroma-subsampling damage (red edges) that luma-only SSIM misses.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from skimage.metrics import structural_similarity

METRIC = "ssim"


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference image prepared once, scored against many candidates."""

    planes: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False)


def flatten(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """RGBA over an opaque background colour (Pillow's alpha_composite is premultiplied-correct)."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    base = Image.new("RGBA", image.size, background + (255,))
    return Image.alpha_composite(base, image).convert("RGB")


def _planes(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, cb, cr = image.convert("RGB").convert("YCbCr").split()
    chroma = [np.asarray(c.reduce(2) if min(c.size) >= 14 else c, dtype=np.float32) for c in (cb, cr)]
    return np.asarray(y, dtype=np.float32), chroma[0], chroma[1]


def reference(image: Image.Image) -> Reference:
    """`image` must be opaque RGB (flatten it first)."""
    return Reference(_planes(image))


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    win = min(7, min(a.shape) // 2 * 2 - 1)
    if win < 3:
        return 1.0 if np.array_equal(a, b) else 0.0
    return float(structural_similarity(a, b, data_range=255.0, win_size=win))


def score(ref: Reference, candidate: Image.Image) -> float:
    """SSIM of `candidate` (opaque RGB) against the reference, 1.0 meaning identical."""
    y, cb, cr = _planes(candidate)
    ry, rcb, rcr = ref.planes
    return round((6 * _ssim(ry, y) + _ssim(rcb, cb) + _ssim(rcr, cr)) / 8, 6)


def score_bytes(ref: Reference, data: bytes, background: tuple[int, int, int]) -> float:
    """Decode encoded bytes and score them."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        decoded = flatten(im.convert("RGBA") if im.mode in ("RGBA", "LA", "PA", "P") else im, background)
    return score(ref, decoded)

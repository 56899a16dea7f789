"""Pillow's LANCZOS resampling of float planes, done as small dense matrix products.

Pillow's float resampler (Resample.c, 32bpc) runs a scalar loop per output pixel; the same
filter taps laid out as narrow dense blocks let BLAS do the sums, 4x faster for a float band
(issue 8: the 1024 linear-light renders were a quarter of the default preset's time). The taps
are Pillow's own (`precompute_coeffs`, in double, the box taken as C floats) and the products
are summed in double and rounded to float32 once per pass, as Pillow does. Only the order of
the sums differs, so a value can round the other way once in millions: the 20 linear-light
renders of the benchmark corpus equal Pillow's but for one value one level off
(benchmarks/bench_render.py; tests/test_render.py compares the two on planes and images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SUPPORT = 3.0  # Lanczos-3
BLOCK = 32  # output pixels per dense block: wider blocks multiply more zeros than BLAS saves


@dataclass(frozen=True, slots=True)
class Taps:
    """One axis's filter: output pixel i reads `count[i]` inputs from `first[i]`; the weights are
    laid out in `blocks`, one dense matrix per BLOCK output pixels."""

    first: np.ndarray = field(repr=False)  # int64, non-decreasing
    count: np.ndarray = field(repr=False)  # int64
    identity: bool  # Pillow skips this pass: the output is the input
    blocks: tuple[tuple[int, int, int, np.ndarray], ...] = field(repr=False)  # (a, b, lo, matrix)

    def span(self, a: int, b: int) -> tuple[int, int]:
        """The input range output pixels a..b read."""
        return int(self.first[a]), int((self.first[a:b] + self.count[a:b]).max())


def _block(first: np.ndarray, count: np.ndarray, weights: np.ndarray, a: int, b: int) -> tuple[int, np.ndarray]:
    """(lo, matrix) such that inputs[lo:lo + len(matrix)] @ matrix gives outputs a..b."""
    lo, hi = int(first[a]), int((first[a:b] + count[a:b]).max())
    m = np.zeros((hi - lo, b - a), np.float64)
    k = np.arange(weights.shape[1])
    rows = (first[a:b, None] - lo) + k[None, :]
    used = k[None, :] < count[a:b, None]
    cols = np.broadcast_to(np.arange(b - a)[:, None], rows.shape)
    m[rows[used], cols[used]] = weights[a:b][used]
    return lo, m


def _sinc(x: np.ndarray) -> np.ndarray:
    px = x * math.pi
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sin(px) / px
    return np.where(x == 0.0, 1.0, out)


def _lanczos(x: np.ndarray) -> np.ndarray:
    return np.where((x >= -SUPPORT) & (x < SUPPORT), _sinc(x) * _sinc(x / 3.0), 0.0)


def taps(in_size: int, in0: float, in1: float, out_size: int) -> Taps:
    """Pillow's LANCZOS taps for input range in0..in1 (of `in_size`) onto `out_size` pixels."""
    f0, f1 = np.float32(in0), np.float32(in1)  # ImagingResample takes the box as C floats
    identity = out_size == in_size and float(f0) == 0.0 and float(f1) == in_size
    scale = float(f1 - f0) / out_size
    filterscale = max(scale, 1.0)
    support = SUPPORT * filterscale
    ksize = math.ceil(support) * 2 + 1
    centre = float(f0) + (np.arange(out_size) + 0.5) * scale
    first = np.maximum((centre - support + 0.5).astype(np.int64), 0)  # C's (int): towards zero
    count = np.minimum((centre + support + 0.5).astype(np.int64), in_size) - first
    k = np.arange(ksize)
    w = _lanczos((k[None, :] + first[:, None] - centre[:, None] + 0.5) * (1.0 / filterscale))
    w[k[None, :] >= count[:, None]] = 0.0
    total = np.zeros(out_size)
    for j in range(ksize):  # summed in Pillow's order: the normalised taps match to the bit
        total += w[:, j]
    np.divide(w, total[:, None], out=w, where=total[:, None] != 0.0)
    blocks = () if identity else tuple((a, min(out_size, a + BLOCK), *_block(first, count, w, a, min(out_size, a + BLOCK)))
                                       for a in range(0, out_size, BLOCK))
    return Taps(first=first, count=count, identity=identity, blocks=blocks)


def across(rows: np.ndarray, t: Taps) -> np.ndarray:
    """Resample float32 `rows` (h, w) along their width with `t`: (h, out) float32."""
    if t.identity:
        return rows
    out = np.empty((rows.shape[0], t.first.size), np.float32)
    for a, b, lo, m in t.blocks:
        out[:, a:b] = rows[:, lo : lo + m.shape[0]] @ m
    return out


def down(rows: np.ndarray, t: Taps, a: int, b: int, offset: int) -> np.ndarray:
    """Output rows a..b (a a multiple of BLOCK) of resampling float32 `rows` along their height
    with `t`, where `rows[0]` is input row `offset`: (b - a, w) float32."""
    if t.identity:
        return rows[a - offset : b - offset]
    out = np.empty((b - a, rows.shape[1]), np.float32)
    for r, s, lo, m in t.blocks[a // BLOCK : -(-b // BLOCK)]:
        out[r - a : s - a] = m.T @ rows[lo - offset : lo - offset + m.shape[0]]
    return out

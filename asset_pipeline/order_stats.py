"""`np.median` and `np.percentile` (linear), the same values, without importing numpy.ma.

numpy's own check for NaN in a median or a quantile imports numpy.ma, 20 ms of a worker's or
the build's start-up (issue 8); the inputs here never hold NaN. The operations are numpy's,
in its order and dtypes, so the results are equal to the bit (tests/test_order_stats.py).
"""

from __future__ import annotations

import math

import numpy as np


def median(a: np.ndarray, axis: int | None = None) -> np.ndarray | np.floating:
    """np.median(a, axis) of an array without NaN."""
    if axis is None:
        a, axis = np.ravel(a), 0
    n = a.shape[axis]
    if n == 0:
        msg = "median of an empty array"
        raise ValueError(msg)
    half = n // 2
    kth = [half - 1, half] if n % 2 == 0 else [half]
    part = np.partition(a, kth, axis=axis)
    middle = slice(half - 1, half + 1) if n % 2 == 0 else slice(half, half + 1)
    index: list[slice] = [slice(None)] * part.ndim
    index[axis] = middle
    mid: np.ndarray | np.floating = np.mean(part[tuple(index)], axis=axis)
    return mid


def percentile(a: np.ndarray, q: float) -> float:
    """np.percentile(a, q) (method "linear") of a 1-d array without NaN, as a float."""
    n = a.size
    if n == 0:
        msg = "percentile of an empty array"
        raise ValueError(msg)
    virtual = (n - 1) * (q / 100)
    lo = min(max(int(math.floor(virtual)), 0), n - 1)
    hi = min(lo + 1, n - 1)
    part = np.partition(np.ravel(a), sorted({lo, hi}))
    below, above = part[lo], part[hi]
    gamma = float(virtual - lo)  # a Python float: numpy's weak promotion keeps the input's dtype
    diff = above - below
    # numpy's _lerp: from the nearer end, so the result is monotonic and exact at both ends
    return float(above - diff * (1 - gamma) if gamma >= 0.5 else below + diff * gamma)

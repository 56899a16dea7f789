"""Find the smallest quality whose score meets a target, in as few scored encodes as we can.

Bisection over JPEG quality 40-95 needs 6-7 encode+decode+score rounds. Scores follow a smooth
curve in quality, roughly a straight line in `-log(1 - score)`, so this search starts from a
typical quality for the target, interpolates (or extrapolates with a secant or a typical slope)
on that scale, and rounds up so that the next probe usually passes and the one after it is its
neighbour below, which must miss: 2-5 rounds, about 4 on average. When interpolation stops
halving the bracket it bisects.
It returns exactly what bisection would on a score that rises with quality; where the
score wobbles it still returns a quality that meets the target whose neighbour below does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# Slope of -log10(1 - SSIM) per quality step used to extrapolate from a single probe. The
# corpus' slopes spread widely (quartiles 0.010-0.037); on the benchmark corpus' score curves
# (every quality 30-100) values 0.01-0.02 gave the fewest probes: 3.9-4.8 on average against
# bisection's 5.7-7.0 over the shipped presets' ranges.
SLOPE = 0.012
MAX_ROUNDS = 12  # a safety net: bisection alone would finish in 7 on 1-100


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    quality: int  # the smallest quality that met the target, or `hi` when none did
    met: bool
    rounds: int  # scored encodes made
    scores: dict[int, float]


def _d(score: float) -> float:
    """Distance scale on which scores are about linear in quality (near the targets we use)."""
    return -math.log10(max(1.0 - score, 1e-6))


def _line(scores: dict[int, float], a: int, b: int, target: float) -> float | None:
    """Where the line through qualities a and b reaches the target (None if it does not rise)."""
    da, db = _d(scores[a]), _d(scores[b])
    if a == b or (db - da) / (b - a) <= 0:
        return None
    return a + (_d(target) - da) * (b - a) / (db - da)


def _guess(scores: dict[int, float], fail: int, ok: int, target: float) -> float:
    if fail in scores and ok in scores:
        got = _line(scores, fail, ok, target)
        return (fail + ok) / 2 if got is None else got
    # one side only: a secant through the two probes nearest the edge, else a typical slope
    side = sorted((k for k in scores if (k >= ok if ok in scores else k <= fail)), key=lambda k: abs(k - (ok if ok in scores else fail)))
    if len(side) >= 2:
        got = _line(scores, side[0], side[1], target)
        if got is not None:
            return got
    known = side[0]
    return known + (_d(target) - _d(scores[known])) / SLOPE


def smallest_passing(score: Callable[[int], float], *, lo: int, hi: int, target: float, start: int) -> SearchResult:
    """Smallest q in [lo, hi] with score(q) >= target, assuming score rises with q."""
    if lo > hi:
        msg = f"empty quality range {lo}-{hi}"
        raise ValueError(msg)
    scores: dict[int, float] = {}
    fail, ok = lo - 1, hi + 1  # highest quality known to miss, lowest known to meet
    q = min(max(start, lo), hi)
    last_width = ok - fail
    while ok - fail > 1 and len(scores) < MAX_ROUNDS:
        s = scores[q] = score(q)
        if s >= target:
            ok = q
        else:
            fail = q
        width = ok - fail
        if width <= 1:
            break
        if ok == hi + 1 and q == hi:
            break  # even the top of the range misses
        # rounding up makes the next probe likely to pass, and the one after it its neighbour
        nxt = math.ceil(_guess(scores, fail, ok, target))
        if width > last_width / 2 and fail in scores and ok in scores:
            nxt = (fail + ok) // 2  # interpolation is not shrinking the bracket: bisect
        last_width = width
        q = min(max(nxt, fail + 1), ok - 1)
    if ok > hi:
        return SearchResult(quality=hi, met=False, rounds=len(scores), scores=scores)
    return SearchResult(quality=ok, met=True, rounds=len(scores), scores=scores)

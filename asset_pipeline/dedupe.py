"""Near-duplicate detection for game art: structure and colour, compared after alignment.

Why not plain 64-bit pHash: a luminance hash ignores alpha and colour, so transparent
sprites, flat and two-tone art collide, and its bits flip at random on simple art, where
most DCT coefficients are near zero (measured on benchmarks/dedupe_set.py: pHash distances
of 24-40 between a two-tone image and its own re-encode). So each source is:

1. composited over a fixed grey (transparent areas look the same whatever RGB they hide),
2. squashed to 128x128 and cut into six views: the whole picture, and the centre and the
   four corners at 95 % (so a crop of a few percent lines up with one of them),
3. described per view by a *structure* vector, the low 8x8 DCT block of its 32x32 CIELAB
   image without the DC term (pHash's coefficients, kept as numbers instead of sign bits,
   chroma at half weight so iso-luminant art still has structure), and a *colour layout*,
   the mean CIELAB colour of each cell of an 8x8 grid.

Two sources are duplicates when their best-aligned views have nearly the same structure
(cosine, reported as 1000 * (1 - cos), the "structure distance") AND, at that alignment,
the worst eighth of the grid cells differ in colour by at most the colour threshold (mean
CIE76 dE: a recoloured character shows even when the rest matches). Art with no structure
at all (one flat colour) is compared by colour alone. Thresholds live in the preset's [dedupe] table; the labelled set
and the sweep that chose them are in benchmarks/dedupe_eval.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .config import DedupeSettings
from .order_stats import median
from .records import FINGERPRINT_VERSION, Finding, Fingerprint  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    from .load import PackedRGB
    from .records import Probe

HASH_BACKGROUND = (128, 128, 128)  # fixed, so transparent areas hash the same everywhere
_SIDE = 128  # the squashed working copy every view is cut from
_VIEW_KEEP = 0.95  # views keep 95 % of each side: crops up to ~5 % line up with one
_BLOCK = 8  # DCT block kept per channel (pHash's)
_GRID = 8  # colour layout cells per side
_CHROMA_WEIGHT = 0.5  # structure: a* and b* count half as much as L*
_WORST_CELLS = 8  # colour: mean CIE76 dE of the worst eighth of the 64 cells (a recoloured part shows)
_FLAT_STD = 2.0  # L*, a* and b* standard deviation under which art is one flat colour
_NO_MATCH = 1000  # the structure distance reported when structure cannot be compared
_CHUNK = 20_000  # pairs per colour comparison batch
_LAB_OFFSET = np.array([0.0, 128.0, 128.0], np.float32)  # colour layouts are stored as bytes
_LAB_SCALE = np.array([2.55, 1.0, 1.0], np.float32)


def _dct_rows(size: int, keep: int) -> np.ndarray:
    """The first `keep` rows of the orthonormal DCT-II matrix: X -> D @ X @ D.T is the low block."""
    k = np.arange(keep)[:, None]
    x = np.arange(size)[None, :]
    d = np.sqrt(2 / size) * np.cos(np.pi * (2 * x + 1) * k / (2 * size))
    d[0] /= np.sqrt(2)
    return d.astype(np.float32)


_DCT = _dct_rows(32, _BLOCK)


def _boxes() -> list[tuple[int, int, int, int]]:
    keep = round(_SIDE * _VIEW_KEEP)
    off = _SIDE - keep
    half = off // 2
    return [(0, 0, _SIDE, _SIDE), (half, half, half + keep, half + keep), (0, 0, keep, keep),
            (off, 0, _SIDE, keep), (0, off, keep, _SIDE), (off, off, _SIDE, _SIDE)]


VIEWS = ("full", "centre", "top-left", "top-right", "bottom-left", "bottom-right")
_BOX = _boxes()


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 sRGB to CIELAB (D65) as float32."""
    c = rgb.astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], np.float32)
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883], np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab.astype(np.float32)


def composite(image: Image.Image) -> Image.Image:
    """RGB as the art looks over the fixed grey background."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        from .quality import flatten

        return flatten(image if image.mode == "RGBA" else image.convert("RGBA"), HASH_BACKGROUND)
    return image.convert("RGB")


# imagehash's pHash: LANCZOS to 32x32 grey, the unnormalized DCT-II (scipy.fftpack.dct's
# default) of rows then columns, the low 8x8 block against its median. The DCT is a product with
# this matrix here, so worker processes never import scipy (0.2 s and 15-30 MiB each).
_PHASH_DCT = 2.0 * np.cos(np.pi * np.arange(8)[:, None] * (2 * np.arange(32)[None, :] + 1) / 64)


def phash(image: Image.Image) -> str:
    """imagehash.phash(image) as its hex string (tests/test_dedupe.py holds the two equal).

    The AC terms of flat art are floating-point noise in either implementation (and so differ
    between machines): coefficients are rounded to 1e-9 of the DC term first, far above that
    noise and far below the gaps between real coefficients, so such art hashes the same everywhere.
    """
    import imagehash

    grey = image if image.mode == "L" else image.convert("L")  # an "L" image: the caller's own luma
    pixels = np.asarray(grey.resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    low = _PHASH_DCT @ pixels @ _PHASH_DCT.T
    scale = max(abs(float(low[0, 0])), 1.0) * 1e-9
    low = np.round(low / scale) * scale
    return str(imagehash.ImageHash(low > median(low)))


PROBE_SHORT_SIDE = 256  # what the hashes need; bigger inputs are box-reduced to about this first


def fingerprint(image: Image.Image | PackedRGB, *, premultiplied: Image.Image | None = None) -> Fingerprint:
    """Structure and colour of `image` (any size; the ~256 px probe draft is plenty).

    A larger image (pass 1 decodes at twice the biggest output when it also renders) is first
    box-reduced by an integer factor to a short side >= 256, as the probe-only decode is, so
    the fingerprint costs the same whatever the decode size and hashes see the same pixels.
    `premultiplied`: `image` as RGBa, when the caller has made it (render.premultiplied).
    """
    step = min(image.size) // PROBE_SHORT_SIDE
    if step >= 2 and premultiplied is not None:  # `image` as RGBa (render.premultiplied): Pillow's own reduce of RGBA
        image = premultiplied.reduce(step).convert("RGBA")
    elif step >= 2:
        from .load import reduce_in_strips

        if image.mode in ("RGB", "RGBA"):
            image = reduce_in_strips(image, step)  # RGBA: no premultiplied copy of the whole image
        else:
            image = image.reduce(step) if image.mode in ("L", "LA") else image.convert("RGBA").reduce(step)
    if not isinstance(image, Image.Image):  # a PackedRGB too small to reduce
        image = image.image()
    rgb = composite(image)
    small = rgb.resize((_SIDE, _SIDE), Image.Resampling.BOX)
    vectors = np.empty((len(_BOX), 3 * _BLOCK * _BLOCK), np.float32)
    grids = np.empty((len(_BOX), _GRID, _GRID, 3), np.float32)
    for k, box in enumerate(_BOX):
        view = np.asarray(small.crop(box).resize((32, 32), Image.Resampling.LANCZOS))
        lab = srgb_to_lab(view)
        parts = []
        for ch, weight in ((0, 1.0), (1, _CHROMA_WEIGHT), (2, _CHROMA_WEIGHT)):
            block = _DCT @ lab[..., ch] @ _DCT.T
            block[0, 0] = 0.0  # the mean says nothing about structure
            parts.append(weight * block.ravel())
        vec = np.concatenate(parts)
        norm = float(np.linalg.norm(vec))
        vectors[k] = vec / norm if norm > 1e-3 else 0.0
        cell = 32 // _GRID
        grids[k] = lab.reshape(_GRID, cell, _GRID, cell, 3).mean(axis=(1, 3))
    lab_small = srgb_to_lab(np.asarray(small))
    flat = bool(lab_small.reshape(-1, 3).std(axis=0).max() < _FLAT_STD)
    quantized = np.clip(np.round((grids + _LAB_OFFSET) * _LAB_SCALE), 0, 255)
    return Fingerprint(
        phash=phash(rgb),
        flat=flat,
        structure=vectors.astype(np.float16).tobytes().hex(),
        colour=quantized.astype(np.uint8).tobytes().hex(),
    )


@dataclass(frozen=True, slots=True)
class _Arrays:
    structure: np.ndarray  # (n, views, 192) float32 unit vectors (zero when no structure)
    grid: np.ndarray  # (n, views, cells, 3) float32 CIELAB
    flat: np.ndarray  # (n,) bool


def _arrays(fps: Sequence[Fingerprint]) -> _Arrays:
    n, v = len(fps), len(_BOX)
    structure = np.frombuffer(b"".join(bytes.fromhex(f.structure) for f in fps), np.float16)
    grid = np.frombuffer(b"".join(bytes.fromhex(f.colour) for f in fps), np.uint8).astype(np.float32)
    grid = grid.reshape(n, v, _GRID * _GRID, 3) / _LAB_SCALE - _LAB_OFFSET
    return _Arrays(structure=structure.astype(np.float32).reshape(n, v, -1), grid=grid,
                   flat=np.array([f.flat for f in fps], bool))


@dataclass(frozen=True, slots=True)
class DistanceMatrices:
    """Pairwise distances (n x n). `colour` is only filled where structure could match."""

    structure: np.ndarray  # int: 1000 * (1 - best cosine over aligned views); 1000 for flat art
    view: np.ndarray  # int: >0 view k of the row source matched the column's full view, <0 the reverse
    colour: np.ndarray  # float: mean dE of the worst eighth of the grid cells at that alignment (inf: not computed)
    flat: np.ndarray  # (n,) bool


def distance_matrices(fps: Sequence[Fingerprint], *, colour_within: int) -> DistanceMatrices:
    """All pairwise distances; colour only for pairs with structure distance <= colour_within."""
    a = _arrays(fps)
    n = len(fps)
    full = a.structure[:, 0]
    best = full @ full.T
    view = np.zeros((n, n), np.int8)
    for k in range(1, len(_BOX)):
        sk = a.structure[:, k] @ full.T
        better = sk > best
        best[better], view[better] = sk[better], k
        sk_t = sk.T
        better = sk_t > best
        best[better], view[better] = sk_t[better], -k
    structure = np.rint(1000 * (1 - np.clip(best, -1, 1))).astype(np.int32)
    flat_pair = a.flat[:, None] | a.flat[None, :]
    structure[flat_pair] = _NO_MATCH
    colour = np.full((n, n), np.inf, np.float32)
    rows, cols = np.nonzero((structure <= colour_within) | (a.flat[:, None] & a.flat[None, :]))
    for start in range(0, len(rows), _CHUNK):  # bounded memory when a folder is full of look-alikes
        r, c = rows[start : start + _CHUNK], cols[start : start + _CHUNK]
        v = view[r, c]
        gi = a.grid[r, np.where(v > 0, v, 0)]
        gj = a.grid[c, np.where(v < 0, -v, 0)]
        cells = np.sort(np.linalg.norm(gi - gj, axis=-1), axis=1)
        colour[r, c] = cells[:, -_WORST_CELLS:].mean(axis=1)
    return DistanceMatrices(structure=structure, view=view, colour=colour, flat=a.flat)


def decide(d: DistanceMatrices, settings: DedupeSettings) -> np.ndarray:
    """The duplicate matrix: structure and colour both close; flat art by colour alone."""
    both_flat = d.flat[:, None] & d.flat[None, :]
    neither = ~(d.flat[:, None] | d.flat[None, :])
    structural = neither & (d.structure <= settings.structure_threshold) & (d.colour <= settings.colour_threshold)
    flat = both_flat & (d.colour <= settings.flat_colour_threshold)
    out = structural | flat
    np.fill_diagonal(out, False)
    return out


def _hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def distances(a: Fingerprint, b: Fingerprint) -> dict[str, int]:
    """What decided one pair: structure (per mille), colour (CIELAB), and the pHash distance."""
    d = distance_matrices([a, b], colour_within=_NO_MATCH)
    colour = float(d.colour[0, 1])
    return {
        "structure": int(d.structure[0, 1]),
        "colour": int(round(colour)) if np.isfinite(colour) else 999,
        "phash": _hamming(a.phash, b.phash),
    }


def is_duplicate(a: Fingerprint, b: Fingerprint, settings: DedupeSettings) -> bool:
    d = distance_matrices([a, b], colour_within=settings.structure_threshold)
    return bool(decide(d, settings)[0, 1])


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateGroup:
    """Indices into the candidate list: the kept one and those it replaces."""

    keeper: int
    duplicates: tuple[int, ...]


def find_duplicate_groups(
    fingerprints: Sequence[Fingerprint],
    *,
    pixels: Sequence[int],
    settings: DedupeSettings,
    keys: Sequence[str] | None = None,
    not_duplicates: Iterable[frozenset[str]] = (),
) -> list[DuplicateGroup]:
    """Keep the most pixels (then the first); drop each other source that duplicates a kept one.

    Greedy, not transitive: a source is dropped only for a kept source it is itself close to,
    so the recorded keeper and distances are the ones that decided it. `not_duplicates` holds
    pairs of `keys` an artist declared distinct: they never drop one another.
    """
    n = len(fingerprints)
    if n < 2:
        return []
    dup = decide(distance_matrices(fingerprints, colour_within=settings.structure_threshold), settings)
    allow = set(not_duplicates)
    order = sorted(range(n), key=lambda k: (-pixels[k], k))
    kept: list[int] = []
    members: dict[int, list[int]] = {}
    for i in order:
        keeper = next((k for k in kept if dup[i, k] and not (keys is not None and frozenset((keys[i], keys[k])) in allow)), None)
        if keeper is None:
            kept.append(i)
        else:
            members.setdefault(keeper, []).append(i)
    return [DuplicateGroup(keeper=k, duplicates=tuple(sorted(v))) for k, v in sorted(members.items())]


def unlocalized_findings(kept: dict[str, list[Probe]], settings: DedupeSettings, *, default: str = "en") -> list[Finding]:
    """Warn when a language's thumbnails look like the default language's: probably art nobody localized."""
    out: list[Finding] = []
    base = kept.get(default, [])
    for lang, probes in sorted(kept.items()):
        if lang == default:
            continue
        for p in probes:
            for e in base:
                if p.source.sha256 == e.source.sha256 or is_duplicate(p.fingerprint, e.fingerprint, settings):
                    out.append(Finding(code="unlocalized", source=p.source.rel,
                                       message=f"{lang} thumbnail looks the same as {default}'s {e.source.rel}: not localized?"))
                    break
    return out

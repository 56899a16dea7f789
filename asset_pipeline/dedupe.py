"""Near-duplicate detection for game art: a structural hash and a colour signal, alpha composited first.

Luminance-only hashes give flat, two-tone and transparent art the same hash and cannot see
colour, so each source is composited over a fixed grey, then hashed three ways (pHash and
dHash for structure, imagehash's colorhash for hue and saturation). Two sources are
duplicates when structure AND colour agree; art too flat for a structural hash is compared
by its mean colour and colour histogram instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image

from .config import DedupeSettings
from .records import Fingerprint

HASH_BACKGROUND = (128, 128, 128)  # fixed, so transparent areas hash the same everywhere
FLAT_STD = 4.0  # luminance std-dev (0-255) below which an image has no structure to hash
FLAT_MEAN_DISTANCE = 12  # RGB distance under which two flat images are the same


def fingerprint(image: Image.Image) -> Fingerprint:
    """Hashes of `image` (any size; a ~256 px draft is plenty)."""
    if image.mode == "RGBA":
        base = Image.new("RGBA", image.size, HASH_BACKGROUND + (255,))
        rgb = Image.alpha_composite(base, image).convert("RGB")
    else:
        rgb = image.convert("RGB")
    small = rgb.resize((64, 64), Image.Resampling.BOX) if max(rgb.size) > 64 else rgb
    lum = np.asarray(small.convert("L"), dtype=np.float32)
    mean = tuple(int(round(v)) for v in np.asarray(small, dtype=np.float32).reshape(-1, 3).mean(axis=0))
    return Fingerprint(
        phash=str(imagehash.phash(rgb)),
        dhash=str(imagehash.dhash(rgb)),
        colorhash=str(imagehash.colorhash(rgb, binbits=3)),
        flat=bool(lum.std() < FLAT_STD),
        mean_rgb=mean,  # type: ignore[arg-type]
    )


def _hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def distances(a: Fingerprint, b: Fingerprint) -> dict[str, int]:
    """Hamming distance per hash, and the mean-colour distance (rounded)."""
    mean = float(np.linalg.norm(np.subtract(a.mean_rgb, b.mean_rgb)))
    return {
        "phash": _hamming(a.phash, b.phash),
        "dhash": _hamming(a.dhash, b.dhash),
        "color": _hamming(a.colorhash, b.colorhash),
        "mean_rgb": int(round(mean)),
    }


def is_duplicate(a: Fingerprint, b: Fingerprint, settings: DedupeSettings) -> bool:
    d = distances(a, b)
    if a.flat or b.flat:
        # no structure to compare: only the same flat colour is a duplicate
        return a.flat and b.flat and d["mean_rgb"] <= FLAT_MEAN_DISTANCE and d["color"] <= settings.color_threshold
    return (
        d["phash"] <= settings.phash_threshold
        and d["dhash"] <= settings.dhash_threshold
        and d["color"] <= settings.color_threshold
    )


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
    """Cluster duplicates (transitively); keep the most pixels, then the first in order.

    `not_duplicates` holds pairs of `keys` an artist declared distinct: they are never linked.
    """
    n = len(fingerprints)
    allow = set(not_duplicates)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if keys is not None and frozenset((keys[i], keys[j])) in allow:
                continue
            if is_duplicate(fingerprints[i], fingerprints[j], settings):
                parent[find(j)] = find(i)
    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(i)
    groups = []
    for members in clusters.values():
        if len(members) < 2:
            continue
        keeper = min(members, key=lambda k: (-pixels[k], k))
        groups.append(DuplicateGroup(keeper=keeper, duplicates=tuple(m for m in members if m != keeper)))
    return sorted(groups, key=lambda g: g.keeper)

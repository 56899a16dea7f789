"""`asset-pipeline dedupe`: near-duplicate clusters among loose files, for artists cleaning a folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .config import load_preset
from .dedupe import distances, find_duplicate_groups, fingerprint
from .errors import AssetError
from .load import load_image
from .project import collect_files, hash_file
from .records import SourceFile


def run_dedupe(paths: list[Path], *, threshold: int | None = None, preset: str = "balanced") -> dict[str, Any]:
    settings = load_preset(preset).dedupe
    if threshold is not None:
        settings = dataclasses.replace(settings, structure_threshold=threshold)
    files = collect_files(paths)
    fps, sizes, names, errors = [], [], [], []
    for f in files:
        try:
            digest, size = hash_file(f)
            src = SourceFile(path=f, rel=f.as_posix(), sha256=digest, size=size)
            loaded = load_image(src, shrink_to=("short", 256))
        except AssetError as exc:
            errors.append({"source": exc.source, "reason": exc.reason})
            continue
        except OSError as exc:
            errors.append({"source": f.as_posix(), "reason": exc.strerror or str(exc)})
            continue
        fps.append(fingerprint(loaded.image))
        sizes.append(loaded.width * loaded.height)
        names.append(f.as_posix())
    groups = find_duplicate_groups(fps, pixels=sizes, settings=settings)
    clusters = [
        {
            "keep": names[g.keeper],
            "duplicates": [{"source": names[d], "distances": distances(fps[d], fps[g.keeper])} for d in g.duplicates],
        }
        for g in groups
    ]
    return {"images": len(names), "clusters": clusters, "errors": errors,
            "thresholds": dataclasses.asdict(settings)}


def describe(distances: dict[str, int]) -> str:
    """One line of the distances that decided a duplicate, for the terminal."""
    return f"structure {distances['structure']}/1000, colour {distances['colour']}, pHash {distances['phash']}"

"""Which thumbnails a language keeps: dedupe within the language, then the portal's count, in order."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from .cache import Cache, make_key
from .config import Preset, Profile
from .project import Project
from .records import Dropped, Finding, Probe


def memo(cache: Cache, kind: str, parts: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """A JSON-able result of `compute`, kept in the cache under the hash of `parts`.

    The dedupe decisions are a pure function of the fingerprints and settings; remembering them
    lets a no-change rebuild skip numpy (and its import) altogether.
    """
    key = make_key(kind, **parts)
    hit = cache.get(key)
    if hit is not None:
        return hit[0]["value"]
    value = compute()
    cache.put(key, {"value": value})
    return value


def fp_parts(probes: Sequence[Probe]) -> list[Any]:
    return [[p.source.rel, p.width, p.height, dataclasses.asdict(p.fingerprint)] for p in probes]


def select_language(
    lang: str, probes: list[Probe], project: Project, preset: Preset, profile: Profile, dropped: list[Dropped],
    findings: list[Finding], cache: Cache | None = None,
) -> list[Probe]:
    """One language's thumbnails: duplicates and those over the limit go to `dropped`."""
    limit = profile.thumbnail.max_count
    allow = sorted(sorted(pair) for pair in project.not_duplicates)

    def decide() -> list[list[Any]]:
        from .dedupe import distances, find_duplicate_groups

        groups = find_duplicate_groups(
            [p.fingerprint for p in probes], pixels=[p.width * p.height for p in probes], settings=preset.dedupe,
            keys=[p.source.rel for p in probes], not_duplicates=project.not_duplicates,
        )
        return [[g.keeper, [[d, distances(probes[d].fingerprint, probes[g.keeper].fingerprint)] for d in g.duplicates]]
                for g in groups]

    parts = {"probes": fp_parts(probes), "settings": dataclasses.asdict(preset.dedupe), "allow": allow}
    groups = memo(cache, "dedupe", parts, decide) if cache is not None else decide()
    gone: set[int] = set()
    for keeper_i, dups in groups:
        keeper = probes[keeper_i]
        for d, dist in dups:
            gone.add(d)
            dropped.append(Dropped(source=probes[d].source.rel, language=lang, reason="duplicate",
                                   duplicate_of=keeper.source.rel, distance=dist["structure"], distances=dist))
    survivors = [p for i, p in enumerate(probes) if i not in gone]
    for p in survivors[limit:]:
        dropped.append(Dropped(source=p.source.rel, language=lang, reason="over_limit",
                               message=f"{lang} already has {limit} thumbnails (the portal's limit)"))
        findings.append(Finding(code="over_limit", source=p.source.rel,
                                message=f"left out: {lang} already has {limit} thumbnails (the portal's limit)"))
    return survivors[:limit]

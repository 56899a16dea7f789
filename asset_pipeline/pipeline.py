"""Orchestration: discover -> probe (parallel) -> dedupe and cap -> render and encode (parallel) -> bundle.

Workers get one source each and return small records without pixels; every stage result
is cached by content, so a rebuild with nothing changed decodes and encodes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import manifest as mf
from .bundle import check_out_dir, clean_stale, locked, read_tree, write_bundle
from .cache import Cache, default_cache_dir, make_key
from .config import Preset, Profile, load_preset, load_profile
from .errors import AssetError, AssetPipelineError, BuildFailed, ConfigError, EncodeError
from .listing import check_project_listing
from .project import Project, discover
from .records import Dropped, EncodedAsset, Finding, Fingerprint, Probe, RenderSpec, SourceFile

log = logging.getLogger("asset_pipeline")

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
R = TypeVar("R")

PROBE_SIDE = 256  # pass 1 decodes a draft this big: enough for 64-bit hashes, cheap for JPEG


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A source or asset that failed, as it crosses a process boundary."""

    source: str
    reason: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderJob:
    source: SourceFile
    spec: RenderSpec
    stem: str  # bundle path without extension, e.g. "thumbnails/en/1"
    preset: Preset
    cache_root: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build did: the bundle (written or compared), findings and failures."""

    out: Path
    manifest: dict[str, Any]
    files: dict[str, bytes] = field(repr=False)
    assets: tuple[EncodedAsset, ...]
    dropped: tuple[Dropped, ...]
    findings: tuple[Finding, ...]
    failures: tuple[Failure, ...]
    written: bool
    stale: tuple[str, ...] = ()  # --check: files missing, different or extra under OUT

    @property
    def return_code(self) -> int:
        """0: bundle good (warnings allowed); 1: a source failed, or --check found OUT stale."""
        return 1 if self.failures or self.stale else 0


# --- workers ------------------------------------------------------------------------------


def _probe_worker(args: tuple[SourceFile, int, str | None]) -> Probe | Failure:
    from .dedupe import FINGERPRINT_VERSION, fingerprint
    from .load import load_image

    source, max_pixels, cache_root = args
    cache = Cache(Path(cache_root) if cache_root else None)
    key = make_key("probe", sha256=source.sha256, side=PROBE_SIDE, max_pixels=max_pixels, fingerprint=FINGERPRINT_VERSION)
    hit = cache.get(key)
    if hit is not None:
        meta, _ = hit
        return Probe(source=source, width=meta["width"], height=meta["height"], fingerprint=Fingerprint(**meta["fingerprint"]))
    try:
        loaded = load_image(source, max_pixels=max_pixels, shrink_to=("short", PROBE_SIDE))
        fp = fingerprint(loaded.image)
    except AssetError as exc:
        return Failure(source=source.rel, reason=exc.reason, kind=exc.reason_code)
    cache.put(key, {"width": loaded.width, "height": loaded.height, "fingerprint": dataclasses.asdict(fp)})
    return Probe(source=source, width=loaded.width, height=loaded.height, fingerprint=fp)


def _render_worker(job: RenderJob) -> EncodedAsset | Failure:
    try:
        return render_asset(job)
    except AssetError as exc:
        return Failure(source=exc.source, reason=exc.reason, kind=exc.reason_code)
    except Exception as exc:  # an encoder bug must name the file, not kill the batch
        log.exception("unexpected error on %s", job.source.rel)
        return Failure(source=job.source.rel, reason=f"internal error: {type(exc).__name__}: {exc}", kind="encode_failed")


def render_asset(job: RenderJob) -> EncodedAsset:
    """Load, fit, encode one asset (or take it from the cache)."""
    import imagehash

    from .encode.size_cap import encode_to_cap
    from .load import load_image
    from .quality import METRIC, flatten
    from .render import render

    cache = Cache(Path(job.cache_root) if job.cache_root else None)
    key = make_key(
        "asset", sha256=job.source.sha256, spec=dataclasses.asdict(job.spec), preset=job.preset.fingerprint(), stem=job.stem
    )
    hit = cache.get(key)
    if hit is not None and hit[1] is not None:
        meta, data = hit
        return EncodedAsset(
            role=job.spec.role, path=meta["path"], format=meta["format"], width=meta["width"], height=meta["height"],
            bytes=len(data), sha256=meta["sha256"], phash=meta["phash"], source=job.source,
            encoder=meta["encoder"], quality=meta["quality"],
            findings=tuple(Finding(**f) for f in meta["findings"]), data=data,
        )
    spec = job.spec
    gap = 2  # decode at >= 2x the target so LANCZOS has room (Pillow's reducing_gap idea)
    side = "long" if spec.fit == "contain" else "short"
    loaded = load_image(job.source, max_pixels=job.preset.render.max_pixels, shrink_to=(side, max(spec.width, spec.height) * gap))
    rendition = render(loaded, spec, linear_light=job.preset.render.linear_light)
    encoded = encode_to_cap(rendition.image, spec, job.preset, source=job.source.rel, has_alpha=rendition.has_alpha)
    if len(encoded.data) > spec.max_bytes:  # never reached: encode_to_cap guarantees it
        raise EncodeError(job.source.rel, "encoder returned a file over the cap")
    phash = str(imagehash.phash(flatten(rendition.image, spec.background)))
    findings = loaded.findings + rendition.findings + encoded.findings
    asset = EncodedAsset(
        role=spec.role, path=f"{job.stem}.{encoded.extension}", format=encoded.format, width=spec.width,
        height=spec.height, bytes=len(encoded.data), sha256=hashlib.sha256(encoded.data).hexdigest(), phash=phash,
        source=job.source, encoder=encoded.settings, quality={METRIC: encoded.score}, findings=findings,
        data=encoded.data,
    )
    meta = {
        "path": asset.path, "format": asset.format, "width": asset.width, "height": asset.height,
        "sha256": asset.sha256, "phash": asset.phash, "encoder": asset.encoder, "quality": asset.quality,
        "findings": [dataclasses.asdict(f) for f in findings],
    }
    cache.put(key, meta, encoded.data)
    return asset


# --- orchestration ------------------------------------------------------------------------


def _worker_init() -> None:
    from .logs import setup_logging

    setup_logging()


def _map(fn: Callable[[T], R], items: Sequence[T], *, jobs: int, pool: ProcessPoolExecutor | None, stage: str, progress: Progress | None) -> list[R]:
    """Order-preserving map, in the pool when there is one."""
    out: list[R] = []
    total = len(items)
    if progress:
        progress(stage, 0, total)
    results: Iterable[R] = pool.map(fn, items) if pool is not None and total > 1 else map(fn, items)
    for i, r in enumerate(results, 1):
        out.append(r)
        if progress:
            progress(stage, i, total)
    return out


def resolve_jobs(jobs: int | None) -> int:
    if jobs is None or jobs <= 0:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    return jobs


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildSettings:
    preset: Preset
    profile: Profile
    max_bytes: int | None = None


def resolve_settings(project: Project, *, preset: str | Path | None, platform: str | Path | None, max_bytes: int | None) -> BuildSettings:
    p = load_preset(preset or project.preset or "balanced")
    prof = load_profile(platform or project.platform or "tiktok-minis")
    if max_bytes is not None and max_bytes <= 0:
        msg = f"--max-bytes must be positive, not {max_bytes}"
        raise ConfigError(msg)
    return BuildSettings(preset=p, profile=prof, max_bytes=max_bytes)


def _spec(settings: BuildSettings, role: str, fit: str, background: tuple[int, int, int]) -> RenderSpec:
    rule = settings.profile.rule_for(role)
    cap = rule.max_bytes if settings.max_bytes is None else min(rule.max_bytes, settings.max_bytes)
    return RenderSpec(
        role=role, width=rule.width, height=rule.height, fit=fit, background=background,  # type: ignore[arg-type]
        formats=tuple(f for f in rule.formats if f in ("JPEG", "PNG")), max_bytes=cap,
    )


def build(
    root: str | Path,
    *,
    out: str | Path | None = None,
    preset: str | Path | None = None,
    platform: str | Path | None = None,
    max_bytes: int | None = None,
    jobs: int | None = None,
    check: bool = False,
    keep_going: bool = False,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> BuildResult:
    """Build (or, with `check`, verify) the bundle of the project at `root`.

    Raises ConfigError (exit 2) for usage problems and BuildFailed (exit 1) when sources fail
    and `keep_going` is off; in both cases OUT is untouched.
    """
    root = Path(root)
    project = discover(root)
    settings = resolve_settings(project, preset=preset, platform=platform, max_bytes=max_bytes)
    out_path = Path(out) if out is not None else root / "dist"
    source_dirs = [root / "thumbnails", root / "icons"]
    source_dirs += [s.path.parent for s in project.icons.values()]
    source_dirs += [s.path.parent for group in project.thumbnails.values() for s in group]
    check_out_dir(out_path, project=root, source_dirs=[d for d in source_dirs if d.resolve() != root.resolve()])
    cache_root = None
    if use_cache:
        cache_root = str(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    n_jobs = resolve_jobs(jobs)
    preset_obj, profile = settings.preset, settings.profile
    failures: list[Failure] = [Failure(source=p, reason=r, kind="unreadable") for p, r in project.problems]
    listing = check_project_listing(project, profile)  # listing errors fail the build like a bad source
    failures.extend(Failure(source="assets.toml", reason=e, kind="listing") for e in listing.errors)

    pool = ProcessPoolExecutor(max_workers=n_jobs, initializer=_worker_init) if n_jobs > 1 else None
    try:
        # pass 1: probe every thumbnail candidate
        candidates = [(lang, s) for lang in project.languages for s in project.thumbnails.get(lang, ())]
        probes = _map(
            _probe_worker, [(s, preset_obj.render.max_pixels, cache_root) for _, s in candidates],
            jobs=n_jobs, pool=pool, stage="probe", progress=progress,
        )
        dropped: list[Dropped] = []
        findings: list[Finding] = list(listing.warnings)
        kept: dict[str, list[Probe]] = {}
        by_lang: dict[str, list[Probe]] = {}
        for (lang, _src), res in zip(candidates, probes, strict=True):
            if isinstance(res, Failure):
                failures.append(res)
                dropped.append(Dropped(source=res.source, language=lang, reason="unreadable", message=res.reason))
            else:
                by_lang.setdefault(lang, []).append(res)
        dedupe_findings, kept = select_thumbnails(by_lang, project, preset_obj, profile, dropped)
        findings.extend(dedupe_findings)

        # pass 2: render and encode icons and kept thumbnails
        jobs_list: list[RenderJob] = []
        for lang in project.languages:
            src = project.icons.get(lang)
            if src is None:
                continue
            fit = project.fits.get(src.rel, project.icon.fit)
            stem = "icon" if lang == "en" else f"icons/{lang}"
            jobs_list.append(RenderJob(source=src, spec=_spec(settings, "icon", fit, project.icon.background), stem=stem, preset=preset_obj, cache_root=cache_root))
        for lang in project.languages:
            for i, probe in enumerate(kept.get(lang, []), 1):
                fit = project.fits.get(probe.source.rel, project.thumbnail.fit)
                jobs_list.append(
                    RenderJob(
                        source=probe.source, spec=_spec(settings, "thumbnail", fit, project.thumbnail.background),
                        stem=f"thumbnails/{lang}/{i}", preset=preset_obj, cache_root=cache_root,
                    )
                )
        rendered = _map(_render_worker, jobs_list, jobs=n_jobs, pool=pool, stage="encode", progress=progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    assets: dict[str, EncodedAsset] = {}
    for job, res in zip(jobs_list, rendered, strict=True):
        if isinstance(res, Failure):
            failures.append(res)
        else:
            assets[job.stem] = res
            findings.extend(res.findings)
    if "icon" not in assets or (failures and not keep_going):
        raise BuildFailed([AssetError(f.source, f.reason) for f in _unique(failures)])
    findings.extend(_cross_language_findings(project, kept, settings))
    data = assemble_manifest(project, settings, assets, kept, dropped, findings)
    files = {a.path: a.data for a in assets.values()}
    files["manifest.json"] = mf.dumps(data)
    result_findings = tuple(_sorted_findings(findings))
    if check:
        stale = compare_tree(out_path, files)
        return BuildResult(out=out_path, manifest=data, files=files, assets=tuple(assets.values()), dropped=tuple(dropped),
                           findings=result_findings, failures=tuple(_unique(failures)), written=False, stale=tuple(stale))
    with locked(out_path):
        clean_stale(out_path)
        write_bundle(out_path, files)
    log.info("built %s: %d files", out_path, len(files))
    return BuildResult(out=out_path, manifest=data, files=files, assets=tuple(assets.values()), dropped=tuple(dropped),
                       findings=result_findings, failures=tuple(_unique(failures)), written=True)


def _unique(failures: Iterable[Failure]) -> list[Failure]:
    seen: dict[tuple[str, str], Failure] = {}
    for f in failures:
        seen.setdefault((f.source, f.reason), f)
    return list(seen.values())


def _sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    uniq = {(f.source, f.code, f.message): f for f in findings}
    return [uniq[k] for k in sorted(uniq)]


def select_thumbnails(
    by_lang: dict[str, list[Probe]], project: Project, preset: Preset, profile: Profile, dropped: list[Dropped]
) -> tuple[list[Finding], dict[str, list[Probe]]]:
    """Dedupe within each language, then cap at the profile's count, in order."""
    from .dedupe import distances, find_duplicate_groups

    findings: list[Finding] = []
    kept: dict[str, list[Probe]] = {}
    limit = profile.thumbnail.max_count
    for lang, probes in by_lang.items():
        groups = find_duplicate_groups(
            [p.fingerprint for p in probes], pixels=[p.width * p.height for p in probes], settings=preset.dedupe,
            keys=[p.source.rel for p in probes], not_duplicates=project.not_duplicates,
        )
        gone: set[int] = set()
        for g in groups:
            keeper = probes[g.keeper]
            for d in g.duplicates:
                dist = distances(probes[d].fingerprint, keeper.fingerprint)
                gone.add(d)
                dropped.append(Dropped(source=probes[d].source.rel, language=lang, reason="duplicate",
                                       duplicate_of=keeper.source.rel, distance=dist["structure"], distances=dist))
        survivors = [p for i, p in enumerate(probes) if i not in gone]
        kept[lang] = survivors[:limit]
        for p in survivors[limit:]:
            dropped.append(Dropped(source=p.source.rel, language=lang, reason="over_limit",
                                   message=f"{lang} already has {limit} thumbnails (the portal's limit)"))
            findings.append(Finding(code="over_limit", source=p.source.rel,
                                    message=f"left out: {lang} already has {limit} thumbnails (the portal's limit)"))
    return findings, kept


def _cross_language_findings(project: Project, kept: dict[str, list[Probe]], settings: BuildSettings) -> list[Finding]:
    """Warn when a language's thumbnails look like en's: probably art nobody localized."""
    from .dedupe import unlocalized_findings

    return unlocalized_findings(kept, settings.preset.dedupe)


def assemble_manifest(
    project: Project, settings: BuildSettings, assets: dict[str, EncodedAsset], kept: dict[str, list[Probe]],
    dropped: list[Dropped], findings: list[Finding],
) -> dict[str, Any]:
    from .languages import portal_name

    langs: dict[str, Any] = {}
    en_thumbs = [assets[f"thumbnails/en/{i}"].record() for i in range(1, len(kept.get("en", [])) + 1) if f"thumbnails/en/{i}" in assets]
    for lang in project.languages:
        own = [assets[f"thumbnails/{lang}/{i}"].record() for i in range(1, len(kept.get(lang, [])) + 1) if f"thumbnails/{lang}/{i}" in assets]
        inherit = lang != "en" and not own
        icon = assets.get("icon" if lang == "en" else f"icons/{lang}")
        langs[lang] = {
            "name": portal_name(lang),
            "thumbnails": en_thumbs if inherit else own,
            "inherited_from": "en" if inherit else None,
            "icon": icon.record() if icon is not None and lang != "en" else None,
            "icon_inherited_from": "en" if lang != "en" and icon is None else None,
        }
    listing = check_project_listing(project, settings.profile).listing
    return {
        "schema_version": mf.SCHEMA_VERSION,
        "generator": mf.generator(),
        "platform": {"name": settings.profile.name, "rules": settings.profile.rules()},
        "preset": {"name": settings.preset.name, "sha256": settings.preset.fingerprint(), "settings": settings.preset.settings()},
        "max_bytes": settings.max_bytes,
        "icon": assets["icon"].record(),
        "languages": langs,
        "dropped": [d.as_json() for d in sorted(dropped, key=lambda d: (d.language, d.source))],
        "warnings": [f.as_json() for f in _sorted_findings(findings)],
        "listing": listing,
    }


def compare_tree(out: Path, files: dict[str, bytes]) -> list[str]:
    """Lines naming what differs between OUT and what a build would write."""
    if not out.is_dir():
        return [f"{out}: missing (no bundle built yet)"]
    current = read_tree(out)
    lines = []
    for rel in sorted(set(files) | set(current)):
        if rel not in current:
            lines.append(f"{rel}: missing")
        elif rel not in files:
            lines.append(f"{rel}: extra (a build would remove it)")
        elif current[rel] != files[rel]:
            lines.append(f"{rel}: stale (a build would change it)")
    return lines


__all__ = ["AssetPipelineError", "BuildResult", "Failure", "build", "render_asset"]

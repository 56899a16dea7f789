"""Orchestration: discover -> probe (parallel) -> dedupe and cap -> render and encode (parallel) -> bundle.

Workers get one source each and return small records without pixels; every stage result
is cached by content, so a rebuild with nothing changed decodes and encodes nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import manifest as mf
from .bundle import LOCK_TIMEOUT_S, check_out_dir, clean_stale, locked, read_tree, write_bundle
from .cache import Cache, FileHashes, default_cache_dir
from .config import Preset, Profile, load_preset, load_profile
from .errors import AssetError, BuildFailed, ConfigError
from .listing import check_project_listing
from .project import Project, discover, use_file_hashes
from .records import Dropped, EncodedAsset, Finding, Probe, RenderSpec, SourceFile
from .scheduler import Pool, Progress, Work, preload
from .selection import fp_parts, memo, select_language
from .work import Failure, PreviousBundle, RenderJob

log = logging.getLogger("asset_pipeline")




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


# --- orchestration ------------------------------------------------------------------------


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
        lint=settings.profile.lint_levels(),
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
    lock_timeout: float | None = None,
    report: bool = True,
) -> BuildResult:
    """Build (or, with `check`, verify) the bundle of the project at `root`.

    Raises ConfigError (exit 2) for usage problems and BuildFailed (exit 1) when sources fail
    and `keep_going` is off; in both cases OUT is untouched.
    """
    root = Path(root)
    hashes_root = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
    with use_file_hashes(FileHashes(hashes_root)):
        return _build(root, out=out, preset=preset, platform=platform, max_bytes=max_bytes, jobs=jobs, check=check,
                      keep_going=keep_going, cache_dir=cache_dir, use_cache=use_cache, progress=progress,
                      lock_timeout=lock_timeout, report=report)


def _build(
    root: Path,
    *,
    out: str | Path | None,
    preset: str | Path | None,
    platform: str | Path | None,
    max_bytes: int | None,
    jobs: int | None,
    check: bool,
    keep_going: bool,
    cache_dir: str | Path | None,
    use_cache: bool,
    progress: Progress | None,
    lock_timeout: float | None,
    report: bool,
) -> BuildResult:
    if lock_timeout is None:
        lock_timeout = _lock_timeout_from_env()  # a bad value is found now, not after the whole build
    n_jobs = resolve_jobs(jobs)
    # sources to hash mean work to do, most likely: the tasks' imports are made meanwhile
    meanwhile = None if check else preload if n_jobs > 1 else functools.partial(preload, here=True)
    project = discover(root, meanwhile=meanwhile)
    settings = resolve_settings(project, preset=preset, platform=platform, max_bytes=max_bytes)
    out_path = Path(out) if out is not None else root / "dist"
    source_dirs = [root / "thumbnails", root / "icons"]
    source_dirs += [s.path.parent for s in project.icons.values()]
    source_dirs += [s.path.parent for group in project.thumbnails.values() for s in group]
    check_out_dir(out_path, project=root, source_dirs=source_dirs)
    cache_root = None
    if use_cache:
        cache_root = str(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    preset_obj, profile = settings.preset, settings.profile
    failures: list[Failure] = [Failure(source=p, reason=r, kind="unreadable") for p, r in project.problems]
    listing = check_project_listing(project, profile)  # listing errors fail the build like a bad source
    failures.extend(Failure(source="assets.toml", reason=e, kind="listing") for e in listing.errors)

    cache = Cache(Path(cache_root) if cache_root else None)

    # every output a source may be needed for: icons now, thumbnails if dedupe keeps them
    jobs_icons: list[RenderJob] = []
    for lang in project.languages:
        src = project.icons.get(lang)
        if src is not None:
            fit = project.fits.get(src.rel, project.icon.fit)
            stem = "icon" if lang == "en" else f"icons/{lang}"
            jobs_icons.append(RenderJob(source=src, spec=_spec(settings, "icon", fit, project.icon.background), stem=stem, preset=preset_obj, cache_root=cache_root))

    def thumb_spec(src: SourceFile) -> RenderSpec:
        return _spec(settings, "thumbnail", project.fits.get(src.rel, project.thumbnail.fit), project.thumbnail.background)

    candidates = [(lang, s) for lang in project.languages for s in project.thumbnails.get(lang, ())]
    previous = PreviousBundle.load(out_path, preset_obj, profile, settings.max_bytes)
    work = Work(project=project, preset=preset_obj, cache=cache, cache_root=cache_root, previous=previous,
                 jobs_icons=jobs_icons, candidates=candidates, thumb_spec=thumb_spec, profile=profile,
                 remember=use_cache, previews=report and cache_root is not None)
    pool = Pool(n_jobs)
    try:
        work.run(pool, progress)
    except BaseException:
        pool.close(abort=True)
        raise
    pool.close()

    dropped, kept = work.dropped, work.kept
    findings: list[Finding] = list(listing.warnings) + work.findings
    for lang, src in candidates:  # unreadable candidates, in project order
        bad = work.failed.get(src.sha256)
        if bad is not None:
            failures.append(Failure(source=src.rel, reason=bad.reason, kind=bad.kind))
            dropped.append(Dropped(source=src.rel, language=lang, reason="unreadable", message=bad.reason))
    for lang, rel, reason in project.refused:  # never read at all (their failures came from discovery)
        dropped.append(Dropped(source=rel, language=lang, reason="unreadable", message=reason))
    jobs_list = list(jobs_icons)
    for lang in project.languages:
        for i, probe in enumerate(kept.get(lang, []), 1):
            jobs_list.append(RenderJob(source=probe.source, spec=thumb_spec(probe.source), stem=f"thumbnails/{lang}/{i}",
                                       preset=preset_obj, cache_root=cache_root))
    rendered = [work.result(job) for job in jobs_list]

    assets: dict[str, EncodedAsset] = {}
    for job, res in zip(jobs_list, rendered, strict=True):
        if isinstance(res, Failure):
            failures.append(res)
        else:
            assets[job.stem] = res
            findings.extend(dataclasses.replace(f, asset=res.path) for f in res.findings)
            # a profile can make an art check an error: the asset stays, the build exits 1
            failures.extend(Failure(source=f.source, reason=f"{f.message} [{f.code}]", kind="lint") for f in res.findings if f.level == "error")
    if "icon" not in assets or (failures and not keep_going):
        raise BuildFailed([AssetError(f.source, f.reason) for f in _unique(failures)])
    findings.extend(_cross_language_findings(project, kept, settings, cache if use_cache else None))
    data = assemble_manifest(project, settings, assets, kept, dropped, findings)
    files = {a.path: a.data for a in assets.values()}
    files["manifest.json"] = mf.dumps(data)
    if report:  # made from the manifest as written, so `report BUNDLE` gives the same bytes
        from .html_report import render_report
        from .report_cli import REPORT_NAME

        files[REPORT_NAME] = render_report(json.loads(files["manifest.json"]), project=root, cache_root=cache_root)
    result_findings = tuple(_sorted_findings(findings))
    if check:
        stale = compare_tree(out_path, files)
        return BuildResult(out=out_path, manifest=data, files=files, assets=tuple(assets.values()), dropped=tuple(dropped),
                           findings=result_findings, failures=tuple(_unique(failures)), written=False, stale=tuple(stale))
    with locked(out_path, timeout=lock_timeout):
        clean_stale(out_path)
        # an up-to-date bundle is left alone: no rewrite, no new mtimes, no churn
        written = bool(compare_tree(out_path, files))
        if written:
            write_bundle(out_path, files)
            log.info("built %s: %d files", out_path, len(files))
    return BuildResult(out=out_path, manifest=data, files=files, assets=tuple(assets.values()), dropped=tuple(dropped),
                       findings=result_findings, failures=tuple(_unique(failures)), written=written)


def _lock_timeout_from_env() -> float:
    raw = os.environ.get("ASSET_PIPELINE_LOCK_TIMEOUT")
    if raw is None:
        return LOCK_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        msg = f"ASSET_PIPELINE_LOCK_TIMEOUT: expected seconds to wait for another build's lock, not {raw!r}"
        raise ConfigError(msg)
    return value


def _unique(failures: Iterable[Failure]) -> list[Failure]:
    seen: dict[tuple[str, str], Failure] = {}
    for f in failures:
        seen.setdefault((f.source, f.reason), f)
    return list(seen.values())


def _sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    uniq = {(f.source, f.code, f.message): f for f in findings}
    return [uniq[k] for k in sorted(uniq)]


def _cross_language_findings(project: Project, kept: dict[str, list[Probe]], settings: BuildSettings,
                             cache: Cache | None = None) -> list[Finding]:
    """Warn when a language's thumbnails look like en's: probably art nobody localized."""

    def compute() -> list[dict[str, Any]]:
        from .dedupe import unlocalized_findings

        return [dataclasses.asdict(f) for f in unlocalized_findings(kept, settings.preset.dedupe)]

    parts = {"kept": {lang: fp_parts(ps) for lang, ps in sorted(kept.items())}, "settings": dataclasses.asdict(settings.preset.dedupe)}
    found = memo(cache, "unlocalized", parts, compute) if cache is not None else compute()
    return [Finding(**f) for f in found]


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


__all__ = ["BuildResult", "build", "compare_tree", "select_language"]

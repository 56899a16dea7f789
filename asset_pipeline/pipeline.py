"""Orchestration: discover -> probe (parallel) -> dedupe and cap -> render and encode (parallel) -> bundle.

Workers get one source each and return small records without pixels; every stage result
is cached by content, so a rebuild with nothing changed decodes and encodes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import manifest as mf
from .bundle import LOCK_TIMEOUT_S, check_out_dir, clean_stale, locked, read_tree, write_bundle
from .cache import Cache, FileHashes, default_cache_dir, make_key
from .config import Preset, Profile, load_preset, load_profile
from .errors import AssetError, BuildFailed, ConfigError
from .listing import check_project_listing
from .project import Project, discover, use_file_hashes
from .records import Dropped, EncodedAsset, Finding, Probe, RenderSpec, SourceFile
from .work import (
    Failure,
    Pixels,
    PrepareTask,
    PreviousBundle,
    RenderJob,
    cached_asset,
    cached_probe,
    decode_side,
    encode,
    make_preview,
    prepare,
)

log = logging.getLogger("asset_pipeline")

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
R = TypeVar("R")



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


def _worker_init_logging_only() -> None:
    from .logs import setup_logging

    setup_logging()


def _worker_init() -> None:
    import signal

    from .logs import setup_logging

    # Ctrl-C is the main process's to handle: it stops the pool and leaves OUT untouched
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    setup_logging()


class _Pool:
    """A process pool made on first need: a build whose work is all cached starts no process."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, stage: str, progress: Progress | None) -> list[R]:
        """Order-preserving map; in worker processes when there is more than one item and job."""
        total = len(items)
        if progress:
            progress(stage, 0, total)
        if self.jobs > 1 and total > 1:
            if self.executor is None:
                _worker_init_logging_only()
                self.executor = ProcessPoolExecutor(max_workers=self.jobs, initializer=_worker_init)
            results: Iterable[R] = self.executor.map(fn, items)
        else:
            results = map(fn, items)
        out: list[R] = []
        for i, r in enumerate(results, 1):
            out.append(r)
            if progress:
                progress(stage, i, total)
        return out

    def close(self, *, abort: bool = False) -> None:
        if self.executor is None:
            return
        if abort:  # interrupted: do not wait for encodes whose results nobody will use
            for proc in list(getattr(self.executor, "_processes", {}).values()):
                proc.terminate()
            self.executor.shutdown(wait=False, cancel_futures=True)
        else:
            self.executor.shutdown(cancel_futures=True)


def _fill(cached: list[T | None], compute: Callable[[list[int]], list[T]]) -> list[T]:
    """Results in order: cached ones as they are, the misses computed in one batch."""
    missing = [i for i, c in enumerate(cached) if c is None]
    computed = compute(missing) if missing else []
    out = list(cached)
    for i, r in zip(missing, computed, strict=True):
        out[i] = r
    return out  # type: ignore[return-value]


def _spec_order(spec: RenderSpec) -> tuple[Any, ...]:
    return (spec.role, spec.width, spec.fit, spec.background)


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

    cache = Cache(Path(cache_root) if cache_root else None)
    max_px = preset_obj.render.max_pixels

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
    # keyed by content, not path: the same art under two names (an icon that is also a
    # thumbnail candidate, one picture in two languages) is decoded once
    needs: dict[str, set[RenderSpec]] = {}
    for job in jobs_icons:
        needs.setdefault(job.source.sha256, set()).add(job.spec)
    for _lang, src in candidates:
        needs.setdefault(src.sha256, set()).add(thumb_spec(src))
    sides = {sha: decode_side(tuple(specs)) for sha, specs in needs.items()}
    previous = PreviousBundle.load(out_path, preset_obj, profile, settings.max_bytes)

    def done_before(src: SourceFile, spec: RenderSpec) -> EncodedAsset | None:
        job = RenderJob(source=src, spec=spec, stem="", preset=preset_obj, cache_root=cache_root)
        return cached_asset(job, cache) or previous.reuse(job)

    pool = _Pool(n_jobs)
    try:
        # pass 1: decode each thumbnail candidate whose fingerprint is not cached, once, and render
        # from that decode every size this content needs that is not encoded yet
        probes: dict[str, Probe] = {}  # by sha256
        tasks: list[PrepareTask] = []
        first: dict[str, SourceFile] = {}
        for _lang, src in candidates:
            first.setdefault(src.sha256, src)
        for sha, src in first.items():
            hit = cached_probe(src, max_px, sides[sha], cache)
            if hit is not None:
                probes[sha] = hit
                continue
            todo = tuple(sorted((sp for sp in needs[sha] if done_before(src, sp) is None), key=_spec_order))
            tasks.append(PrepareTask(source=src, specs=todo, decode_side=sides[sha], need_probe=True, preset=preset_obj, cache_root=cache_root))
        prepared = pool.map(prepare, tasks, stage="probe", progress=progress)
        pixels: dict[tuple[str, RenderSpec], Pixels] = {}
        failed: dict[str, Failure] = {}  # by sha256
        for task, res in zip(tasks, prepared, strict=True):
            if isinstance(res, Failure):
                failed[task.source.sha256] = res
                continue
            if res.probe is not None:
                probes[task.source.sha256] = res.probe
            for spec, px in res.renditions.items():
                pixels[(task.source.sha256, spec)] = px

        dropped: list[Dropped] = []
        findings: list[Finding] = list(listing.warnings)
        by_lang: dict[str, list[Probe]] = {}
        for lang, src in candidates:
            if src.sha256 in failed:
                reason = failed[src.sha256].reason
                failures.append(Failure(source=src.rel, reason=reason, kind=failed[src.sha256].kind))
                dropped.append(Dropped(source=src.rel, language=lang, reason="unreadable", message=reason))
            else:
                by_lang.setdefault(lang, []).append(dataclasses.replace(probes[src.sha256], source=src))
        dedupe_findings, kept = select_thumbnails(by_lang, project, preset_obj, profile, dropped, cache if use_cache else None)
        findings.extend(dedupe_findings)

        # pass 2: encode icons and kept thumbnails (decoding only what pass 1 did not)
        jobs_list = [j for j in jobs_icons if j.source.sha256 not in failed]
        for lang in project.languages:
            for i, probe in enumerate(kept.get(lang, []), 1):
                jobs_list.append(RenderJob(source=probe.source, spec=thumb_spec(probe.source), stem=f"thumbnails/{lang}/{i}",
                                           preset=preset_obj, cache_root=cache_root))
        ready = [done_before(j.source, j.spec) for j in jobs_list]
        rendered: list[EncodedAsset | Failure] = _fill(
            [dataclasses.replace(r, path=f"{j.stem}.{r.path.rsplit('.', 1)[-1]}") if r is not None else None for j, r in zip(jobs_list, ready, strict=True)],
            lambda miss: pool.map(encode, [(jobs_list[i], pixels.get((jobs_list[i].source.sha256, jobs_list[i].spec))) for i in miss],
                                  stage="encode", progress=progress),
        )
        if report and cache_root:
            # the review page embeds previews of dropped candidates: make the missing ones in
            # the pool now rather than one by one in this process while the page is written
            from .review import PREVIEW_SIDE

            todo_previews = sorted({d.source for d in dropped if d.reason != "unreadable"})
            by_rel = {s.rel: s for _, s in candidates}
            todo_previews = [r for r in todo_previews if r in by_rel
                             and cache.get(make_key("preview", sha256=by_rel[r].sha256, side=PREVIEW_SIDE)) is None]
            pool.map(make_preview, [(str(root), r, cache_root) for r in todo_previews], stage="preview", progress=None)
    except BaseException:
        pool.close(abort=True)
        raise
    pool.close()

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
    if lock_timeout is None:
        lock_timeout = float(os.environ.get("ASSET_PIPELINE_LOCK_TIMEOUT", LOCK_TIMEOUT_S))
    with locked(out_path, timeout=lock_timeout):
        clean_stale(out_path)
        # an up-to-date bundle is left alone: no rewrite, no new mtimes, no churn
        written = bool(compare_tree(out_path, files))
        if written:
            write_bundle(out_path, files)
            log.info("built %s: %d files", out_path, len(files))
    return BuildResult(out=out_path, manifest=data, files=files, assets=tuple(assets.values()), dropped=tuple(dropped),
                       findings=result_findings, failures=tuple(_unique(failures)), written=written)


def _unique(failures: Iterable[Failure]) -> list[Failure]:
    seen: dict[tuple[str, str], Failure] = {}
    for f in failures:
        seen.setdefault((f.source, f.reason), f)
    return list(seen.values())


def _sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    uniq = {(f.source, f.code, f.message): f for f in findings}
    return [uniq[k] for k in sorted(uniq)]


def _memo(cache: Cache, kind: str, parts: dict[str, Any], compute: Callable[[], Any]) -> Any:
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


def _fp_parts(probes: Sequence[Probe]) -> list[Any]:
    return [[p.source.rel, p.width, p.height, dataclasses.asdict(p.fingerprint)] for p in probes]


def select_thumbnails(
    by_lang: dict[str, list[Probe]], project: Project, preset: Preset, profile: Profile, dropped: list[Dropped],
    cache: Cache | None = None,
) -> tuple[list[Finding], dict[str, list[Probe]]]:
    """Dedupe within each language, then cap at the profile's count, in order."""
    findings: list[Finding] = []
    kept: dict[str, list[Probe]] = {}
    limit = profile.thumbnail.max_count
    allow = sorted(sorted(pair) for pair in project.not_duplicates)
    for lang, probes in by_lang.items():

        def decide(probes: list[Probe] = probes) -> list[list[Any]]:
            from .dedupe import distances, find_duplicate_groups

            groups = find_duplicate_groups(
                [p.fingerprint for p in probes], pixels=[p.width * p.height for p in probes], settings=preset.dedupe,
                keys=[p.source.rel for p in probes], not_duplicates=project.not_duplicates,
            )
            return [[g.keeper, [[d, distances(probes[d].fingerprint, probes[g.keeper].fingerprint)] for d in g.duplicates]]
                    for g in groups]

        parts = {"probes": _fp_parts(probes), "settings": dataclasses.asdict(preset.dedupe), "allow": allow}
        groups = _memo(cache, "dedupe", parts, decide) if cache is not None else decide()
        gone: set[int] = set()
        for keeper_i, dups in groups:
            keeper = probes[keeper_i]
            for d, dist in dups:
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


def _cross_language_findings(project: Project, kept: dict[str, list[Probe]], settings: BuildSettings,
                             cache: Cache | None = None) -> list[Finding]:
    """Warn when a language's thumbnails look like en's: probably art nobody localized."""

    def compute() -> list[dict[str, Any]]:
        from .dedupe import unlocalized_findings

        return [dataclasses.asdict(f) for f in unlocalized_findings(kept, settings.preset.dedupe)]

    parts = {"kept": {lang: _fp_parts(ps) for lang, ps in sorted(kept.items())}, "settings": dataclasses.asdict(settings.preset.dedupe)}
    found = _memo(cache, "unlocalized", parts, compute) if cache is not None else compute()
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


__all__ = ["BuildResult", "build", "compare_tree", "select_thumbnails"]

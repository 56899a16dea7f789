"""The `asset-pipeline` command: click only. Parse flags, call the library, print, exit."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from . import report as term
from .errors import AssetPipelineError, BuildFailed

F = TypeVar("F", bound=Callable[..., Any])
SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what the shell reports for a command stopped by a closed pipe
log = logging.getLogger("asset_pipeline")


def _exit_now(code: int) -> None:
    """Exit without the interpreter's shutdown, once the command has cleaned up after itself
    (see `run`; the pool is closed, OUT written or left as it was, the lock goes with the
    process): only the output streams and the log need flushing.

    After Ctrl-C it is also what makes the exit sure: a worker stopped while it was sending a
    result leaves half a message in the pool's result pipe; concurrent.futures' manager thread
    then waits for the rest, and a normal exit joins that thread forever (2 of 44 interrupted
    builds under load hung so).
    """
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)


def run() -> None:
    """The console script and `python -m asset_pipeline`: `main`, then `_exit_now`.

    Once a command has returned, what is left for the interpreter's own shutdown is freeing
    numpy, Pillow and the rest module by module: 40 ms of a 1.5 s build (a third of a no-change
    `build --check`), for nothing. `main` itself stays a normal click command for callers
    (tests, scripts) that go on after it.
    """
    try:
        main()  # standalone: ends in SystemExit, whatever happened
    except SystemExit as exc:
        code = exc.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        _exit_now(code or 0)


def _handle_errors(fn: F) -> F:
    """One line for our errors, 130 on Ctrl-C, 141 quietly when stdout's reader has gone, a
    pointer to the log for anything unexpected."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return fn(*args, **kwargs)
        except BuildFailed as exc:
            project = kwargs.get("project")
            for e in exc.errors:
                term.error(str(e), file=_repo_path(project, e.source) if project else e.source)
            term.error(str(exc))
            sys.exit(exc.exit_code)
        except AssetPipelineError as exc:
            term.error(str(exc), file=getattr(exc, "source", None))
            if debug:
                raise
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            term.error("interrupted; OUT left as it was")
            _exit_now(130)
        except BrokenPipeError:
            # whatever reads stdout has gone (`asset-pipeline presets | head -3`): the work is done
            # or no longer wanted, so stop without a word, with the shell's status for SIGPIPE
            _exit_now(SIGPIPE_EXIT)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as exc:
            from .logs import setup_logging

            setup_logging()
            log.exception("internal error")
            if debug:
                raise
            from .logs import log_file

            term.error(f"internal error: {type(exc).__name__}: {exc} (details in {log_file()})")
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


def _repo_path(project: Path | None, rel: str) -> str:
    """A source's path as GitHub annotations want it: relative to the working directory."""
    import os

    if project is None:
        return rel
    return os.path.relpath(project / rel)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="asset-pipeline")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
def main(debug: bool) -> None:
    """Turn source art into TikTok Mini Game store assets: a 1024x1024 icon and up to three
    360x360 DM-sharing thumbnails per language, under the portal's byte cap, with a manifest
    that proves every rule is met."""
    import os

    # numpy's OpenBLAS would start a thread per CPU for products of a few thousand values, which
    # spin between calls: a `--jobs 1` build used 5.9 s of CPU for 4.3 s of wall, 4.3 s with one
    # thread at the same wall time. Set before numpy loads; a user's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if debug:  # otherwise the log file is opened when there is work to log (keeps no-op runs fast)
        from .logs import setup_logging

        setup_logging(logging.DEBUG)


@main.command()
@click.argument("project", default=".", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Bundle folder (default: PROJECT/dist).")
@click.option("--preset", help="Compression preset: a name from `asset-pipeline presets`, or a .toml file.")
@click.option("--platform", help="Platform profile: a name (tiktok-minis, tiktok-minis-2026) or a .toml file.")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Tighten every asset's byte budget below the profile's cap.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, help="Worker processes (0 = one per CPU).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result object on stdout.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if OUT is missing, stale or invalid (for CI).")
@click.option("--keep-going", is_flag=True, help="Write the bundle without unreadable sources (still exits 1).")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Cache folder (default: $ASSET_PIPELINE_CACHE_DIR or the user cache).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--no-report", is_flag=True, help="Do not write report.html (the review page).")
@_handle_errors
def build(project: Path, out: Path | None, preset: str | None, platform: str | None, max_bytes: int | None,
          jobs: int, as_json: bool, check: bool, keep_going: bool, cache_dir: Path | None,
          no_cache: bool, no_report: bool) -> None:
    """Build the bundle of PROJECT (default: the current folder)."""
    from .pipeline import build as run_build

    with term.progress_reporter(not as_json) as progress:
        try:
            result = run_build(project, out=out, preset=preset, platform=platform, max_bytes=max_bytes, jobs=jobs,
                               check=check, keep_going=keep_going, cache_dir=cache_dir, use_cache=not no_cache,
                               progress=progress, report=not no_report)
        except BuildFailed as exc:
            if as_json:
                term.emit_json({"status": "failed", "exit_code": 1, "errors": [{"source": e.source, "reason": e.reason} for e in exc.errors]})
            raise
    for f in result.findings:
        if f.level != "error":  # error-level lint findings are printed with the failures
            term.warning(f"{f.source}: {f.message} [{f.code}]", file=_repo_path(project, f.source))
    for f in result.failures:
        term.error(f"{f.source}: {f.reason}", file=_repo_path(project, f.source))
    for line in result.stale:
        term.error(f"{result.out}/{line}" if not line.startswith(str(result.out)) else line)
    status = "ok" if result.return_code == 0 else ("stale" if result.stale else "failed")
    if as_json:
        term.emit_json({
            "status": status, "exit_code": result.return_code, "out": str(result.out), "written": result.written,
            "counts": {"assets": len(result.assets), "dropped": len(result.dropped), "warnings": len(result.findings),
                       "errors": len(result.failures), "stale": len(result.stale)},
            "assets": [a.record() for a in result.assets],
            "dropped": [d.as_json() for d in result.dropped],
            "warnings": [f.as_json() for f in result.findings],
            "errors": [{"source": f.source, "reason": f.reason} for f in result.failures],
            "stale": list(result.stale),
        })
    else:
        if check:
            term.info(f"{result.out}: {'up to date' if not result.stale else f'{len(result.stale)} file(s) out of date'}")
        elif not result.written and not result.failures:
            term.info(f"{result.out}: up to date ({len(result.assets)} assets)")
        else:
            total = sum(a.bytes for a in result.assets)
            term.info(f"wrote {result.out}: {len(result.assets)} assets, {total:,} bytes, "
                     f"{len(result.dropped)} dropped, {len(result.findings)} warnings")
    sys.exit(result.return_code)


@main.command()
@click.argument("targets", nargs=-1, type=click.Path(path_type=Path))
@click.option("--icon", "icons", multiple=True, type=click.Path(path_type=Path), help="A loose icon file to check.")
@click.option("--thumbnail", "thumbnails", multiple=True, type=click.Path(path_type=Path), help="A loose thumbnail file to check (repeatable).")
@click.option("--platform", help="Platform profile (default: the bundle's, or tiktok-minis).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result object on stdout.")
@_handle_errors
def check(targets: tuple[Path, ...], icons: tuple[Path, ...], thumbnails: tuple[Path, ...], platform: str | None, as_json: bool) -> None:
    """Validate a BUNDLE folder (rules, manifest schema, hashes), or loose FILES (role from
    --icon/--thumbnail, else from the name: icon.* and icons/* are icons, the rest thumbnails)."""
    from .checker import check_targets

    result = check_targets(list(targets), list(icons), list(thumbnails), platform=platform)
    warnings = result.details.get("warnings", [])  # art lint findings on loose files
    if as_json:
        term.emit_json({"status": "ok" if not result.problems else "failed", "exit_code": result.return_code,
                       "profile": result.profile, "checked": list(result.checked), "errors": list(result.problems),
                       "warnings": warnings})
    else:
        for w in warnings:
            term.warning(f"{w['source']}: {w['message']} [{w['code']}]", file=w["source"])
        for p in result.problems:
            term.error(p)
        if not result.problems:
            term.info(f"ok: {len(result.checked)} file(s) meet the {result.profile} rules")
    sys.exit(result.return_code)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--threshold", type=click.IntRange(0, 1000), help="Structure distance (per mille) at or under which images are duplicates (the preset's structure_threshold).")
@click.option("--preset", default="balanced", show_default=True, help="Preset whose dedupe thresholds apply.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result object on stdout.")
@_handle_errors
def dedupe(paths: tuple[Path, ...], threshold: int | None, preset: str, as_json: bool) -> None:
    """Report near-duplicate clusters among PATHS (files or folders)."""
    from .dedupe_cli import describe, run_dedupe

    result = run_dedupe(list(paths), threshold=threshold, preset=preset)
    if as_json:
        term.emit_json(result)
    else:
        for err in result["errors"]:
            term.error(f"{err['source']}: {err['reason']}")
        for c in result["clusters"]:
            click.echo(f"keep {c['keep']}")
            for d in c["duplicates"]:
                click.echo(f"  duplicate {d['source']} ({describe(d['distances'])})")
        term.info(f"{len(result['clusters'])} cluster(s) among {result['images']} image(s)")
    sys.exit(1 if result["errors"] else 0)


@main.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--contact-sheet", "sheet", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a PNG contact sheet to this file (outside the bundle).")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path),
              help="Source project, for previews of dropped candidates (default: BUNDLE's parent).")
@_handle_errors
def report(bundle: Path, sheet: Path | None, project: Path | None) -> None:
    """Regenerate BUNDLE/report.html, the review page, from the bundle's manifest."""
    from .report_cli import run_report

    result = run_report(bundle, project=project, contact_sheet=sheet)
    term.info(f"wrote {result.report} ({result.report_bytes:,} bytes)")
    if result.contact_sheet is not None:
        term.info(f"wrote {result.contact_sheet} ({result.contact_sheet_bytes:,} bytes)")
    if result.project is None:
        term.info("dropped candidates are shown without a preview: give --project DIR to add them")


@main.command()
@_handle_errors
def presets() -> None:
    """List compression presets and platform profiles."""
    from .config import list_presets, list_profiles

    preset_rows = []
    for p in list_presets():
        qual = f"search SSIM >= {p.quality.target}" if p.jpeg.quality == "search" else f"q{p.jpeg.quality}"
        preset_rows.append({"preset": p.name, "format": p.format, "quality": qual if p.format != "png" else "lossless",
                            "description": p.description})
    profile_rows = [
        {"platform": prof.name, "icon": f"{prof.icon.width}x{prof.icon.height}",
         "thumbnail": f"{prof.thumbnail.width}x{prof.thumbnail.height} (max {prof.thumbnail.max_count})",
         "formats": "/".join(prof.icon.formats), "cap (bytes)": f"{prof.icon.max_bytes:,}",
         "regions": ", ".join(prof.listing.regions)}
        for prof in list_profiles()
    ]
    term.table(preset_rows, "Compression presets (--preset)")
    term.table(profile_rows, "Platform profiles (--platform)")


@main.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@_handle_errors
def init(directory: Path) -> None:
    """Scaffold a source project in DIRECTORY."""
    from .scaffold import scaffold

    for line in scaffold(directory):
        term.info(line)


@main.command()
@click.argument("corpus", nargs=-1, type=click.Path(path_type=Path))
@click.option("--preset", "presets", multiple=True, help="A preset name or .toml file (repeatable; default: every shipped preset).")
@click.option("--size", type=click.IntRange(min=8), default=1024, show_default=True, help="Square side every image is rendered to.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=5_000_000, show_default=True, help="Byte cap per encoded image.")
@click.option("--baseline", is_flag=True, help="Also run plain Pillow (JPEG q90 optimize, PNG optimize for alpha).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (schema/bench.schema.json).")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per image and preset.")
@click.option("--chart", type=click.Path(path_type=Path), help="Write a bytes-vs-score chart: .svg or .html.")
@_handle_errors
def bench(corpus: tuple[Path, ...], presets: tuple[str, ...], size: int, max_bytes: int, baseline: bool,
          as_json: bool, as_csv: bool, chart: Path | None) -> None:
    """Compare compression presets on CORPUS (folders, recursively, or files; default: .)."""
    from .bench import rows, run_bench, to_csv
    from .bench_chart import render_html, render_svg

    if as_json and as_csv:
        raise click.UsageError("--json and --csv are exclusive")
    quiet = as_json or as_csv
    with term.progress_reporter(not quiet) as progress:
        result = run_bench(list(corpus) or [Path(".")], presets=list(presets) or None, size=size,
                           max_bytes=max_bytes, baseline=baseline, progress=progress)
    if chart is not None:
        text = render_html(result) if chart.suffix.lower() in (".html", ".htm") else render_svg(result)
        chart.write_text(text, encoding="utf-8")
    if as_json:
        term.emit_json(result)
    elif as_csv:
        click.echo(to_csv(result), nl=False)
    else:
        per_image, totals = rows(result)
        term.table(per_image, f"Per image ({size}x{size}, cap {max_bytes:,} bytes)")
        term.table(totals, "Per preset (* = on the Pareto front of total bytes against mean score)")
    for err in result["errors"]:
        term.error(f"{err['source']}: {err['reason']}")
    if chart is not None and not quiet:
        term.info(f"chart: {chart}")
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":  # pragma: no cover
    main()

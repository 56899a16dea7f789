"""`asset-pipeline report`: rewrite report.html (and a contact sheet) from a bundle's manifest."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import manifest as mf
from .bundle import locked
from .errors import ConfigError, OutputError
from .review import project_matches

REPORT_NAME = "report.html"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportResult:
    report: Path
    report_bytes: int
    project: Path | None  # where previews of dropped candidates came from, if anywhere
    contact_sheet: Path | None = None
    contact_sheet_bytes: int = 0


def read_manifest(bundle: Path) -> dict[str, Any]:
    """The bundle's manifest, valid against the schema, or a one-line error."""
    return mf.read(bundle)


def default_project(bundle: Path, manifest: dict[str, Any]) -> Path | None:
    """BUNDLE's parent when it is the project the bundle came from (default OUT: PROJECT/dist)."""
    parent = bundle.resolve().parent
    return parent if project_matches(parent, manifest) else None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # under a file, even the clean-up fails
            tmp.unlink(missing_ok=True)
        msg = f"{path}: cannot write: {exc.strerror or exc}"
        raise OutputError(msg) from None


def run_report(
    bundle: Path, *, project: Path | None = None, contact_sheet: Path | None = None
) -> ReportResult:
    """Rewrite BUNDLE/report.html; with `contact_sheet`, also write that PNG."""
    from .contact_sheet import contact_sheet as make_sheet
    from .html_report import render_report

    manifest = read_manifest(bundle)
    if project is not None and not project.is_dir():
        msg = f"{project}: --project is not a folder"
        raise ConfigError(msg)
    if contact_sheet is not None and contact_sheet.resolve().is_relative_to(bundle.resolve()):
        msg = (
            f"{contact_sheet}: put the contact sheet outside the bundle "
            "(every file in a bundle must be in its manifest)"
        )
        raise ConfigError(msg)
    source_root = project if project is not None else default_project(bundle, manifest)
    page = render_report(manifest, project=source_root)
    sheet = make_sheet(manifest, bundle, project=source_root) if contact_sheet is not None else b""
    with locked(bundle):  # a build swapping OUT at the same moment must not lose the page
        _write_atomic(bundle / REPORT_NAME, page)
    if contact_sheet is not None:
        _write_atomic(contact_sheet, sheet)
    return ReportResult(
        report=bundle / REPORT_NAME,
        report_bytes=len(page),
        project=source_root,
        contact_sheet=contact_sheet,
        contact_sheet_bytes=len(sheet),
    )

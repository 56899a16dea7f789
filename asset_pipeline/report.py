"""Terminal output: rich on a TTY, plain lines for CI and pipes, GitHub annotations, JSON results.

Only this module and cli.py write to the terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or not sys.stderr.isatty()


def github() -> bool:
    return os.environ.get("GITHUB_ACTIONS", "").lower() == "true"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def error(message: str, *, file: str | None = None) -> None:
    """One line on stderr, never wrapped; plus a workflow annotation under GitHub Actions."""
    click.echo(f"error: {_one_line(message)}", err=True)
    if github():
        loc = f" file={file}" if file else ""
        click.echo(f"::error{loc}::{_one_line(message)}", err=True)


def warning(message: str, *, file: str | None = None) -> None:
    click.echo(f"warning: {_one_line(message)}", err=True)
    if github():
        loc = f" file={file}" if file else ""
        click.echo(f"::warning{loc}::{_one_line(message)}", err=True)


def info(message: str) -> None:
    click.echo(_one_line(message), err=True)


_SURROGATE = re.compile("[\ud800-\udfff]")


def emit_json(data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    # a file name that is not UTF-8 reaches us with lone surrogates in it: as JSON escapes the
    # output stays valid UTF-8 (raw, they came out as the name's stray bytes) and still decodes
    # back to the same name
    click.echo(_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def console() -> Any:
    from rich.console import Console

    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")) or None, soft_wrap=True)


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Any]:
    """A progress callback: rich bars on a TTY, a plain line per stage in CI, nothing if disabled."""
    if not enabled:
        yield None
        return
    if is_ci():
        said: set[tuple[str, bool]] = set()

        def plain(stage: str, done: int, total: int) -> None:
            # a line when a stage starts and one when it ends: a CI log shows what a slow step was doing
            end = done == total
            if total and (end or done == 0) and (stage, end) not in said:
                said.add((stage, end))
                click.echo(f"{stage}: {done}/{total}", err=True)

        yield plain
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console(), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def rich_cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield rich_cb


def table(rows: list[dict[str, Any]], title: str) -> None:
    """A result table on stdout: rich on a terminal, tab-separated lines otherwise."""
    if not rows:
        return
    if not sys.stdout.isatty():
        click.echo(f"# {title}")
        click.echo("\t".join(rows[0]))
        for r in rows:
            click.echo("\t".join(f"{v:,}" if isinstance(v, int) else str(v) for v in r.values()))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for key in rows[0]:
        t.add_column(key, justify="right" if isinstance(rows[0][key], (int, float)) else "left")
    for r in rows:
        t.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in r.values()))
    Console(no_color=bool(os.environ.get("NO_COLOR")) or None).print(t)

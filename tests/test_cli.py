"""The command line: exit codes, one-line errors, no tracebacks, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import gradient


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "COLUMNS": "40"}
    return subprocess.run([sys.executable, "-m", "asset_pipeline", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_help_lists_every_command() -> None:
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("build", "check", "dedupe", "presets", "init"):
        assert cmd in r.stdout


def test_missing_project_exits_2_with_one_line(tmp_path: Path) -> None:
    r = run("build", str(tmp_path / "missing"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing" in lines[0] and "Traceback" not in r.stderr


def test_corrupt_file_exits_1_naming_the_file_without_traceback(make_project, tmp_path: Path) -> None:
    long_name = "a very long file name with spaces that would wrap in a narrow terminal.png"
    root = make_project(thumbnails={"en": {"ok.png": gradient(300, 300), long_name: b"<html><body>not an image</body></html>"}})
    r = run("build", str(root), "-o", str(tmp_path / "out"))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    hits = [line for line in r.stderr.splitlines() if long_name in line]
    assert hits and "HTML" in hits[0]  # the name and the reason on one unwrapped line
    assert not (tmp_path / "out").exists()


def test_build_json_and_check(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400)}})
    out = tmp_path / "out"
    r = run("build", str(root), "-o", str(out), "--json", "--jobs", "1")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["status"] == "ok" and data["counts"]["assets"] == 2
    r = run("check", str(out))
    assert r.returncode == 0, r.stderr
    r = run("build", str(root), "-o", str(out), "--check")
    assert r.returncode == 0, r.stderr
    (out / "icon.png").unlink(missing_ok=True)
    (out / "icon.jpg").unlink(missing_ok=True)
    r = run("build", str(root), "-o", str(out), "--check")
    assert r.returncode == 1 and "missing" in r.stderr


def test_presets_lists_shipped_presets_and_profiles() -> None:
    r = run("presets")
    assert r.returncode == 0
    for name in ("balanced", "quality", "small", "lossless", "tiktok-minis", "tiktok-minis-2026"):
        assert name in r.stderr + r.stdout


def test_unknown_preset_is_a_usage_error(make_project, tmp_path: Path) -> None:
    root = make_project()
    r = run("build", str(root), "--preset", "balancd")
    assert r.returncode == 2 and "did you mean 'balanced'" in r.stderr


def test_init_scaffolds_a_project(tmp_path: Path) -> None:
    r = run("init", str(tmp_path / "new"))
    assert r.returncode == 0
    assert (tmp_path / "new" / "assets.toml").is_file()
    assert (tmp_path / "new" / "thumbnails" / "en").is_dir()


def test_init_where_no_folder_can_be_made_is_one_line(tmp_path: Path) -> None:
    """Both were internal errors (NotADirectoryError, PermissionError) with a traceback in the log."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    r = run("init", str(blocker / "game"))
    assert r.returncode == 2 and r.stderr.strip() == f"error: {blocker / 'game'}: cannot be made: {blocker} is a file, not a folder"
    if os.geteuid() == 0:  # root ignores folder modes; /proc refuses everyone a new folder
        target = Path("/proc/asset-pipeline-test")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "game"
    r = run("init", str(target))
    assert r.returncode == 1 and "cannot write the project scaffold" in r.stderr and "internal error" not in r.stderr


def test_github_annotations_name_the_file(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"ok.png": gradient(300, 300), "bad.png": b"GIF89a-broken"}})
    env_run = subprocess.run(
        [sys.executable, "-m", "asset_pipeline", "build", str(root), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "CI": "true", "GITHUB_ACTIONS": "true"}, timeout=300,
    )
    assert env_run.returncode == 1
    expected = os.path.relpath(root / "thumbnails" / "en" / "bad.png")
    assert f"::error file={expected}::" in env_run.stderr


def test_the_command_skips_the_interpreters_shutdown_and_loses_no_output(make_project, tmp_path: Path) -> None:
    """`run` (the console script, `python -m asset_pipeline`) ends in os._exit: freeing every
    module at shutdown cost 40 ms a build. An atexit hook shows the shutdown did not run; the
    JSON on a pipe (block-buffered), the log file and the exit codes are still whole."""
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400)}})
    script = ("import atexit, sys; atexit.register(print, 'SHUTDOWN RAN'); "
              "from asset_pipeline.cli import run; sys.argv[0] = 'asset-pipeline'; run()")
    env = {**os.environ, "CI": "true", "ASSET_PIPELINE_LOG_DIR": str(tmp_path / "log")}

    def cmd(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=300)

    r = cmd("--debug", "build", str(root), "-o", str(tmp_path / "out"), "--json", "--jobs", "1")
    assert r.returncode == 0, r.stderr
    assert "SHUTDOWN RAN" not in r.stdout
    assert json.loads(r.stdout)["counts"]["assets"] == 2
    assert f"built {tmp_path / 'out'}" in (tmp_path / "log" / "asset-pipeline.log").read_text()
    r = cmd("build", str(tmp_path / "missing"))
    assert r.returncode == 2 and "missing" in r.stderr and "SHUTDOWN RAN" not in r.stdout
    r = cmd("--version")
    assert r.returncode == 0 and r.stdout.startswith("asset-pipeline") and "SHUTDOWN RAN" not in r.stdout


def test_a_closed_stdout_pipe_stops_the_command_quietly() -> None:
    """`asset-pipeline presets | head -1`: the reader goes before the output is written. That is
    no internal error (it was exit 3 with a traceback in the log): no word on stderr, and the
    shell's status for a command stopped by SIGPIPE."""
    env = {**os.environ, "CI": "true"}
    with subprocess.Popen([sys.executable, "-m", "asset_pipeline", "presets"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # nobody will read what it prints
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code == 141
    assert err == ""


def test_json_output_stays_utf8_with_a_file_name_that_is_not(tmp_path: Path) -> None:
    """A Latin-1 file name reached stdout as its raw byte, so `dedupe --json` was not UTF-8 and no
    JSON reader took it. Lone surrogates are now JSON escapes that decode back to the name."""
    folder = tmp_path / "art"
    folder.mkdir()
    odd = os.fsdecode(b"caf\xe9.png")
    gradient(300, 300, seed=1).save(folder / odd, "PNG")
    gradient(300, 300, seed=1).save(folder / "plain.png")  # the same art: one cluster names both
    r = subprocess.run([sys.executable, "-m", "asset_pipeline", "dedupe", str(folder), "--json"], capture_output=True,
                       env={**os.environ, "CI": "true"}, timeout=300)
    data = json.loads(r.stdout.decode("utf-8"))  # strict: a raw 0xe9 byte fails here

    def strings(v: object) -> list[str]:
        if isinstance(v, str):
            return [v]
        if isinstance(v, dict):
            return [s for x in v.values() for s in strings(x)]
        return [s for x in v for s in strings(x)] if isinstance(v, list) else []

    names = {Path(s).name for s in strings(data) if s.endswith(".png")}
    assert "plain.png" in names and odd in names  # the escape decodes back to the name's bytes

"""Crash safety, locking, --check, --jobs determinism: the contract CI and big batches rely on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from asset_pipeline.bundle import locked
from asset_pipeline.errors import ConfigError, OutputError
from asset_pipeline.pipeline import build
from conftest import gradient


def _noisy(w: int, h: int, seed: int) -> Image.Image:
    """Expensive to encode (detail everywhere), so a build takes long enough to interrupt."""
    rng = np.random.default_rng(seed)
    base = np.asarray(gradient(w, h, seed=seed), dtype=np.int16)
    noise = rng.integers(-40, 40, size=base.shape, dtype=np.int16)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _default_sigint() -> None:
    # a shell starts background jobs with SIGINT ignored, and Python keeps a signal ignored that
    # was ignored at its start: the build must see Ctrl-C however the test run was launched
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(root: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "build", str(root), "-o", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
        preexec_fn=_default_sigint,
    )


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 120) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            return
        if not line and proc.poll() is not None:
            pytest.fail(f"build ended before {needle!r}")
    pytest.fail(f"no {needle!r} within {timeout} s")


@pytest.fixture
def slow_project(make_project):
    # 13 distinct decodes: ~4 s with 2 jobs, so a signal sent 0.5 s in lands mid-build even on a
    # fast machine (with ja sharing en's art the build had become short enough to finish first)
    en = {f"{i:02d}.png": _noisy(1400, 1400, seed=i) for i in range(6)}
    ja = {f"{i:02d}.png": _noisy(1400, 1400, seed=50 + i) for i in range(6)}
    return make_project(name="slow", icon=_noisy(2000, 1600, seed=99), thumbnails={"en": en, "ja": ja})


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_or_interrupted_build_leaves_out_exactly_as_before(slow_project: Path, make_project, tmp_path: Path, sig: int) -> None:
    out = tmp_path / "out"
    first = make_project(name="first", thumbnails={"en": {"a.png": gradient(300, 300, seed=5)}})
    build(first, out=out, jobs=1)
    before = _tree(out)
    proc = _start(slow_project, out, "--no-cache", "--jobs", "2")
    _wait_for_line(proc, "decode: 0/")  # the work has started
    time.sleep(0.5)  # decodes and encodes in flight (the build takes several seconds)
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err[-2000:]
    assert _tree(out) == before
    # the next build cleans what the killed one left aside and succeeds
    result = build(slow_project, out=out, jobs=2)
    assert result.written and not list(tmp_path.glob(".out.new-*"))


def test_ctrl_c_as_the_workers_stop_still_ends_every_process(slow_project: Path, make_project, tmp_path: Path) -> None:
    """Ctrl-C after the last decode lands while the pool shuts down or the bundle is written: the
    build still exits (no worker left waiting for work, holding the pipes open) and OUT is whole."""
    out = tmp_path / "out"
    first = make_project(name="first", thumbnails={"en": {"a.png": gradient(300, 300, seed=5)}})
    build(first, out=out, jobs=1)
    before = _tree(out)
    proc = _start(slow_project, out, "--no-cache", "--jobs", "2")
    _wait_for_line(proc, "decode: 13/13")
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=60)  # a worker left alive keeps stderr open: this would time out
    assert proc.returncode in (0, 130)
    after = _tree(out)
    assert after == before or after == _tree(build(slow_project, out=tmp_path / "ref", jobs=2).out)


def test_two_builds_into_one_out_never_mix(make_project, tmp_path: Path) -> None:
    a = make_project(name="a", icon=_noisy(1600, 1600, seed=1), thumbnails={"en": {f"{i}.png": _noisy(900, 900, 10 + i) for i in range(3)}})
    b = make_project(name="b", icon=_noisy(1600, 1600, seed=2), thumbnails={"en": {f"{i}.png": _noisy(900, 900, 20 + i) for i in range(3)}})
    ref_a, ref_b = tmp_path / "ref_a", tmp_path / "ref_b"
    build(a, out=ref_a, jobs=1)
    build(b, out=ref_b, jobs=1)
    out = tmp_path / "shared"
    procs = [_start(a, out, "--no-cache", "--jobs", "1"), _start(b, out, "--no-cache", "--jobs", "1")]
    for p in procs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    assert _tree(out) in (_tree(ref_a), _tree(ref_b))


def test_a_held_lock_makes_the_second_build_fail_clearly(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(300, 300)}})
    out = tmp_path / "out"
    with locked(out), pytest.raises(OutputError, match="another build"):
        build(root, out=out, jobs=1, lock_timeout=0.5)
    assert not out.exists()


def test_jobs_1_and_2_give_byte_identical_bundles(sample_project: Path, tmp_path: Path) -> None:
    build(sample_project, out=tmp_path / "j1", jobs=1, use_cache=False)
    build(sample_project, out=tmp_path / "j2", jobs=2, use_cache=False)
    assert _tree(tmp_path / "j1") == _tree(tmp_path / "j2")


def test_check_flips_to_1_after_a_source_change_and_back_after_a_build(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(300, 300, seed=1), "b.png": gradient(300, 300, seed=2)}})
    out = tmp_path / "out"
    assert build(root, out=out, check=True).return_code == 1  # nothing built yet
    build(root, out=out)
    assert build(root, out=out, check=True).return_code == 0
    gradient(300, 300, seed=3).save(root / "thumbnails" / "en" / "b.png")
    stale = build(root, out=out, check=True)
    assert stale.return_code == 1 and not stale.written
    assert any("thumbnails/en/2" in line for line in stale.stale)
    build(root, out=out)
    assert build(root, out=out, check=True).return_code == 0


def test_check_reports_extra_files(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(300, 300)}})
    out = tmp_path / "out"
    build(root, out=out)
    (out / "thumbnails" / "en" / "9.png").write_bytes(b"stray")
    result = build(root, out=out, check=True)
    assert result.return_code == 1 and any("extra" in s for s in result.stale)


def test_no_change_rebuild_reuses_the_cache_and_changes_one_thumbnail_only(make_project, tmp_path: Path) -> None:
    thumbs = {f"{i}.png": gradient(600, 600, seed=i * 11) for i in range(3)}
    root = make_project(thumbnails={"en": thumbs})
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    build(root, out=out, cache_dir=cache)
    entries = {p.name for p in cache.rglob("*.bin")}
    build(root, out=out, cache_dir=cache)
    assert {p.name for p in cache.rglob("*.bin")} == entries  # nothing new was encoded
    gradient(600, 600, seed=77).save(root / "thumbnails" / "en" / "1.png")
    build(root, out=out, cache_dir=cache)
    assert len({p.name for p in cache.rglob("*.bin")} - entries) == 1  # exactly one new encode


def test_check_on_a_fresh_machine_reuses_the_bundle_instead_of_re_encoding(make_project, tmp_path: Path) -> None:
    """A CI runner has no cache: --check must trust OUT's manifest for unchanged sources."""
    root = make_project(thumbnails={"en": {"a.png": gradient(500, 500, seed=1), "b.png": gradient(500, 500, seed=2)}})
    out = tmp_path / "out"
    build(root, out=out, cache_dir=tmp_path / "cache-dev")
    fresh = tmp_path / "cache-ci"
    assert build(root, out=out, check=True, cache_dir=fresh).return_code == 0
    assert not list(fresh.rglob("*.bin"))  # nothing was encoded
    # a changed source is still caught, and only it is encoded
    gradient(500, 500, seed=9).save(root / "thumbnails" / "en" / "b.png")
    result = build(root, out=out, check=True, cache_dir=fresh)
    assert result.return_code == 1 and len(list(fresh.rglob("*.bin"))) == 1


def test_a_no_change_rebuild_reads_no_source_bytes_but_sees_an_edit(make_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asset_pipeline import project as project_mod

    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=1), "b.png": gradient(400, 400, seed=2)}})
    out, cache = tmp_path / "out", tmp_path / "cache"
    build(root, out=out, cache_dir=cache)
    real = project_mod._hash_bytes
    read: list[str] = []

    def spy(path: Path) -> tuple[str, int]:
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(project_mod, "_hash_bytes", spy)
    assert build(root, out=out, cache_dir=cache, check=True).return_code == 0
    assert read == []  # sizes and times unchanged: the remembered hashes are used
    target = root / "thumbnails" / "en" / "b.png"
    gradient(400, 400, seed=3).save(target)  # new content: new mtime (and size)
    assert build(root, out=out, cache_dir=cache, check=True).return_code == 1
    assert read == ["b.png"]


def test_hashes_made_ahead_on_threads_are_checked_against_the_file_when_used(make_project) -> None:
    """discover hashes the layout's sources on threads first; a file changed since is hashed again."""
    from asset_pipeline import project as project_mod
    from asset_pipeline.project import _hash_bytes, hash_file

    root = make_project(thumbnails={"en": {"a.png": gradient(64, 64, seed=1), "b.png": gradient(64, 64, seed=2)}})
    project_mod._prefetch(root)
    a, b = (root / "thumbnails" / "en" / n for n in ("a.png", "b.png"))
    assert {a.resolve(), b.resolve()} <= set(project_mod._early)
    gradient(64, 64, seed=3).save(b)  # rewritten after the early hash: its stamp no longer matches
    os.utime(b, ns=(time.time_ns(), time.time_ns() + 10**9))
    try:
        assert hash_file(a) == _hash_bytes(a)
        assert hash_file(b) == _hash_bytes(b)
    finally:
        project_mod._early.clear()


def _fork_path_available() -> bool:
    from asset_pipeline import project as project_mod

    return project_mod._can_fork()


@pytest.mark.skipif(not _fork_path_available(), reason="hashing in a child needs fork and a single-threaded process")
def test_sources_are_hashed_in_a_child_while_the_workers_imports_are_made(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `meanwhile`, this process runs it and reads no source: a forked child hashes them all."""
    from asset_pipeline import project as project_mod
    from asset_pipeline.project import _hash_bytes, discover

    root = make_project(thumbnails={"en": {f"{i}.png": gradient(64, 64, seed=i) for i in range(4)}})
    want = {p.resolve(): _hash_bytes(p)[0] for p in root.rglob("*.png")}
    here = os.getpid()
    read_here: list[str] = []
    real = project_mod._hash_bytes

    def spy(path: Path) -> tuple[str, int]:
        if os.getpid() == here:
            read_here.append(path.name)
        return real(path)

    monkeypatch.setattr(project_mod, "_hash_bytes", spy)
    calls: list[int] = []
    project = discover(root, meanwhile=lambda: calls.append(os.getpid()))
    assert calls == [here]
    assert read_here == []  # every source hashed by the child
    got = {s.path.resolve(): s.sha256 for s in [project.icons["en"], *project.thumbnails["en"]]}
    assert got == want


@pytest.mark.skipif(not _fork_path_available(), reason="hashing in a child needs fork and a single-threaded process")
def test_a_child_with_more_results_than_a_pipe_holds_sends_them_all(tmp_path: Path) -> None:
    """2000 sources: ~160 KB of result lines, over a pipe's 64 KB, while this process is busy."""
    import hashlib

    from asset_pipeline import project as project_mod

    root = tmp_path / "big"
    (root / "thumbnails" / "en").mkdir(parents=True)
    for i in range(2000):
        (root / "thumbnails" / "en" / f"{i:04d}.png").write_bytes(b"x%d" % i)
    try:
        project_mod._prefetch(root, meanwhile=lambda: time.sleep(0.2))
        got = dict(project_mod._early)
    finally:
        project_mod._early.clear()
    assert len(got) == 2000
    some = (root / "thumbnails" / "en" / "1234.png").resolve()
    assert got[some][2] == hashlib.sha256(b"x1234").hexdigest() and got[some][3] == 5


@pytest.mark.skipif(not _fork_path_available(), reason="hashing in a child needs fork and a single-threaded process")
def test_a_hashing_child_that_dies_leaves_its_files_to_this_process(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    from asset_pipeline import project as project_mod
    from asset_pipeline.project import _hash_bytes, discover

    root = make_project(thumbnails={"en": {f"{i}.png": gradient(64, 64, seed=i) for i in range(4)}})
    want = {p.resolve(): _hash_bytes(p)[0] for p in root.rglob("*.png")}
    here = os.getpid()
    real = project_mod._hash_bytes
    seen: list[int] = []

    def dies_after_one(path: Path) -> tuple[str, int]:
        if os.getpid() != here:
            seen.append(1)
            if len(seen) > 1:
                os._exit(9)  # the child dies mid-way, as under the OOM killer
        return real(path)

    monkeypatch.setattr(project_mod, "_hash_bytes", dies_after_one)
    project = discover(root, meanwhile=lambda: None)
    got = {s.path.resolve(): s.sha256 for s in [project.icons["en"], *project.thumbnails["en"]]}
    assert got == want


@pytest.mark.skipif(not _fork_path_available(), reason="hashing in a child needs fork and a single-threaded process")
def test_an_interrupt_while_the_child_hashes_stops_it_and_leaves_no_process(make_project,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from asset_pipeline.project import discover

    root = make_project(thumbnails={"en": {f"{i}.png": gradient(64, 64, seed=i) for i in range(4)}})
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        discover(root, meanwhile=interrupted)
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # stopped and reaped: not even a zombie is left


@pytest.mark.skipif(not _fork_path_available(), reason="hashing in a child needs fork and a single-threaded process")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_build_makes_its_tasks_imports_while_the_sources_are_hashed(jobs: int, make_project, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """One job runs the tasks here, so the imports are made for this process; with workers, for
    them to share; `--check` makes none."""
    from asset_pipeline import pipeline

    root = make_project(thumbnails={"en": {"a.png": gradient(64, 64, seed=1)}})
    calls: list[dict[str, bool]] = []
    real = pipeline.preload
    monkeypatch.setattr(pipeline, "preload", lambda **kw: calls.append(kw) or real(**kw))
    assert build(root, out=tmp_path / "out", jobs=jobs, use_cache=False).return_code == 0
    assert calls == ([{"here": True}] if jobs == 1 else [{}])
    calls.clear()
    build(root, out=tmp_path / "out", jobs=jobs, use_cache=False, check=True)
    assert calls == []


def test_meanwhile_is_not_run_when_no_source_needs_hashing(make_project, tmp_path: Path) -> None:
    """A build whose sources the stat memo knows (nothing changed) does not pay for the imports."""
    from asset_pipeline.cache import FileHashes
    from asset_pipeline.project import discover, use_file_hashes

    root = make_project(thumbnails={"en": {"a.png": gradient(64, 64, seed=1)}})
    with use_file_hashes(FileHashes(tmp_path / "cache")):
        discover(root)
    calls: list[int] = []
    with use_file_hashes(FileHashes(tmp_path / "cache")):
        discover(root, meanwhile=lambda: calls.append(1))
    assert calls == []


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_a_bad_lock_timeout_in_the_environment_is_a_config_error_at_once(value: str, make_project, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """It was float()'s ValueError, an internal error, and only after every source was encoded."""
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400)}})
    monkeypatch.setenv("ASSET_PIPELINE_LOCK_TIMEOUT", value)
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError, match="ASSET_PIPELINE_LOCK_TIMEOUT: expected seconds"):
        build(root, out=tmp_path / "out", cache_dir=cache, jobs=1)
    assert not list(cache.rglob("*.bin"))  # refused before any encode


def test_a_cache_entry_damaged_or_edited_is_a_miss_never_a_crash(make_project, tmp_path: Path) -> None:
    """Valid JSON with the wrong fields (`{"x": 1}`, a width of "abc", a list) reached the readers
    as written: KeyError 'width', an internal error. Each entry now carries a checksum of its
    fields, so anything but what was written is a miss and is made again."""
    import json

    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400), "b.png": gradient(400, 400, seed=5)}})
    cache = tmp_path / "cache"
    build(root, out=tmp_path / "first", cache_dir=cache, jobs=1)
    entries = [p for p in cache.rglob("*.json") if p.name != "file-hashes.json"]
    assert entries
    for i, p in enumerate(entries):
        meta = json.loads(p.read_text())
        if i % 3 == 0:
            p.write_text('{"x": 1}')
        elif i % 3 == 1:
            p.write_text(json.dumps({**meta, "width": "abc", "value": 5}))
        else:
            p.write_text("[1, 2]")
    build(root, out=tmp_path / "again", cache_dir=cache, jobs=1)
    first = {p.relative_to(tmp_path / "first"): p.read_bytes() for p in (tmp_path / "first").rglob("*") if p.is_file()}
    again = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in (tmp_path / "again").rglob("*") if p.is_file()}
    assert again == first


@pytest.mark.parametrize("icon_fit", ["cover", "contain"])
def test_an_incremental_bundle_is_the_cold_bundle_when_a_cached_candidate_comes_in(icon_fit: str, make_project,
                                                                                     tmp_path: Path) -> None:
    """The icon's art is also the 4th thumbnail candidate: dropped over the limit of 3, it is
    fingerprinted (and its probe cached) but not encoded. Remove a shot and it is kept: its
    encode then decoded it for the 360 alone (a smaller decode, and "short" where the icon's
    contain wants "long") while a cold build decodes it once for both, so the same inputs gave
    two bundles, depending on the cache's history, and `build --check` would call one stale."""
    def art(seed: int, w: int = 2000, h: int = 1600) -> Image.Image:
        small = np.random.default_rng(seed).integers(0, 255, (40, 50, 3), dtype=np.uint8)
        return Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)

    shots = {f"{i} shot.png": art(10 + i) for i in (1, 2, 3)}
    root = make_project(icon=art(1), toml=f'[icon]\nfit = "{icon_fit}"\n', thumbnails={"en": {**shots, "4 key art.png": art(1)}})
    cache, out = tmp_path / "cache", tmp_path / "out"
    first = build(root, out=out, cache_dir=cache, jobs=1)
    assert [d.source for d in first.dropped] == ["thumbnails/en/4 key art.png"]
    (root / "thumbnails" / "en" / "3 shot.png").unlink()
    build(root, out=out, cache_dir=cache, jobs=1)
    build(root, out=tmp_path / "cold", use_cache=False, jobs=1)

    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert tree(out) == tree(tmp_path / "cold")


def test_held_renditions_stay_within_their_budget_and_the_bundle_does_not_change(make_project, tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Every candidate's 360 rendition waited for its language's dedupe: 300 candidates held
    117 MB in the main process. Past HELD_PIXELS_MAX a rendition is dropped and, if it is kept,
    decoded and rendered again: here the budget is three renditions, ten copies of one picture
    come first (one is kept), so the 2nd and 3rd kept come from a fresh decode, and the bundle
    must be the one an unbounded budget writes."""
    from asset_pipeline import scheduler

    same = gradient(500, 500, seed=3)
    thumbs = {f"{i:02d}.png": same for i in range(10)}
    thumbs.update({f"{i:02d}.png": gradient(500, 500, seed=100 + i) for i in range(10, 20)})
    root = make_project(thumbnails={"en": thumbs})
    build(root, out=tmp_path / "unbounded", use_cache=False, jobs=1)

    seen: list[int] = []
    real_finish = scheduler.Work._finish

    def finish(self: scheduler.Work, *args: object) -> None:
        real_finish(self, *args)
        seen.append(sum(len(px.data) for px in self._pixels.values()))
        assert seen[-1] == self._held

    monkeypatch.setattr(scheduler, "HELD_PIXELS_MAX", 3 * 360 * 360 * 3)
    monkeypatch.setattr(scheduler.Work, "_finish", finish)
    result = build(root, out=tmp_path / "bounded", use_cache=False, jobs=1)
    assert max(seen) <= 3 * 360 * 360 * 3 and seen[-1] == 0
    assert [a.source.rel for a in result.assets if a.role == "thumbnail"] == [
        "thumbnails/en/00.png", "thumbnails/en/10.png", "thumbnails/en/11.png"]

    def tree(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert tree(tmp_path / "bounded") == tree(tmp_path / "unbounded")

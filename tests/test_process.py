"""Process plumbing: the log file (opened only when there is something to log, safe across forks
and threads), and the workers' threads and memory reuse."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def run(script: str, log_dir: Path) -> str:
    env = {"ASSET_PIPELINE_LOG_DIR": str(log_dir), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_deferred_log_opens_at_the_first_record_and_writes_it(tmp_path: Path) -> None:
    out = run("""
        import logging, sys
        from asset_pipeline.logs import setup_logging
        setup_logging(deferred=True)
        print("concurrent_log_handler" in sys.modules)
        logging.getLogger("asset_pipeline").info("hello from %s", "the parent")
        print("concurrent_log_handler" in sys.modules)
    """, tmp_path)
    assert out.split() == ["False", "True"]  # not imported until a record came
    assert "hello from the parent" in (tmp_path / "asset-pipeline.log").read_text()


def test_forked_children_log_while_the_parent_opens_its_file_on_a_thread(tmp_path: Path) -> None:
    """What a build does: workers forked, then the parent's handler opened on a thread; a
    worker with something to log opens its own (never a lock inherited half-held)."""
    run("""
        import logging, multiprocessing as mp
        from asset_pipeline import logs

        def child(n):
            logs.setup_logging(deferred=True)
            logging.getLogger("asset_pipeline").warning("child %d", n)
            return n

        if __name__ == "__main__":
            logs.settle()
            with mp.get_context("fork").Pool(2) as pool:
                first = pool.map_async(child, range(4))
                logs.open_soon()
                assert first.get(timeout=30) == [0, 1, 2, 3]
            logs.settle()
            logging.getLogger("asset_pipeline").info("parent done")
    """, tmp_path)
    text = (tmp_path / "asset-pipeline.log").read_text()
    assert all(f"child {n}" in text for n in range(4)) and "parent done" in text


def test_an_unwritable_log_folder_does_not_stop_anything(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the log folder should be")
    out = run("""
        import logging
        from asset_pipeline.logs import setup_logging
        print(setup_logging())
        logging.getLogger("asset_pipeline").error("nowhere to go")
        print("still here")
    """, blocker / "log")
    assert out.split() == ["None", "still", "here"]


def test_workers_run_numpy_on_one_thread(tmp_path: Path) -> None:
    """A worker's OpenBLAS starts no threads of its own: the pool already fills the CPUs."""
    (tmp_path / "probe_threads.py").write_text(textwrap.dedent("""
        import os

        def threads_after_matmul(n):
            import numpy as np

            a = np.ones((n, n))
            a @ a
            return len(os.listdir("/proc/self/task"))
    """))
    out = run(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import probe_threads
        from asset_pipeline.scheduler import Pool

        pool = Pool(2)
        try:
            print(pool.submit(probe_threads.threads_after_matmul, 512).result())
        finally:
            pool.close()
    """, tmp_path / "log")
    assert out.split() == ["1"]


def test_the_cli_runs_numpy_on_one_thread_in_process(tmp_path: Path) -> None:
    """A `--jobs 1` build resamples in the CLI's own process: its BLAS starts no threads either."""
    out = run("""
        import os
        from asset_pipeline.cli import main

        main(["presets"], standalone_mode=False)
        import numpy as np

        a = np.ones((512, 512))
        a @ a
        print(len(os.listdir("/proc/self/task")))
    """, tmp_path / "log")
    assert out.split()[-1] == "1"


def test_workers_start_with_the_task_modules_already_loaded(tmp_path: Path) -> None:
    """Forked workers inherit what a task imports (numpy, Pillow, the codecs, zxing) from the
    main process: two workers importing it again at once, on CPUs the build already fills, made
    a `-j 2` build 7-10 % slower (benchmarks/RESULTS.md, issue 8)."""
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("only forked workers inherit the main process's modules")
    (tmp_path / "probe_modules.py").write_text(textwrap.dedent("""
        import sys

        def loaded(names):
            return [n for n in names if n in sys.modules]
    """))
    out = run(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import probe_modules
        from asset_pipeline.scheduler import Pool, _TASK_MODULES

        assert "numpy" not in sys.modules and "zxingcpp" not in sys.modules
        pool = Pool(2)
        try:
            got = pool.submit(probe_modules.loaded, _TASK_MODULES).result()
        finally:
            pool.close()
        print(len(got), len(_TASK_MODULES))
    """, tmp_path / "log")
    got, wanted = out.split()
    assert got == wanted


def test_a_workers_tasks_import_nothing_the_main_process_could_have(tmp_path: Path) -> None:
    """Real prepare and encode tasks (an RGBA PNG, a photo JPEG; the default preset) import no
    module in a forked worker: a lazy import added to the task path belongs in _TASK_MODULES."""
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("only forked workers inherit the main process's modules")
    (tmp_path / "probe_tasks.py").write_text(textwrap.dedent("""
        import sys
        from asset_pipeline import work

        def new_modules(task):
            before = set(sys.modules)
            res = work.prepare(task)
            assert isinstance(res, work.Prepared), res
            for spec, px in res.renditions.items():
                job = work.RenderJob(source=task.source, spec=spec, stem="t", preset=task.preset, cache_root=None)
                assert not isinstance(work.encode((job, px, task.decode)), work.Failure)
            return sorted(set(sys.modules) - before)
    """))
    out = run(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import numpy as np
        from pathlib import Path
        from PIL import Image
        import probe_tasks
        from asset_pipeline import work
        from asset_pipeline.config import load_preset
        from asset_pipeline.records import RenderSpec, SourceFile
        from asset_pipeline.scheduler import Pool

        rng = np.random.default_rng(3)
        art = np.zeros((1200, 1200, 4), np.uint8)
        art[200:1000, 200:1000] = (40, 160, 220, 255)
        photo = rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8)
        Image.fromarray(art, "RGBA").save({str(tmp_path / "art.png")!r})
        Image.fromarray(photo, "RGB").save({str(tmp_path / "photo.jpg")!r}, quality=90)
        preset = load_preset("balanced")
        tasks = []
        for name in ("art.png", "photo.jpg"):
            path = Path({str(tmp_path)!r}) / name
            src = SourceFile(path=path, rel=name, sha256=name, size=path.stat().st_size)
            icon, thumb = (RenderSpec(role=r, width=s, height=s, fit="cover", background=(255, 255, 255),
                                      formats=("JPEG", "PNG"), max_bytes=5_000_000) for r, s in (("icon", 1024), ("thumbnail", 360)))
            tasks.append(work.PrepareTask(source=src, encode=(icon,), render=(thumb,), need_probe=True, preset=preset,
                                          decode=work.decode_plan((icon, thumb), preset), cache_root=None))
        pool = Pool(2)
        try:
            print([pool.submit(probe_tasks.new_modules, t).result() for t in tasks])
        finally:
            pool.close()
    """, tmp_path / "log")
    assert out.strip() == "[[], []]"


def test_workers_reuse_freed_memory_instead_of_faulting_in_fresh_pages(tmp_path: Path) -> None:
    """A worker scoring a 1024 JPEG takes a fraction of the page faults of a process whose mmap
    threshold is fixed at 1 MiB (what `memory.tune` did: 25-30 % of a build's time went to
    faulting in and zeroing fresh pages for every large block)."""
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the thresholds in question are glibc's")
    (tmp_path / "probe_faults.py").write_text(textwrap.dedent("""
        import ctypes, io, resource
        import numpy as np
        from PIL import Image
        from asset_pipeline import quality

        def faults(fixed_threshold):
            if fixed_threshold:
                ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
            rng = np.random.default_rng(1)
            im = Image.fromarray(rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=80)

            def once():
                return quality.score_bytes(quality.reference(im), buf.getvalue(), (255, 255, 255))

            once()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(3):
                once()
            return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    """))
    out = run(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import probe_faults
        from asset_pipeline.scheduler import Pool

        pool = Pool(2)
        try:
            print(pool.submit(probe_faults.faults, False).result())
        finally:
            pool.close()
        print(probe_faults.faults(True))
    """, tmp_path / "log")
    worker, fixed = (int(v) for v in out.split())
    assert worker < 0.6 * fixed, (worker, fixed)


def test_an_unexpected_encode_error_in_process_goes_to_the_log_not_stderr(tmp_path: Path) -> None:
    """With one job the encodes run in the CLI's own process, which had no log handler: logging's
    last-resort handler printed the traceback on stderr. Now the record opens the log file."""
    script = textwrap.dedent("""
        import io
        from pathlib import Path
        from PIL import Image
        from asset_pipeline.config import load_preset
        from asset_pipeline.records import RenderSpec, SourceFile
        from asset_pipeline.work import RenderJob, _guarded

        src = SourceFile(path=Path("x.png"), rel="art/x.png", sha256="0" * 64, size=1)
        spec = RenderSpec(role="icon", width=8, height=8, fit="cover", background=(255, 255, 255),
                          formats=("PNG",), max_bytes=1000)
        job = RenderJob(source=src, spec=spec, stem="icon", preset=load_preset("fast"), cache_root=None)
        # a real library failure that is no AssetError: Pillow asked for a format it does not have
        res = _guarded(job, lambda: Image.new("RGB", (8, 8)).save(io.BytesIO(), "NO-SUCH-FORMAT"))
        print(res.kind, res.reason)
    """)
    env = {"ASSET_PIPELINE_LOG_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("encode_failed internal error: KeyError")
    assert r.stderr == ""
    logged = (tmp_path / "asset-pipeline.log").read_text()
    assert "unexpected error on art/x.png" in logged and "Traceback" in logged


def test_an_encode_run_here_leaves_this_process_where_it_started() -> None:
    """With one job the encodes run in the main process: what a 1024 search freed stays
    resident (27 MiB here) unless given back, and the next decode then starts on top of it."""
    script = textwrap.dedent("""
        from pathlib import Path
        import numpy as np
        from PIL import Image
        from asset_pipeline import work
        from asset_pipeline.config import load_preset
        from asset_pipeline.records import RenderSpec, SourceFile

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        preset = load_preset("balanced")
        spec = RenderSpec(role="icon", width=1024, height=1024, fit="cover", background=(255, 255, 255),
                          formats=("JPEG", "PNG"), max_bytes=5_000_000)
        y, x = np.mgrid[0:1024, 0:1024]
        noise = np.random.default_rng(1).integers(0, 20, (1024, 1024, 3))
        px = np.clip(np.stack([x / 4, y / 4, (x + y) / 8], -1) + noise, 0, 255).astype(np.uint8)
        pixels = work.Pixels.of(Image.fromarray(px), has_alpha=False, findings=())
        del x, y, px, noise
        src = SourceFile(path=Path("a.png"), rel="a.png", sha256="0" * 64, size=1)
        plan = work.DecodePlan(side=1383, fit_side="short", packed=True)
        job = work.RenderJob(source=src, spec=spec, stem="icon", preset=preset, cache_root=None)
        work.encode((job, pixels, plan))
        from asset_pipeline.memory import trim; trim()
        before = status("VmRSS:")
        out = work.encode((job, pixels, plan))
        print((status("VmRSS:") - before) / 2**20, type(out).__name__)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    grew, kind = r.stdout.split()
    assert kind == "EncodedAsset" and float(grew) < 4, grew


def test_a_prepare_gives_back_what_its_decode_freed_before_rendering_and_encoding(tmp_path: Path) -> None:
    """A turned 3000x4000 JPEG is decoded at 1500x2000 and turned upright (a second copy): the
    freed copy and decode stay resident under the renders and the encode unless given back
    (measured: 32.4 MiB grown by a second prepare in one process, 25.2 with the trims)."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        import numpy as np
        from PIL import Image
        from asset_pipeline import work
        from asset_pipeline.config import load_preset
        from asset_pipeline.memory import trim
        from asset_pipeline.records import RenderSpec, SourceFile

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        path = Path(sys.argv[1]) / "turned.jpg"
        y, x = np.mgrid[0:4000, 0:3000]
        px = np.stack([x / 12, y / 16, (x + y) / 28], -1).astype(np.uint8)
        exif = Image.Exif(); exif[0x0112] = 6
        Image.fromarray(px).save(path, quality=90, exif=exif)
        del x, y, px
        src = SourceFile(path=path, rel="turned.jpg", sha256="0" * 64, size=path.stat().st_size)
        preset = load_preset("balanced")
        icon = RenderSpec(role="icon", width=1024, height=1024, fit="cover", background=(255, 255, 255),
                          formats=("JPEG", "PNG"), max_bytes=5_000_000)
        thumb = RenderSpec(role="thumbnail", width=360, height=360, fit="cover", background=(255, 255, 255),
                           formats=("JPEG", "PNG"), max_bytes=5_000_000)
        task = work.PrepareTask(source=src, encode=(icon,), render=(thumb,), need_probe=True, preset=preset, cache_root=None,
                                decode=work.decode_plan((icon, thumb), preset))
        work.prepare(task)  # the allocator's thresholds as a build leaves them
        trim()
        open("/proc/self/clear_refs", "w").write("5")
        before = status("VmRSS:")
        out = work.prepare(task)
        print((status("VmHWM:") - before) / 2**20, type(out).__name__)
    """)
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    grew, kind = r.stdout.split()
    assert kind == "Prepared" and float(grew) < 29, grew


def test_a_worker_leaves_stage_memory_to_the_allocator_the_builds_own_process_gives_it_back() -> None:
    """Between a task's stages only the build's own process trims: a worker would fault the same
    pages in again at its next stage (fast, two jobs: +36k faults)."""
    script = textwrap.dedent("""
        import numpy as np
        from asset_pipeline import memory

        def rss():
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))

        def left_after(step):
            blocks = [np.ones(64_000, np.uint8) for _ in range(800)]  # under the mmap threshold: the heap
            keep = blocks[1::2]  # every other block stays: the freed ones are holes free() cannot return
            before = rss()
            del blocks
            step()
            return before - rss(), keep

        here, _ = left_after(memory.trim_between)
        memory.in_worker()
        worker, _ = left_after(memory.trim_between)
        print(here, worker)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    here, worker = (int(v) for v in r.stdout.split())
    assert here > 20 * 2**20, here / 2**20  # the 25.6 MB of holes given back
    assert worker < 5 * 2**20, worker / 2**20  # left resident, for the next stage to reuse


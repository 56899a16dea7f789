"""What runs where and when: a lazily started process pool, and a build's work pipelined per language.

Every source's content is decoded once, in one `prepare` task that also encodes what ships
whatever dedupe decides (icons) and renders the thumbnails that wait for it. A language's
dedupe runs as soon as its last candidate is fingerprinted, and its kept thumbnails are encoded
while other sources are still decoding: there is no stage barrier, and only thumbnail-sized
pixels ever travel back to this process. Tasks are started largest first, so the last one to
finish is a small one (with one job, those that hold the most pixels first).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any, TypeVar

from .cache import Cache, make_key
from .config import Preset, Profile
from .project import Project
from .records import Dropped, EncodedAsset, Finding, Probe, RenderSpec, SourceFile
from .selection import select_language
from .work import (
    DecodePlan,
    Failure,
    Pixels,
    Prepared,
    PrepareTask,
    PreviousBundle,
    RenderJob,
    cached_asset,
    cached_probe,
    decode_plan,
    encode,
    for_job,
    make_preview,
    prepare,
)

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger("asset_pipeline")

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
R = TypeVar("R")
Key = tuple[str, RenderSpec]  # (content sha256, spec): what one encoding is made of
# Thumbnail renditions waiting for their language's dedupe are held up to this many bytes (80
# of 360x360 RGB); the rest are dropped and, if kept, decoded and rendered again, to the same
# pixels (one DecodePlan per content). 300 candidates in one language held 117 MB before.
HELD_PIXELS_MAX = 32 << 20


# what a task imports: loaded once here before the fork, the workers share it (with fork) instead
# of each importing it again in its first task while the CPUs are already full
_TASK_MODULES = (
    "numpy", "PIL.Image", "PIL.PngImagePlugin", "PIL.JpegImagePlugin", "asset_pipeline.load",
    "asset_pipeline.render", "asset_pipeline.lint", "asset_pipeline.dedupe", "asset_pipeline.encode.size_cap",
    "asset_pipeline.memory", "zxingcpp", "simplejpeg", "pyjpegli", "mozjpeg_lossless_optimization", "imagehash",
)


def preload(*, here: bool = False) -> None:
    """Import what every task needs, once, before the workers are forked (they share it).

    `here`: the tasks run in this process (one job), so the imports are made for it whatever
    the start method, and numpy's threads are left as they are.
    """
    import importlib
    import multiprocessing
    import os

    if not here:
        if multiprocessing.get_start_method() != "fork":
            return  # spawned workers start from nothing: they import for themselves
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # read when numpy loads: see _worker_init
    for name in _TASK_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a broken install: the task that needs the module reports it
            pass
    from PIL import Image

    Image.preinit()  # the plugins Pillow loads at its first open or save


def _worker_init() -> None:
    import os
    import signal

    from .logs import setup_logging

    # numpy's OpenBLAS would start a thread per CPU in every worker; the workers already fill the
    # CPUs, and those threads spin while waiting (A/B: a fast build 5 % faster with one thread)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Ctrl-C is the main process's to handle: it stops the pool and leaves OUT untouched
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup_logging(deferred=True)  # a worker opens the log file only if it has something to log
    from .memory import in_worker

    in_worker()


class Pool:
    """Worker processes made on first need (a build whose work is all cached starts none), or,
    with one job, the calls made right here."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[[T], R], arg: T) -> Future[R]:
        if self.jobs <= 1:
            done: Future[R] = Future()
            done.set_result(fn(arg))  # errors (Ctrl-C included) reach the caller at once
            return done
        if self.executor is None:
            from concurrent.futures import ProcessPoolExecutor

            from . import logs

            logs.settle()
            preload()
            self.executor = ProcessPoolExecutor(max_workers=self.jobs, initializer=_worker_init)
            first = self.executor.submit(fn, arg)  # forks the workers (all of them, with fork)
            logs.open_soon()  # the log handler's import overlaps their first tasks
            return first
        return self.executor.submit(fn, arg)

    def close(self, *, abort: bool = False) -> None:
        executor, self.executor = self.executor, None
        if executor is None:
            return
        if not abort:
            try:
                executor.shutdown(cancel_futures=True)
                return
            except BaseException:  # Ctrl-C while the workers were stopping: stop them now
                _terminate(executor)
                raise
        _terminate(executor)  # interrupted: do not wait for encodes whose results nobody will use


def _terminate(executor: ProcessPoolExecutor) -> None:
    for proc in list((getattr(executor, "_processes", None) or {}).values()):
        proc.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def _spec_order(spec: RenderSpec) -> tuple[Any, ...]:
    return (spec.role, spec.width, spec.fit, spec.background)


def _decode_cost(src: SourceFile) -> int:
    """How long the source's decode will take, roughly, from its header: pixels, twice over for
    16-bit samples (a 16-bit PNG inflates and unfilters twice the bytes, and is decoded whole)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a bomb's warning is the loader's to turn into an error
            with Image.open(src.path) as im:
                rawmode = str(im.tile[0][3]) if im.tile else ""
                deep = "16" in rawmode or im.mode.startswith("I;16")
                return int(im.size[0] * im.size[1]) * (2 if deep else 1)
    except Exception:  # an unreadable file fails fast in its task
        return 0


@dataclasses.dataclass(slots=True, kw_only=True)
class Work:
    """One build's decodes, dedupe decisions and encodes; results by content, read back per job."""

    project: Project
    preset: Preset
    profile: Profile
    cache: Cache
    cache_root: str | None
    previous: PreviousBundle
    jobs_icons: list[RenderJob]
    candidates: list[tuple[str, SourceFile]]
    thumb_spec: Callable[[SourceFile], RenderSpec]
    remember: bool  # keep dedupe decisions in the cache
    previews: bool  # make the review page's previews of dropped candidates

    # results
    probes: dict[str, Probe] = dataclasses.field(default_factory=dict)
    ready: dict[Key, EncodedAsset] = dataclasses.field(default_factory=dict)
    failed_specs: dict[Key, Failure] = dataclasses.field(default_factory=dict)
    failed: dict[str, Failure] = dataclasses.field(default_factory=dict)  # by content: could not decode
    kept: dict[str, list[Probe]] = dataclasses.field(default_factory=dict)
    dropped: list[Dropped] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)

    # in flight
    _pixels: dict[Key, Pixels] = dataclasses.field(default_factory=dict)
    _held: int = 0  # bytes in _pixels
    _waiting: dict[str, set[str]] = dataclasses.field(default_factory=dict)  # language -> contents not probed yet
    _langs_of: dict[str, set[str]] = dataclasses.field(default_factory=dict)  # content -> unresolved languages
    _encoding: set[Key] = dataclasses.field(default_factory=set)
    _plans: dict[str, DecodePlan] = dataclasses.field(default_factory=dict)  # content -> how every task decodes it
    _futures: dict[Future[Any], tuple[str, Any]] = dataclasses.field(default_factory=dict)
    _progress: Progress | None = None
    _decodes: int = 0  # prepare tasks started
    _done: dict[str, int] = dataclasses.field(default_factory=lambda: {"decode": 0, "encode": 0})

    def _job(self, src: SourceFile, spec: RenderSpec, stem: str = "") -> RenderJob:
        return RenderJob(source=src, spec=spec, stem=stem, preset=self.preset, cache_root=self.cache_root)

    def run(self, pool: Pool, progress: Progress | None) -> None:
        # keyed by content, not path: the same art under two names (an icon that is also a
        # thumbnail candidate, one picture in two languages) is decoded and encoded once
        icon_specs: dict[str, set[RenderSpec]] = {}
        thumb_specs: dict[str, set[RenderSpec]] = {}
        first: dict[str, SourceFile] = {}
        for job in self.jobs_icons:
            icon_specs.setdefault(job.source.sha256, set()).add(job.spec)
            first.setdefault(job.source.sha256, job.source)
        for lang, src in self.candidates:
            thumb_specs.setdefault(src.sha256, set()).add(self.thumb_spec(src))
            first.setdefault(src.sha256, src)
            self._langs_of.setdefault(src.sha256, set()).add(lang)
        for sha, src in first.items():
            for spec in icon_specs.get(sha, set()) | thumb_specs.get(sha, set()):
                hit = cached_asset(self._job(src, spec), self.cache) or self.previous.reuse(self._job(src, spec))
                if hit is not None:
                    self.ready[(sha, spec)] = hit
        tasks: list[PrepareTask] = []
        for sha, src in first.items():
            # how a content is decoded follows from every output it is needed for, not from what
            # is cached: its fingerprint's cache key and its pixels are the same in every build
            uses = tuple(sorted(icon_specs.get(sha, set()) | thumb_specs.get(sha, set()), key=_spec_order))
            plan = self._plans[sha] = decode_plan(uses, self.preset)
            need_probe = False
            if sha in thumb_specs:
                hit = cached_probe(src, self.preset.render.max_pixels, plan, self.cache)
                if hit is None:
                    need_probe = True
                else:
                    self.probes[sha] = hit
            todo_enc = tuple(sorted((s for s in icon_specs.get(sha, ()) if (sha, s) not in self.ready), key=_spec_order))
            if not need_probe and not todo_enc:
                continue
            todo_ren = tuple(sorted((s for s in thumb_specs.get(sha, ()) if (sha, s) not in self.ready), key=_spec_order))
            tasks.append(PrepareTask(source=src, encode=todo_enc, render=todo_ren, decode=plan,
                                     need_probe=need_probe, preset=self.preset, cache_root=self.cache_root))
        if len(tasks) > 1 and pool.jobs <= 1:
            # one job: the order costs no time, and the process holds more with every result
            # (the encoded files, allocator leftovers), so the decodes that hold most go first
            from .load import held_pixels

            tasks.sort(key=lambda t: -held_pixels(t.source.path, (t.decode.fit_side, t.decode.side)))
        elif len(tasks) > 1:
            tasks.sort(key=lambda t: -_decode_cost(t.source))
        for lang, src in self.candidates:
            if src.sha256 not in self.probes:
                self._waiting.setdefault(lang, set()).add(src.sha256)
        started = {t.source.sha256 for t in tasks}
        later = {src.sha256 for _, src in self.candidates if (src.sha256, self.thumb_spec(src)) not in self.ready} - started
        if len(tasks) + len(later) <= 1:
            pool.jobs = 1  # one decode at most: starting worker processes would cost more than it saves
        self._decodes = len(tasks)
        self._progress = progress
        if progress:
            progress("decode", 0, len(tasks))
        for task in tasks:
            self._track(pool.submit(prepare, task), "prepare", task, pool)
        for lang in self.project.languages:
            if lang not in self._waiting and lang not in self.kept:
                self._resolve(lang, pool)
        while self._futures:
            finished, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
            for fut in finished:
                kind, ref = self._futures.pop(fut)
                self._finish(kind, ref, fut.result(), pool)

    def _track(self, fut: Future[Any], kind: str, ref: Any, pool: Pool) -> None:
        """Follow a submitted task; one run in this process (one job) is finished at once, so its
        pixels go to dedupe and out again instead of every candidate's waiting in its future."""
        if pool.jobs <= 1 and fut.done():
            self._finish(kind, ref, fut.result(), pool)
        else:
            self._futures[fut] = (kind, ref)

    def _tick(self, stage: str) -> None:
        self._done[stage] += 1
        if self._progress and (stage == "decode" or not self._waiting):
            total = self._decodes if stage == "decode" else len(self._encoding)
            self._progress(stage, self._done[stage], total)

    def _finish(self, kind: str, ref: Any, res: Any, pool: Pool) -> None:
        if kind == "encode":
            if isinstance(res, Failure):
                self.failed_specs[ref] = res
            else:
                self.ready[ref] = res
            self._tick("encode")
            return
        if kind != "prepare":
            return  # a preview: it is in the cache now
        task: PrepareTask = ref
        sha = task.source.sha256
        self._tick("decode")
        if isinstance(res, Failure):
            self.failed[sha] = res
        else:
            assert isinstance(res, Prepared)
            if res.probe is not None:
                self.probes[sha] = res.probe
            for spec, got in res.encoded.items():
                if isinstance(got, Failure):
                    self.failed_specs[(sha, spec)] = got
                else:
                    self.ready[(sha, spec)] = got
            for spec, px in res.renditions.items():
                self._hold_pixels((sha, spec), px)
        for lang in sorted(self._langs_of.get(sha, ())):
            waiting = self._waiting.get(lang)
            if waiting is not None:
                waiting.discard(sha)
                if not waiting:
                    del self._waiting[lang]
                    self._resolve(lang, pool)

    def _resolve(self, lang: str, pool: Pool) -> None:
        """`lang`'s candidates are all fingerprinted: dedupe, cap, and start its encodes."""
        probes = [dataclasses.replace(self.probes[src.sha256], source=src)
                  for cand_lang, src in self.candidates if cand_lang == lang and src.sha256 not in self.failed]
        before = len(self.dropped)
        self.kept[lang] = select_language(lang, probes, self.project, self.preset, self.profile, self.dropped,
                                          self.findings, self.cache if self.remember else None)
        for probe in self.kept[lang]:
            key = (probe.source.sha256, self.thumb_spec(probe.source))
            if key in self.ready or key in self._encoding:
                continue
            self._encoding.add(key)
            job = self._job(probe.source, key[1])
            pixels = self._take_pixels(key)
            self._track(pool.submit(encode, (job, pixels, self._plans[key[0]])), "encode", key, pool)
        if self.previews:
            self._start_previews(self.dropped[before:], pool)
        for cand_lang, src in self.candidates:  # pixels no other language may still keep can go
            if cand_lang == lang:
                langs = self._langs_of.get(src.sha256, set())
                langs.discard(lang)
                if not langs:
                    self._take_pixels((src.sha256, self.thumb_spec(src)))
        if not self._waiting and self._progress:
            self._progress("encode", self._done["encode"], len(self._encoding))

    def _hold_pixels(self, key: Key, px: Pixels) -> None:
        if self._held + len(px.data) <= HELD_PIXELS_MAX:  # past it, a kept one is rendered again
            self._pixels[key] = px
            self._held += len(px.data)

    def _take_pixels(self, key: Key) -> Pixels | None:
        px = self._pixels.pop(key, None)
        if px is not None:
            self._held -= len(px.data)
        return px

    def _start_previews(self, drops: list[Dropped], pool: Pool) -> None:
        """The review page shows dropped candidates: make the missing previews in the pool now."""
        from .review import PREVIEW_SIDE

        by_rel = {s.rel: s for _, s in self.candidates}
        for rel in sorted({d.source for d in drops if d.reason != "unreadable"}):
            src = by_rel.get(rel)
            if src is None or self.cache.get(make_key("preview", sha256=src.sha256, side=PREVIEW_SIDE)) is not None:
                continue
            self._track(pool.submit(make_preview, (str(self.project.root), rel, self.cache_root)), "preview", rel, pool)

    def result(self, job: RenderJob) -> EncodedAsset | Failure:
        """What `job` ships: the encoding of its content and spec, under its own path and name."""
        key = (job.source.sha256, job.spec)
        if key in self.ready:
            return for_job(self.ready[key], job)
        bad = self.failed_specs.get(key) or self.failed.get(job.source.sha256)
        if bad is None:  # never reached: every job's content was decoded or failed
            return Failure(source=job.source.rel, reason="internal error: no result", kind="encode_failed")
        return dataclasses.replace(bad, source=job.source.rel)

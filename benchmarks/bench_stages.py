"""Where a build's CPU goes, stage by stage, beside pyvips doing its part of the same work.

    .venv/bin/python -m benchmarks.bench_stages [--preset fast] [--repeat 3]

For every `large` corpus source, as throughput.py lays it out (the 1024 icon and the 360
thumbnail of one decode), one process, the project's own stages are timed separately: the
load (decode and shrink), the dedupe fingerprint, each render, the flatten, each encode (the
scored quality search or the fixed encode, and the score the manifest records), the pHash
and the art lint. In the same run pyvips makes the same two outputs per source (thumbnail with
shrink-on-load, then the same formats as peers.py), split into its decode + resize and its
encode; it decodes a PNG once per output, as its own thumbnail API does. Each figure is the
median over `--repeat` passes, summed over the sources; the ratio to pyvips' total is in the
same run. What it shows is which of our stages pyvips has no counterpart for.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._util import median, write_result  # noqa: E402
from benchmarks.corpus import ensure_corpus  # noqa: E402
from benchmarks.throughput import make_project  # noqa: E402

SIZES = (1024, 360)


def ours(proj: Path, preset_name: str, repeat: int) -> dict[str, float]:
    from asset_pipeline import pipeline, work
    from asset_pipeline.dedupe import fingerprint, phash
    from asset_pipeline.encode.size_cap import encode_to_cap
    from asset_pipeline.lint import lint_rendition
    from asset_pipeline.project import discover
    from asset_pipeline.quality import flatten

    project = discover(proj)
    settings = pipeline.resolve_settings(project, preset=preset_name, platform=None, max_bytes=None)
    preset = settings.preset
    specs = [pipeline._spec(settings, role, "cover", (255, 255, 255)) for role in ("icon", "thumbnail")]
    passes: list[dict[str, float]] = []
    for _ in range(repeat):
        tot: dict[str, float] = defaultdict(float)

        def timed(name: str, fn: Callable[[], Any], tot: dict[str, float] = tot) -> Any:
            t = time.perf_counter()
            out = fn()
            tot[name] += time.perf_counter() - t
            return out

        for _lang, sources in sorted(project.thumbnails.items()):
            src = sources[0]
            plan = work.decode_plan(tuple(specs), preset)
            loaded = timed("load", lambda src=src, plan=plan: work._load(src, plan, preset))
            timed("fingerprint", lambda loaded=loaded: fingerprint(loaded.image))
            for spec in specs:
                r = timed(f"render {spec.width}", lambda loaded=loaded, spec=spec: work._render(loaded, spec, preset))
                flat = timed("flatten", lambda r=r, spec=spec: flatten(r.image, spec.background))
                enc = timed(f"encode {spec.width}", lambda r=r, spec=spec, flat=flat, src=src: encode_to_cap(
                    r.image, spec, preset, source=src.rel, has_alpha=r.has_alpha, flat=flat))
                timed("phash", lambda flat=flat: phash(flat))
                timed("lint", lambda r=r, spec=spec, flat=flat, enc=enc, src=src: lint_rendition(
                    r.image, spec, source=src.rel, shipped_format=enc.format, upstream=(), flat=flat))
        passes.append(dict(tot))
    return {k: median([p[k] for p in passes]) for k in passes[0]}


def vips(sources: list[Path], repeat: int) -> dict[str, float]:
    import pyvips

    pyvips.cache_set_max(0)  # each pass decodes for itself, as a fresh process would
    passes: list[dict[str, float]] = []
    for _ in range(repeat):
        tot: dict[str, float] = defaultdict(float)
        for src in sources:
            for size in SIZES:
                t = time.perf_counter()
                im = pyvips.Image.thumbnail(str(src), size, height=size, crop="centre")
                if im.interpretation == "rgb16" or im.format == "ushort":
                    im = im.colourspace("srgb")
                im = im.copy_memory()  # the decode and resize happen here
                t1 = time.perf_counter()
                if im.hasalpha():
                    im.pngsave_buffer()
                else:
                    im.jpegsave_buffer(Q=85, optimize_coding=True)
                t2 = time.perf_counter()
                tot[f"decode + resize {size}"] += t1 - t
                tot[f"encode {size}"] += t2 - t1
        passes.append(dict(tot))
    return {k: median([p[k] for p in passes]) for k in passes[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI runs (read when numpy loads)
    os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one thread each: a like-for-like CPU count
    sources = sorted(ensure_corpus("large"))
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        proj = make_project(sources, Path(tmp) / "proj")
        mine = ours(proj, args.preset, args.repeat)
    peer = vips(sources, args.repeat)
    total_mine, total_peer = sum(mine.values()), sum(peer.values())
    print(f"asset-pipeline, preset {args.preset} (one process, {len(sources)} sources x {len(SIZES)} outputs):")
    for k, v in mine.items():
        print(f"  {k:22s} {v * 1e3:7.0f} ms")
    print(f"  {'total':22s} {total_mine * 1e3:7.0f} ms")
    print("pyvips, the same outputs (VIPS_CONCURRENCY=1):")
    for k, v in peer.items():
        print(f"  {k:22s} {v * 1e3:7.0f} ms")
    print(f"  {'total':22s} {total_peer * 1e3:7.0f} ms")
    print(f"ratio (ours / pyvips): {total_mine / total_peer:.3f}")
    path = write_result(f"bench_stages_{args.preset}", {
        "preset": args.preset, "repeat": args.repeat, "ours_s": mine, "pyvips_s": peer,
        "ratio": round(total_mine / total_peer, 3)})
    print(f"written: {path}")


if __name__ == "__main__":
    main()

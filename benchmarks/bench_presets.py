"""Shipped presets against a plain-Pillow baseline on the project's own corpus, plus the
evaluation of lossless post-optimizers and quantizers that decided what the presets use.

    .venv/bin/pip install -e ".[bench]"            # pyvips, psutil, ssimulacra2 (not needed here)
    .venv/bin/python -m benchmarks.bench_presets   # ~5 min on 2 cores
    .venv/bin/python -m benchmarks.bench_presets --sizes 360 --limit 6   # smoke run

1. `asset-pipeline bench` (the same code) over benchmarks' ``small`` corpus (24 images: photo-
   like and flat art, with and without alpha, one 16-bit source) at 1024 and 360 px, for every
   shipped preset and the baseline "plain Pillow: JPEG quality 90 optimize=True (PNG
   optimize=True where alpha)", all in one run.
2. "balanced at the baseline's score": balanced's encoder with its target set, per image, to
   the score the baseline reached, so bytes are compared at equal or better quality.
3. Optimizers on the 1024 renders: balanced's jpegli + mozjpeg-lossless JPEGs against libjpeg-turbo's; oxipng
   levels 1-2 and zlib settings against Pillow optimize on lossless PNGs; imagequant against
   Pillow's quantizer on flat art (bytes, score, time).

Times are CPU seconds of this process (steadier than wall time: the machine is shared).
Writes benchmarks/results/bench_presets.{json,md} and bench_presets_1024.svg.
"""

from __future__ import annotations

import importlib.util

import argparse
import dataclasses
import hashlib
import io
import json
import os
import statistics
import sys
import time
import zlib
from pathlib import Path
from typing import Any

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # oxipng: one thread, like every other encoder here

from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from asset_pipeline import quality as q
from asset_pipeline.bench import BASELINE, DEFAULT_PRESETS, environment, run_bench
from asset_pipeline.bench_chart import render_svg
from asset_pipeline.config import load_preset
from asset_pipeline.encode.art import is_flat_art
from asset_pipeline.encode.png import quantize
from asset_pipeline.encode.size_cap import encode_to_cap
from asset_pipeline.load import load_image
from asset_pipeline.records import RenderSpec, SourceFile
from asset_pipeline.render import render
from benchmarks._util import RESULTS
from benchmarks.corpus import ensure_corpus

WHITE = (255, 255, 255)

# imagequant is the optional `quant` extra (its library is GPLv3 or commercial): compared when installed
QUANTIZERS = tuple(q for q in ("imagequant", "pillow") if q != "imagequant" or importlib.util.find_spec("imagequant"))


def _spec(side: int) -> RenderSpec:
    return RenderSpec(role="icon", width=side, height=side, fit="cover", background=WHITE, formats=("JPEG", "PNG"), max_bytes=5_000_000)


def _renders(paths: list[Path], side: int) -> list[tuple[str, Image.Image, bool]]:
    out = []
    for p in paths:
        src = SourceFile(path=p, rel=p.name, sha256=hashlib.sha256(p.read_bytes()).hexdigest(), size=p.stat().st_size)
        r = render(load_image(src, shrink_to=("short", 2 * side)), _spec(side))
        out.append((p.name, r.image, r.has_alpha))
    return out


def _cpu(fn: Any) -> tuple[Any, float]:
    t0 = time.process_time()
    got = fn()
    return got, time.process_time() - t0


def _med(values: list[float]) -> float:
    return round(statistics.median(values), 4) if values else float("nan")


def compare(result: dict[str, Any], a: str, b: str) -> dict[str, Any]:
    """Per-image bytes and score of preset `a` against `b`, and their CPU-time ratio."""
    ratios, deltas, where_better, where_close = [], [], [], []
    for im in result["images"]:
        ra, rb = im["results"][a], im["results"][b]
        if "error" in ra or "error" in rb:
            continue
        ratio = ra["bytes"] / rb["bytes"]
        ratios.append(ratio)
        deltas.append(ra["score"] - rb["score"])
        if ra["score"] >= rb["score"]:
            where_better.append(ratio)
        if ra["score"] >= rb["score"] - 0.001:  # an SSIM difference far below visibility
            where_close.append(ratio)
    ta, tb = result["totals"][a], result["totals"][b]
    return {"images": len(ratios), "median_bytes_ratio": _med(ratios), "total_bytes_ratio": round(ta["bytes"] / tb["bytes"], 4),
            "mean_score": ta["mean_score"], "baseline_mean_score": tb["mean_score"],
            "equal_or_better_score": len(where_better), "median_bytes_ratio_where_equal_or_better": _med(where_better),
            "within_0.001": len(where_close), "median_bytes_ratio_within_0.001": _med(where_close),
            "median_score_delta": _med(deltas),
            "time_ratio": round(ta["seconds"] / tb["seconds"], 2) if tb["seconds"] else None}


def at_baseline_quality(renders: list[tuple[str, Image.Image, bool]], result: dict[str, Any]) -> dict[str, Any]:
    """balanced with, per image, the baseline's score as its target."""
    base = load_preset("balanced")
    by_name = {Path(im["path"]).name: im for im in result["images"]}
    ratios, met, seconds, base_seconds, rows = [], 0, 0.0, 0.0, []
    for name, image, alpha in renders:
        b = by_name[name]["results"][BASELINE]
        preset = dataclasses.replace(base, quality=dataclasses.replace(base.quality, target=min(b["score"], 1.0)))
        enc, dt = _cpu(lambda: encode_to_cap(image, _spec(image.width), preset, source=name, has_alpha=alpha))  # noqa: B023
        seconds += dt
        base_seconds += b["seconds"]
        ok = enc.score >= b["score"]
        met += ok
        ratios.append(len(enc.data) / b["bytes"])
        rows.append({"image": name, "format": enc.format, "bytes": len(enc.data), "baseline_bytes": b["bytes"],
                     "score": enc.score, "baseline_score": b["score"], "met": ok})
    return {"images": len(ratios), "median_bytes_ratio": _med(ratios), "equal_or_better_score": met,
            "time_ratio": round(seconds / base_seconds, 2) if base_seconds else None, "rows": rows}


def eval_optimizers(renders: list[tuple[str, Image.Image, bool]], result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # balanced's JPEG encoder (jpegli, then mozjpeg's lossless re-code) against libjpeg-turbo
    # progressive + optimized Huffman, each searching balanced's target on the same renders
    preset = load_preset("balanced")
    turbo = dataclasses.replace(preset, jpeg=dataclasses.replace(preset.jpeg, encoder="libjpeg-turbo", optimizer="none"))
    ratios, times, deltas = [], [], []
    for name, image, alpha in renders:
        ours, t_ours = _cpu(lambda: encode_to_cap(image, _spec(image.width), preset, source=name, has_alpha=alpha))  # noqa: B023
        theirs, t_theirs = _cpu(lambda: encode_to_cap(image, _spec(image.width), turbo, source=name, has_alpha=alpha))  # noqa: B023
        if ours.format != "JPEG" or theirs.format != "JPEG":
            continue
        ratios.append(len(ours.data) / len(theirs.data))
        times.append(t_ours / t_theirs)
        deltas.append(ours.score - theirs.score)
    out["jpegli_mozjpeg_vs_turbo"] = {"jpegs": len(ratios), "median_bytes_ratio": _med(ratios),
                                      "median_time_ratio": _med(times), "median_score_delta": _med(deltas)}
    # lossless PNG: Pillow settings and oxipng against Pillow optimize=True
    import oxipng

    def pil(image: Image.Image, **kw: Any) -> bytes:
        buf = io.BytesIO()
        image.save(buf, "PNG", **kw)
        return buf.getvalue()

    def oxi(image: Image.Image, level: int) -> bytes:
        return bytes(oxipng.optimize_from_memory(pil(image, compress_level=0), level=level))

    ways = {
        "pillow level 9 RLE": lambda im: pil(im, compress_level=9, compress_type=zlib.Z_RLE),
        "pillow level 6 RLE": lambda im: pil(im, compress_level=6, compress_type=zlib.Z_RLE),
        "oxipng level 1": lambda im: oxi(im, 1),
        "oxipng level 2": lambda im: oxi(im, 2),
    }
    png: dict[str, dict[str, list[float]]] = {k: {"bytes": [], "time": []} for k in ways}
    for _, image, _ in renders:
        ref, t_ref = _cpu(lambda: pil(image, optimize=True))  # noqa: B023
        for way, fn in ways.items():
            data, t = _cpu(lambda: fn(image))  # noqa: B023
            png[way]["bytes"].append(len(data) / len(ref))
            png[way]["time"].append(t / t_ref)
    out["png_lossless_vs_pillow_optimize"] = {
        way: {"median_bytes_ratio": _med(v["bytes"]), "median_time_ratio": _med(v["time"])} for way, v in png.items()
    }
    # quantizers on flat art: bytes against lossless RLE, score (worse of white and black), time
    quant: dict[str, dict[str, list[float]]] = {k: {"bytes": [], "score": [], "ms": []} for k in QUANTIZERS}
    flat = [(n, im) for n, im, _ in renders if is_flat_art(im)]
    for _, image in flat:
        lossless = pil(image, compress_level=9, compress_type=zlib.Z_RLE)
        for qn in quant:
            pal, t = _cpu(lambda: quantize(image, quantizer=qn))  # noqa: B023
            data = pil(pal, compress_level=9)
            worst = min(q.score_bytes(q.reference(q.flatten(image, bg)), data, bg) for bg in (WHITE, (0, 0, 0)))
            quant[qn]["bytes"].append(len(data) / len(lossless))
            quant[qn]["score"].append(worst)
            quant[qn]["ms"].append(1000 * t)
    out["quantizers_on_flat_art"] = {
        "images": len(flat),
        **{qn: {"median_bytes_ratio_vs_lossless": _med(v["bytes"]), "min_score": round(min(v["score"]), 4) if v["score"] else None,
                "median_score": _med(v["score"]), "median_ms": round(_med(v["ms"]))} for qn, v in quant.items()},
    }
    return out


def markdown(data: dict[str, Any]) -> str:
    env = data["environment"]
    lines = ["# Presets against plain Pillow (benchmarks/bench_presets.py)", "",
             f"Machine: {env['platform']}, Python {env['python']}, {os.cpu_count()} CPUs, shared with other jobs "
             f"(load average {data['loadavg']}); times are CPU seconds of the encode stage in one process. "
             f"Libraries: {', '.join(f'{k} {v}' for k, v in sorted(env['libraries'].items()))}.", ""]
    for side, run in data["runs"].items():
        lines += [f"## {side}x{side}: {len(run['result']['images'])} images of the `small` corpus", "",
                  "| preset | total bytes | median bytes | mean SSIM | min SSIM | ms per output | probes per searched JPEG | Pareto |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"]
        for name, t in run["result"]["totals"].items():
            n = t["images"] + t["failed"]
            probes = [r["settings"]["search"]["probes"] for im in run["result"]["images"]
                      if "search" in (r := im["results"][name]).get("settings", {})]
            mean_probes = f"{statistics.fmean(probes):.1f}" if probes else "-"
            lines.append(f"| {name} | {t['bytes']:,} | {t['median_bytes']:,.0f} | {t['mean_score']:.4f} | {t['min_score']:.4f} | "
                         f"{1000 * t['seconds'] / n:.0f} | {mean_probes} | {'*' if t['pareto'] else ''} |")
        c, e = run["balanced_vs_baseline"], run["balanced_at_baseline_score"]
        lines += ["", f"- balanced vs baseline, as shipped: median bytes ratio **{c['median_bytes_ratio']}** (total {c['total_bytes_ratio']}) "
                  f"at a mean SSIM of {c['mean_score']:.4f} against {c['baseline_mean_score']:.4f} (median per-image delta "
                  f"{c['median_score_delta']:+.4f}); encode-time ratio {c['time_ratio']}.",
                  f"- per image, balanced's score is equal or better on {c['equal_or_better_score']}/{c['images']} images "
                  f"(median bytes ratio there {c['median_bytes_ratio_where_equal_or_better']}), and within 0.001 SSIM on "
                  f"{c['within_0.001']}/{c['images']} (median bytes ratio there {c['median_bytes_ratio_within_0.001']}).",
                  f"- balanced at the baseline's score (target = the baseline's score, per image): median bytes ratio "
                  f"**{e['median_bytes_ratio']}** at an equal or better score on {e['equal_or_better_score']}/{e['images']} images, "
                  f"encode-time ratio {e['time_ratio']}.", ""]
    if "optimizers" in data:
        o = data["optimizers"]
        lines += ["## Post-optimizers and quantizers (1024 renders)", ""]
        if "jpegli_mozjpeg_vs_turbo" in o:
            m = o["jpegli_mozjpeg_vs_turbo"]
            lines.append(f"- balanced's JPEG encoder (jpegli + mozjpeg lossless re-code) against libjpeg-turbo progressive/optimized, "
                         f"both searching balanced's target, on {m['jpegs']} JPEGs: median bytes ratio {m['median_bytes_ratio']}, "
                         f"encode-time ratio {m['median_time_ratio']}, median score delta {m['median_score_delta']}.")
        for way, v in o["png_lossless_vs_pillow_optimize"].items():
            lines.append(f"- lossless PNG, {way} vs Pillow optimize=True: bytes {v['median_bytes_ratio']}, time {v['median_time_ratio']}x.")
        qz = o["quantizers_on_flat_art"]
        for qn in QUANTIZERS:
            v = qz[qn]
            lines.append(f"- 256-colour palette by {qn} on {qz['images']} flat-art renders: bytes {v['median_bytes_ratio_vs_lossless']} of "
                         f"lossless PNG, SSIM median {v['median_score']} (worst {v['min_score']}, worse of white and black backgrounds), "
                         f"{v['median_ms']} ms.")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 360])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N corpus images (smoke runs)")
    ap.add_argument("--no-optimizers", action="store_true", help="skip step 3")
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the last .json")
    args = ap.parse_args(argv)
    if args.report_only:
        text = markdown(json.loads((RESULTS / "bench_presets.json").read_text()))
        (RESULTS / "bench_presets.md").write_text(text)
        print(text)
        return 0
    paths = ensure_corpus("small", jobs=2)
    if args.limit:
        paths = paths[: args.limit]
    data: dict[str, Any] = {"environment": environment(), "loadavg": round(os.getloadavg()[0], 2), "runs": {}}
    for side in args.sizes:
        t0 = time.perf_counter()
        result = run_bench(paths, presets=list(DEFAULT_PRESETS), size=side, baseline=True)
        renders = _renders(paths, side)
        data["runs"][str(side)] = {
            "result": result,
            "balanced_vs_baseline": compare(result, "balanced", BASELINE),
            "balanced_at_baseline_score": at_baseline_quality(renders, result),
        }
        if side == 1024:
            (RESULTS / "bench_presets_1024.svg").write_text(render_svg(result))
            if not args.no_optimizers:
                data["optimizers"] = eval_optimizers(renders, result)
        print(f"{side}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_presets.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    (RESULTS / "bench_presets.md").write_text(markdown(data))
    print(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shrink-on-load + linear-light LANCZOS against plain Pillow: time, peak memory and quality.

    python -m benchmarks.bench_resize              # corpus "large" (10 sources) + the 60 MP pair
    python -m benchmarks.bench_resize --no-huge    # corpus only

For each source, four ways to make the 1024x1024 cover icon (centre square), each run in its
own process so its peak memory can be read (ru_maxrss after the work minus after the imports):

* `plain`     Image.open().convert("RGB").resize((1024, 1024), LANCZOS, box=centre square):
              full decode, gamma-space filter. The baseline the ratios are taken against.
* `project`   what a `balanced` build does: load_image shrinking to 1.35x the target (JPEG draft,
              strip-wise PNG decode and reduce(), orientation, ICC) then render() in linear light on
              premultiplied alpha.
* `project-gamma`  what a `fast` build does: shrink to 1.0x the target, render in gamma space.
* `reference` full decode, no draft, no reduce, linear-light LANCZOS: the quality reference.

Quality is the project's own metric (asset_pipeline.quality: SSIM on Y, Cb, Cr weighted 6:1:1)
of each output against `reference`, all flattened on white. Times are the median of --repeat
runs inside the process; ratios are per source, then the median across sources is quoted.
The machine has 2 shared vCPUs with other jobs running: expect +-15 % noise on times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image

METHODS = ("plain", "project", "project-gamma", "reference")
SIDES = (1024, 360)  # the icon and the thumbnail

CHILD = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from PIL import Image
    from asset_pipeline.config import load_preset
    from asset_pipeline.load import load_image
    from asset_pipeline.records import RenderSpec, SourceFile
    from asset_pipeline.render import render, resize
    from asset_pipeline.work import decode_plan

    method, src, out, repeat, side = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    spec = RenderSpec(role="icon", width=side, height=side, fit="cover", background=(255, 255, 255), formats=("PNG",), max_bytes=5_000_000)
    source = SourceFile(path=src, rel=src.name, sha256="", size=0)

    def centre(w, h):
        s = min(w, h)
        return ((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)

    def run():
        if method == "plain":
            with Image.open(src) as im:
                im = im.convert("RGB")
                return im.resize((side, side), Image.Resampling.LANCZOS, box=centre(*im.size))
        if method == "reference":
            loaded = load_image(source)  # full size: orientation, ICC, 8-bit sRGB, nothing shrunk
            return render(loaded, spec, linear_light=True).image
        # what a build does: shrink on load to the preset's reducing_gap (balanced: linear light,
        # 1.35x; fast: gamma space, 1.0x), then render
        preset = load_preset("balanced" if method == "project" else "fast")
        plan = decode_plan((spec,), preset)
        loaded = load_image(source, shrink_to=(plan.fit_side, plan.side), packed=plan.packed)
        return render(loaded, spec, linear_light=preset.render.linear_light, gap=preset.render.reducing_gap).image

    def status(key):
        # VmHWM is this process's own high-water mark; ru_maxrss would include the parent's
        # pages that the (v)forked child carried until exec
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

    base = status("VmRSS:")
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        img = run()
        times.append(time.perf_counter() - t)
        if i == 0:
            peak = status("VmHWM:")
            img.save(out)
        del img
    print(json.dumps({"times": times, "peak_delta": peak - base}))
""")


def run_child(method: str, src: Path, out: Path, repeat: int, side: int) -> dict[str, float]:
    r = subprocess.run([sys.executable, "-c", CHILD, method, str(src), str(out), str(repeat), str(side)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        msg = f"{method} on {src.name} failed: {r.stderr[-800:]}"
        raise RuntimeError(msg)
    data = json.loads(r.stdout.strip().splitlines()[-1])
    return {"seconds": statistics.median(data["times"]), "peak_delta": data["peak_delta"]}


def score(out: Path, ref: Path) -> float:
    from asset_pipeline.quality import flatten, reference
    from asset_pipeline.quality import score as ssim

    with Image.open(ref) as r, Image.open(out) as o:
        return ssim(reference(flatten(r.convert("RGBA"), (255, 255, 255))), flatten(o.convert("RGBA"), (255, 255, 255)))


def sources(include_huge: bool) -> list[Path]:
    from benchmarks.corpus import ensure_corpus

    paths = list(ensure_corpus("large"))
    if include_huge:
        from benchmarks.bench_memory import FULL, ensure_sources

        subprocess.run([sys.executable, "-m", "benchmarks.bench_memory", "--generate-only"], check=True)
        huge = ensure_sources(FULL)
        paths += [huge["jpeg"], huge["png"]]
    return paths


def measure_source(src: Path, side: int, tmp: Path, repeat: int) -> dict[str, Any]:
    with Image.open(src) as im:
        size, mode, fmt = im.size, im.mode, im.format
    outs = {m: tmp / f"{src.stem}.{side}.{m}.png" for m in METHODS}
    res = {m: run_child(m, src, outs[m], repeat if m != "reference" else 1, side) for m in METHODS}
    q = {m: score(outs[m], outs["reference"]) for m in METHODS if m != "reference"}
    return {
        "target": side, "source": src.name, "size": f"{size[0]}x{size[1]}", "mode": mode, "format": fmt,
        **{f"{m}_s": round(res[m]["seconds"], 3) for m in METHODS},
        **{f"{m}_mib": round(res[m]["peak_delta"] / 2**20, 1) for m in METHODS},
        **{f"{m}_ssim": q[m] for m in q},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-huge", action="store_true", help="skip the 60 MP JPEG and PNG")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--sides", type=int, nargs="+", default=list(SIDES), help="target squares (default: 1024 360)")
    ns = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-resize-") as tmp:
        paths = sources(not ns.no_huge)
        for side in ns.sides:
            rows += [measure_source(src, side, Path(tmp), ns.repeat) for src in paths]
    summary: dict[str, float] = {}
    for side in ns.sides:
        sub = [r for r in rows if r["target"] == side]
        summary |= {
            f"{side}: time project/plain (median)": statistics.median(r["project_s"] / r["plain_s"] for r in sub),
            f"{side}: time linear/gamma (median)": statistics.median(r["project_s"] / r["project-gamma_s"] for r in sub),
            f"{side}: peak memory project/plain (median)": statistics.median(r["project_mib"] / max(r["plain_mib"], 1.0) for r in sub),
            f"{side}: SSIM project vs reference (min)": min(r["project_ssim"] for r in sub),
            f"{side}: SSIM project-gamma vs reference (min)": min(r["project-gamma_ssim"] for r in sub),
        }
    machine = {"python": platform.python_version(), "pillow": PIL.__version__, "numpy": np.__version__, "cpus": os.cpu_count(), "note": "2 shared vCPUs, other jobs running"}
    if ns.json:
        print(json.dumps({"machine": machine, "rows": rows, "summary": summary}, indent=2))
        return 0
    print(f"{'target':>6} {'source':<36} {'size':>10} {'mode':>5} | {'seconds: plain':>14} {'project':>8} {'gamma':>6} {'ref':>6} | {'peak MiB: plain':>15} {'project':>8} {'gamma':>6} {'ref':>6} | {'SSIM vs ref: plain':>18} {'project':>8} {'gamma':>7}")
    for r in rows:
        print(
            f"{r['target']:>6} {r['source']:<36} {r['size']:>10} {r['mode']:>5} | {r['plain_s']:>14.2f} {r['project_s']:>8.2f} {r['project-gamma_s']:>6.2f} {r['reference_s']:>6.2f} | "
            f"{r['plain_mib']:>15.0f} {r['project_mib']:>8.0f} {r['project-gamma_mib']:>6.0f} {r['reference_mib']:>6.0f} | "
            f"{r['plain_ssim']:>18.4f} {r['project_ssim']:>8.4f} {r['project-gamma_ssim']:>7.4f}"
        )
    for k, v in summary.items():
        print(f"{k}: {v:.4f}")
    print(f"machine: {machine}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

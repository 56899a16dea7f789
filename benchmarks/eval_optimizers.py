"""Compare JPEG/PNG encoders, optimizers and quantizers on the ``small`` corpus.

Every source is cover-fitted (centre crop + LANCZOS) to 1024x1024 and 360x360. JPEG gets the
image composited onto white; PNG keeps alpha. For each option we record bytes, encode time
(process CPU time, median of 3 runs; 1 run when the first takes over 0.1 s) and, for lossy
results, SSIM (skimage, RGB) and SSIMULACRA2 (the ``ssimulacra2`` package; at 360 px only by
default, it costs ~5x SSIM). For alpha images, quality is the worse of the image composited
on white and on black.

A per-image quality search (bisection over Pillow quality 40..100, interpolated probes) finds
the smallest JPEG meeting SSIM >= 0.95/0.97/0.98/0.99 for preset calibration (4:2:0, 4:4:4
and jpegli), and is compared with the plain baseline "Pillow quality 90, optimize=True" at
equal-or-better SSIM.

Expect ~450 CPU-seconds per process (about 7-8 min with 2 processes on an idle 2-core machine;
much longer when the machine is shared: timings are CPU time, so they stay comparable).

Results: ``benchmarks/results/optimizers.md`` (and ``optimizers.json`` with every record).

    .venv/bin/python -m benchmarks.eval_optimizers            # full run, 2 processes
    .venv/bin/python -m benchmarks.eval_optimizers --limit 4  # smoke test
    .venv/bin/python -m benchmarks.eval_optimizers --report-only  # re-render from the .json
"""

from __future__ import annotations

import os

# oxipng uses a rayon thread pool; pin it to one thread so that timings compare per core
# with the single-threaded encoders (the pipeline parallelises with processes).
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import argparse
import importlib
import importlib.metadata
import io
import json
import math
import platform
import resource
import statistics
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, features
from skimage.metrics import structural_similarity

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.corpus import ensure_corpus


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None


mozjpeg = _optional("mozjpeg_lossless_optimization")
oxipng = _optional("oxipng")
pyjpegli = _optional("pyjpegli")
imagequant = _optional("imagequant")
ssimulacra2 = _optional("ssimulacra2")

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SIZES = (1024, 360)
JPEG_QUALITIES = (75, 85, 90)
SSIM_TARGETS = (0.95, 0.97, 0.98, 0.99)
Q_MIN, Q_MAX = 40, 100
SLOW_S = 0.1  # a first run slower than this is not repeated (CPU time is steady there)

# ----------------------------------------------------------------------------- basics


def timed(fn: Callable[[], Any], reps: int = 3) -> tuple[Any, float]:
    """Run ``fn`` up to ``reps`` times; return its result and the median CPU seconds.

    CPU time of this process (all its threads) rather than wall time: every encoder here runs
    on one thread, and CPU time stays meaningful when other jobs share the machine.
    """
    times = []
    result = None
    for _ in range(reps):
        t0 = time.process_time()
        result = fn()
        times.append(time.process_time() - t0)
        if times[0] > SLOW_S:
            break
    return result, statistics.median(times)


def load_source(path: Path) -> Image.Image:
    """Open, apply EXIF orientation, normalise to RGB or RGBA (RGBA only if alpha is used)."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        has_alpha = im.mode in ("RGBA", "LA", "PA") or (
            im.mode == "P" and "transparency" in im.info
        )
        im = im.convert("RGBA" if has_alpha else "RGB")
    if im.mode == "RGBA" and im.getextrema()[3][0] == 255:
        im = im.convert("RGB")
    return im


def cover(im: Image.Image, size: int) -> Image.Image:
    # Pillow resizes RGBA premultiplied, so edges do not darken.
    return ImageOps.fit(im, (size, size), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def on_background(im: Image.Image, rgb: tuple[int, int, int]) -> Image.Image:
    if im.mode != "RGBA":
        return im.convert("RGB")
    bg = Image.new("RGBA", im.size, (*rgb, 255))
    return Image.alpha_composite(bg, im).convert("RGB")


def views(im: Image.Image) -> list[np.ndarray]:
    """RGB arrays a metric compares: the image, or for alpha: on white and on black."""
    if im.mode == "RGBA":
        return [np.asarray(on_background(im, c)) for c in ((255, 255, 255), (0, 0, 0))]
    return [np.asarray(im.convert("RGB"))]


def decode(data: bytes, mode: str) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert(mode)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def _png_raw(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


def s2(a: np.ndarray, b: np.ndarray) -> float:
    """SSIMULACRA2 of two RGB arrays through the package's own entry point."""
    return float(ssimulacra2.compute_ssimulacra2(io.BytesIO(_png_raw(a)), io.BytesIO(_png_raw(b))))


class Scorer:
    """Quality of decoded results against one reference image (min over alpha views)."""

    def __init__(self, ref: Image.Image) -> None:
        self.mode = ref.mode
        self.ref = views(ref)

    def ssim(self, dist: Image.Image) -> float:
        pairs = zip(self.ref, views(dist.convert(self.mode)), strict=True)
        return min(ssim(r, d) for r, d in pairs)

    def s2(self, dist: Image.Image) -> float | None:
        if ssimulacra2 is None:
            return None
        return min(s2(r, d) for r, d in zip(self.ref, views(dist.convert(self.mode)), strict=True))


# ----------------------------------------------------------------------------- encoders


def pil_jpeg(im: Image.Image, q: int, sub: int, *, progressive: bool = True) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q, subsampling=sub, optimize=True, progressive=progressive)
    return buf.getvalue()


def jpegli(im: Image.Image, q: int) -> bytes:
    return pyjpegli.encode(im.tobytes(), im.width, im.height, quality=q)


def pil_png(im: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def quantizers() -> dict[str, Callable[[Image.Image], Image.Image]]:
    q: dict[str, Callable[[Image.Image], Image.Image]] = {
        "pil_fastoctree": lambda im: im.quantize(256, method=Image.Quantize.FASTOCTREE),
        # MEDIANCUT refuses RGBA; callers skip it for alpha images
        "pil_mediancut": lambda im: im.quantize(256, method=Image.Quantize.MEDIANCUT),
    }
    if features.check("libimagequant"):
        q["pil_libimagequant"] = lambda im: im.quantize(256, method=Image.Quantize.LIBIMAGEQUANT)
    if imagequant is not None:

        def liq(im: Image.Image) -> Image.Image:
            # quantize_pil_image() builds its input byte by byte in Python; use raw bytes.
            rgba = im.convert("RGBA")
            idx, pal = imagequant.quantize_raw_rgba_bytes(rgba.tobytes(), im.width, im.height)
            out = Image.frombytes("P", im.size, idx)
            if im.mode == "RGBA":
                out.putpalette(pal, "RGBA")
            else:  # opaque source: an RGB palette, so no needless tRNS chunk is written
                out.putpalette([v for i, v in enumerate(pal) if i % 4 != 3], "RGB")
            return out

        q["imagequant"] = liq
    return q


# ----------------------------------------------------------------------------- search


class JpegSearch:
    """Memoised bisection over quality for one target image and encoder."""

    def __init__(self, encode: Callable[[int], bytes], scorer: Scorer) -> None:
        self.encode, self.scorer = encode, scorer
        self.memo: dict[int, tuple[int, float]] = {}

    def point(self, q: int) -> tuple[int, float]:
        if q not in self.memo:
            data = self.encode(q)
            self.memo[q] = (len(data), self.scorer.ssim(decode(data, "RGB")))
        return self.memo[q]

    def _guess(self, lo: int, hi: int, target: float) -> int:
        """Interpolate the crossing quality; log(1 - SSIM) is near linear in log(101 - q)."""
        def xy(q: int, s: float) -> tuple[float, float]:
            return math.log(Q_MAX + 1 - q), math.log(max(1.0 - s, 1e-6))

        (x0, y0), (x1, y1) = xy(lo, self.memo[lo][1]), xy(hi, self.memo[hi][1])
        yt = math.log(max(1.0 - target, 1e-6))
        if y1 >= y0:
            return (lo + hi) // 2
        x = x0 + (yt - y0) * (x1 - x0) / (y1 - y0)
        return math.ceil(Q_MAX + 1 - math.exp(x))

    def smallest_q(self, target: float) -> int | None:
        """Smallest quality whose SSIM >= target (assumes SSIM grows with quality)."""
        if self.point(Q_MAX)[1] < target:
            return None
        # Start from the tightest bracket the memo already proves (same answer, fewer encodes).
        hi = min(q for q, (_, s) in self.memo.items() if s >= target)
        fails = [q for q, (_, s) in self.memo.items() if s < target and q < hi]
        if fails:
            lo = max(fails)
        else:
            lo = Q_MIN
            if self.point(lo)[1] >= target:
                return lo
        # Bisection with smarter probes (same answer while SSIM grows with quality): guess
        # by interpolating SSIM across the bracket, then test the guess's inner neighbour,
        # which usually closes the bracket in 2-3 encodes; plain midpoints after 4 probes.
        probes, last = 0, None
        while hi - lo > 1:  # invariant: lo fails, hi meets
            if probes >= 4:
                mid = (lo + hi) // 2
            elif probes % 2 == 1 and last == hi:
                mid = hi - 1
            elif probes % 2 == 1 and last == lo:
                mid = lo + 1
            else:
                mid = min(max(self._guess(lo, hi, target), lo + 1), hi - 1)
            if self.point(mid)[1] >= target:
                hi = mid
            else:
                lo = mid
            probes, last = probes + 1, mid
        return hi


def search_record(search: JpegSearch, target: float) -> dict[str, Any] | None:
    q = search.smallest_q(target)
    if q is None:
        return None
    n, s = search.point(q)
    return {"q": q, "bytes": n, "ssim": s}


# ----------------------------------------------------------------------------- per image


def evaluate_image(path: Path, s2_sizes: tuple[int, ...]) -> dict[str, Any]:
    src = load_source(path)
    out: dict[str, Any] = {
        "name": path.name,
        "class": path.name.split("_", 1)[0],
        "alpha": src.mode == "RGBA",
        "targets": {},
    }
    for size in SIZES:
        out["targets"][str(size)] = evaluate_target(cover(src, size), size in s2_sizes)
    return out


def evaluate_target(png_src: Image.Image, with_s2: bool) -> dict[str, Any]:
    jpg_src = on_background(png_src, (255, 255, 255))
    jscore, pscore = Scorer(jpg_src), Scorer(png_src)
    rec: dict[str, Any] = {"jpeg": {}, "png": {}, "quant": {}, "search": {}, "section_s": {}}
    t_sec = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t_sec
        now = time.perf_counter()
        rec["section_s"][name] = now - t_sec
        t_sec = now

    # --- JPEG grid
    jpeg_px: dict[tuple[str, int], np.ndarray] = {}
    for q in JPEG_QUALITIES:
        for sub, sub_name in ((2, "420"), (0, "444")):
            data, t = timed(lambda q=q, sub=sub: pil_jpeg(jpg_src, q, sub))
            dec = decode(data, "RGB")
            r = {"bytes": len(data), "time": t, "ssim": jscore.ssim(dec)}
            if with_s2:
                r["s2"] = jscore.s2(dec)
            rec["jpeg"][f"pillow_{sub_name}_q{q}"] = r
            jpeg_px[(sub_name, q)] = np.asarray(dec)
            if mozjpeg is not None:
                mdata, mt = timed(lambda data=data: mozjpeg.optimize(data))
                same = np.array_equal(np.asarray(decode(mdata, "RGB")), jpeg_px[(sub_name, q)])
                rec["jpeg"][f"pillow_{sub_name}_q{q}+moz"] = {
                    **r, "bytes": len(mdata), "time": t + mt, "moz_time": mt, "same_pixels": same,
                }
        if pyjpegli is not None:
            data, t = timed(lambda q=q: jpegli(jpg_src, q))
            dec = decode(data, "RGB")
            r = {"bytes": len(data), "time": t, "ssim": jscore.ssim(dec)}
            if with_s2:
                r["s2"] = jscore.s2(dec)
            rec["jpeg"][f"jpegli_q{q}"] = r
            if mozjpeg is not None:
                mdata, mt = timed(lambda data=data: mozjpeg.optimize(data))
                rec["jpeg"][f"jpegli_q{q}+moz"] = {**r, "bytes": len(mdata), "time": t + mt}

    lap("jpeg_grid")
    # --- PNG lossless
    png = rec["png"]
    variants: dict[str, dict[str, Any]] = {
        "pil_l6": {"compress_level": 6},
        "pil_l9": {"compress_level": 9},
        "pil_opt": {"optimize": True},
        "pil_l1": {"compress_level": 1},
        "pil_l6_rle": {"compress_level": 6, "compress_type": zlib.Z_RLE},
        "pil_l9_rle": {"compress_level": 9, "compress_type": zlib.Z_RLE},
    }
    blobs: dict[str, bytes] = {}
    for name, kw in variants.items():
        data, t = timed(lambda kw=kw: pil_png(png_src, **kw))
        blobs[name] = data
        png[name] = {"bytes": len(data), "time": t}
    ref_px = np.asarray(png_src)
    png["lossless_ok"] = all(
        np.array_equal(np.asarray(decode(b, png_src.mode)), ref_px) for b in blobs.values()
    )
    png["rle_honoured"] = blobs["pil_l9_rle"] != blobs["pil_l9"]
    png["rle_l6_eq_l9"] = blobs["pil_l6_rle"] == blobs["pil_l9_rle"]
    if oxipng is not None:
        for level in (2, 4):
            data, t = timed(
                lambda level=level: oxipng.optimize_from_memory(blobs["pil_l6"], level=level)
            )
            png[f"oxipng{level}_from_l6"] = {
                "bytes": len(data), "time": png["pil_l6"]["time"] + t, "oxi_time": t,
            }
            blobs[f"oxipng{level}"] = data
        color = oxipng.ColorType.rgba() if png_src.mode == "RGBA" else oxipng.ColorType.rgb()

        def raw() -> bytes:
            img = oxipng.RawImage(
                png_src.tobytes(), png_src.width, png_src.height, color_type=color
            )
            return img.create_optimized_png(level=2)

        data, t = timed(raw)
        png["oxipng2_raw"] = {"bytes": len(data), "time": t}
        png["oxipng_lossless_ok"] = all(
            np.array_equal(np.asarray(decode(blobs[k], png_src.mode)), ref_px)
            for k in ("oxipng2", "oxipng4")
        )

    lap("png")
    # --- palette quantization (lossy PNG)
    for name, fn in quantizers().items():
        if name == "pil_mediancut" and png_src.mode == "RGBA":
            continue
        pimg, tq = timed(lambda fn=fn: fn(png_src))
        data, te = timed(lambda pimg=pimg: pil_png(pimg, compress_level=9))
        dec = decode(data, png_src.mode)
        r = {"bytes": len(data), "time": tq + te, "quant_time": tq, "ssim": pscore.ssim(dec)}
        if oxipng is not None:
            r["bytes_oxipng2"] = len(oxipng.optimize_from_memory(data, level=2))
        if with_s2:
            r["s2"] = pscore.s2(dec)
        rec["quant"][name] = r

    lap("quant")
    # --- JPEG quality search
    searches = {
        "pillow_420": JpegSearch(lambda q: pil_jpeg(jpg_src, q, 2), jscore),
        "pillow_444": JpegSearch(lambda q: pil_jpeg(jpg_src, q, 0), jscore),
    }
    if pyjpegli is not None:
        searches["jpegli"] = JpegSearch(lambda q: jpegli(jpg_src, q), jscore)
    # seed the memo with the grid (same pixels: optimize/progressive do not change them)
    for q in JPEG_QUALITIES:
        for sub in ("420", "444"):
            g = rec["jpeg"][f"pillow_{sub}_q{q}"]
            searches[f"pillow_{sub}"].memo[q] = (g["bytes"], g["ssim"])
        if "jpegli" in searches:
            g = rec["jpeg"][f"jpegli_q{q}"]
            searches["jpegli"].memo[q] = (g["bytes"], g["ssim"])

    baseline = io.BytesIO()
    jpg_src.save(baseline, "JPEG", quality=90, optimize=True)
    base_dec = decode(baseline.getvalue(), "RGB")
    base = {"bytes": len(baseline.getvalue())}
    base["ssim"] = (
        rec["jpeg"]["pillow_420_q90"]["ssim"]
        if np.array_equal(np.asarray(base_dec), jpeg_px[("420", 90)])
        else jscore.ssim(base_dec)
    )
    rec["baseline_q90"] = base

    targets = {f"{t:.2f}": t for t in SSIM_TARGETS}
    targets["iso_baseline"] = base["ssim"]
    for tname, t in targets.items():
        row: dict[str, Any] = {}
        for sname, se in searches.items():
            r = search_record(se, t)
            if r is not None and mozjpeg is not None:
                data = (
                    pil_jpeg(jpg_src, r["q"], 2 if sname == "pillow_420" else 0)
                    if sname.startswith("pillow")
                    else jpegli(jpg_src, r["q"])
                )
                r["bytes_moz"] = len(mozjpeg.optimize(data))
            row[sname] = r
        rec["search"][tname] = row
    rec["search_evals"] = {k: len(v.memo) for k, v in searches.items()}
    lap("search")
    return rec


# ----------------------------------------------------------------------------- metric cost


def metric_costs(path: Path) -> dict[str, float]:
    im = cover(load_source(path), 1024).convert("RGB")
    dist = decode(pil_jpeg(im, 80, 2), "RGB")
    a, b = np.asarray(im), np.asarray(dist)
    out: dict[str, float] = {}
    _, out["ssim_rgb_1024"] = timed(lambda: ssim(a, b))
    ya, yb = np.asarray(im.convert("L")), np.asarray(dist.convert("L"))
    _, out["ssim_luma_1024"] = timed(
        lambda: structural_similarity(ya, yb, data_range=255)
    )
    a3, b3 = np.asarray(im.resize((360, 360))), np.asarray(dist.resize((360, 360)))
    _, out["ssim_rgb_360"] = timed(lambda: ssim(a3, b3))
    if ssimulacra2 is not None:
        _, out["ssimulacra2_1024"] = timed(lambda: s2(a, b))
        _, out["ssimulacra2_360"] = timed(lambda: s2(a3, b3))
    return out


# ----------------------------------------------------------------------------- report


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "loadavg_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "Pillow": _version("pillow"),
        "libjpeg-turbo": str(features.version("libjpeg_turbo")),
        "zlib (Pillow)": str(features.version("zlib")),
        "Pillow libimagequant": str(features.check("libimagequant")),
    }
    for d in (
        "numpy", "scipy", "scikit-image", "mozjpeg-lossless-optimization", "pyoxipng",
        "pyjpegli", "imagequant", "ssimulacra2",
    ):
        info[d] = _version(d)
    return info


def med(xs: Iterable[float | None]) -> float | None:
    v = [x for x in xs if x is not None]
    return statistics.median(v) if v else None


def fmt(x: float | None, spec: str = ".3f") -> str:
    return "–" if x is None else format(x, spec)


GROUPS = [(c, s) for c in ("photo", "flat") for s in ("1024", "360")]


def group_rows(results: list[dict[str, Any]], cls: str, size: str) -> list[dict[str, Any]]:
    return [r["targets"][size] for r in results if r["class"] == cls]


def median_kb(results: list[dict[str, Any]], cls: str, size: str, section: str, opt: str) -> str:
    m = med(t[section][opt]["bytes"] for t in group_rows(results, cls, size))
    return fmt(None if m is None else m / 1000, ".0f")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def ratio_cell(recs: list[dict[str, Any]], section: str, opt: str, ref: str,
               key: str = "bytes") -> str:
    ratios, times = [], []
    for t in recs:
        o, rf = t[section].get(opt), t[section].get(ref)
        if o is None or rf is None or key not in o:
            continue
        ratios.append(o[key] / rf["bytes"])
        times.append(o.get("time"))
    if not ratios:
        return "–"
    return f"{med(ratios):.3f} / {1000 * (med(times) or 0):.0f} ms"


def report(results: list[dict[str, Any]], costs: dict[str, float], info: dict[str, str],
           wall: float, cpu: float, jobs: int) -> str:
    L: list[str] = ["# Encoder / optimizer evaluation (small corpus)", ""]
    L += [f"Generated by `python -m benchmarks.eval_optimizers` in {wall:.0f} s with "
          f"{jobs} worker process(es); {len(results)} images "
          f"({sum(r['class'] == 'photo' for r in results)} photo-like, "
          f"{sum(r['class'] == 'flat' for r in results)} flat; "
          f"{sum(r['alpha'] for r in results)} with alpha). Times are per encode on one core "
          "in process CPU seconds (median of 3, or 1 run above 0.1 s; RAYON_NUM_THREADS=1 for "
          "oxipng), so they hold up when other jobs share the machine. "
          f"Total CPU {cpu:.0f} s (about {cpu / max(jobs, 1):.0f} s wall on an idle "
          f"machine with {jobs} processes).", ""]
    L += ["## Machine", ""] + table(["item", "value"], [[k, v] for k, v in info.items()]) + [""]

    L += ["## Metric cost (one computation, 1024x1024 unless noted)", ""]
    L += table(["metric", "seconds"], [[k, f"{v:.3f}"] for k, v in costs.items()]) + [""]

    cols = [f"{c} {s}" for c, s in GROUPS]
    # --- JPEG grid
    L += ["## JPEG at fixed quality", "",
          "Cells: median bytes ratio vs Pillow 4:2:0 optimize+progressive at the same quality "
          "/ median encode time. `+moz` = mozjpeg-lossless-optimization on the output "
          "(time includes the first encode). Ratios at the same *quality number* are not at the "
          "same quality: see the SSIM table and the search section.", ""]
    rows = []
    for q in JPEG_QUALITIES:
        ref = f"pillow_420_q{q}"
        for opt in (ref, f"pillow_420_q{q}+moz", f"pillow_444_q{q}", f"pillow_444_q{q}+moz",
                    f"jpegli_q{q}", f"jpegli_q{q}+moz"):
            rows.append([opt] + [ratio_cell(group_rows(results, c, s), "jpeg", opt, ref)
                                 for c, s in GROUPS])
    L += table(["option"] + cols, rows) + [""]
    L += ["Median reference size (kB), Pillow 4:2:0 q85: " + ", ".join(
        f"{c} {s}: {median_kb(results, c, s, 'jpeg', 'pillow_420_q85')}" for c, s in GROUPS), ""]
    rows = []
    for q in JPEG_QUALITIES:
        for opt in (f"pillow_420_q{q}", f"pillow_444_q{q}", f"jpegli_q{q}"):
            cells = []
            for c, s in GROUPS:
                g = group_rows(results, c, s)
                ss = [t["jpeg"][opt]["ssim"] for t in g if opt in t["jpeg"]]
                s2s = [t["jpeg"][opt].get("s2") for t in g if opt in t["jpeg"]]
                cells.append(f"{fmt(med(ss), '.4f')} (min {fmt(min(ss) if ss else None, '.3f')})"
                             f" / {fmt(med(s2s), '.1f')}")
            rows.append([opt] + cells)
    L += ["SSIM median (min) / SSIMULACRA2 median:", ""] + table(["option"] + cols, rows) + [""]
    moz_same = all(v.get("same_pixels", True) for r in results for t in r["targets"].values()
                   for v in t["jpeg"].values())
    L += [f"mozjpeg-lossless-optimization decoded pixels identical to its input: {moz_same}", ""]

    # --- PNG lossless
    L += ["## PNG lossless", "",
          "Cells: median bytes ratio vs Pillow compress_level 6 / median time. oxipng rows from "
          "`_from_l6` re-optimise the level-6 bytes (time includes that encode); `oxipng2_raw` "
          "starts from raw pixels (`oxipng.RawImage`).", ""]
    opts = ["pil_l6", "pil_l1", "pil_l6_rle", "pil_l9_rle", "pil_l9", "pil_opt",
            "oxipng2_from_l6", "oxipng4_from_l6", "oxipng2_raw"]
    rows = [[o] + [ratio_cell(group_rows(results, c, s), "png", o, "pil_l6") for c, s in GROUPS]
            for o in opts]
    L += table(["option"] + cols, rows) + [""]
    L += ["Median level-6 size (kB): " + ", ".join(
        f"{c} {s}: {median_kb(results, c, s, 'png', 'pil_l6')}" for c, s in GROUPS), ""]
    pngs = [t["png"] for r in results for t in r["targets"].values()]
    L += [f"- Z_RLE honoured by Pillow {info['Pillow']} (level-9 bytes differ with/without "
          f"compress_type): {sum(p['rle_honoured'] for p in pngs)}/{len(pngs)} targets.",
          f"- Z_RLE output identical at level 6 and 9: {sum(p['rle_l6_eq_l9'] for p in pngs)}"
          f"/{len(pngs)} targets.",
          "- Every Pillow PNG decodes to the source pixels: "
          f"{all(p['lossless_ok'] for p in pngs)}; "
          f"oxipng: {all(p.get('oxipng_lossless_ok', True) for p in pngs)}.", ""]
    totals = defaultdict(float)
    for p in pngs:
        for k in opts:
            if k in p:
                totals[k] += p[k]["bytes"]
    L += ["Total bytes over all targets vs level 6: " + ", ".join(
        f"{k} {totals[k] / totals['pil_l6']:.3f}" for k in opts if k in totals), ""]

    # --- quantization
    L += ["## Palette quantization (256 colours, PNG)", "",
          "Cells: bytes ratio vs lossless Pillow level 6 (quantized image saved at level 9; "
          "in brackets after oxipng -o2) / time (quantize + save) / SSIM median (min) / "
          "SSIMULACRA2 median.", ""]
    rows = []
    for name in quantizers():
        cells = []
        for c, s in GROUPS:
            g = [t for t in group_rows(results, c, s) if name in t["quant"]]
            if not g:
                cells.append("–")
                continue
            rat = med(t["quant"][name]["bytes"] / t["png"]["pil_l6"]["bytes"] for t in g)
            rat2 = med(t["quant"][name].get("bytes_oxipng2", np.nan) / t["png"]["pil_l6"]["bytes"]
                       for t in g)
            tm = med(t["quant"][name]["time"] for t in g)
            ss = [t["quant"][name]["ssim"] for t in g]
            s2s = med(t["quant"][name].get("s2") for t in g)
            cells.append(f"{rat:.3f} ({rat2:.3f}) / {1000 * tm:.0f} ms / {med(ss):.4f} "
                         f"({min(ss):.3f}) / {fmt(s2s, '.1f')}")
        rows.append([name] + cells)
    L += table(["quantizer"] + cols, rows) + [""]
    L += ["`pil_mediancut` cannot quantize RGBA, so its cells cover opaque images only.", ""]

    # --- SSIM vs SSIMULACRA2
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in results:
        for t in r["targets"].values():
            for sec in ("jpeg", "quant"):
                for v in t[sec].values():
                    if isinstance(v, dict) and v.get("s2") is not None:
                        pairs[r["class"]].append((v["ssim"], v["s2"]))
    if pairs:
        L += ["## SSIM vs SSIMULACRA2 on the same results (360 px, JPEG and palette PNG)", "",
              "Cells: SSIMULACRA2 median [10th percentile] (n) for results in each SSIM band. "
              "Rough SSIMULACRA2 reading: 90 visually lossless, 80 high, 70 medium.", ""]
        bands = [(0.0, 0.93), (0.93, 0.95), (0.95, 0.96), (0.96, 0.97), (0.97, 0.98),
                 (0.98, 0.99), (0.99, 1.01)]
        rows = []
        for lo, hi in bands:
            cells = [f"[{lo:.2f}, {min(hi, 1.0):.2f})" if hi <= 1 else f">= {lo:.2f}"]
            for cls in ("photo", "flat"):
                v = sorted(b for a, b in pairs[cls] if lo <= a < hi)
                cells.append(f"{statistics.median(v):.1f} [{v[len(v) // 10]:.1f}] ({len(v)})"
                             if v else "–")
            rows.append(cells)
        L += table(["SSIM band", "photo", "flat"], rows) + [""]

    # --- search
    L += ["## JPEG quality search (bisection over Pillow quality 40..100)", "",
          "Per image: smallest quality with SSIM >= target. `best` = smaller of 4:2:0 and 4:4:4 "
          "per image. Bytes ratios are vs the same image's 4:2:0 search result; `moz` applies "
          "mozjpeg-lossless-optimization to the chosen file.", ""]
    for tname in [f"{t:.2f}" for t in SSIM_TARGETS]:
        rows = []
        for c, s in GROUPS:
            g = group_rows(results, c, s)
            n = len(g)
            r420 = [t["search"][tname]["pillow_420"] for t in g]
            r444 = [t["search"][tname]["pillow_444"] for t in g]
            rjl = [t["search"][tname].get("jpegli") for t in g]
            miss420 = sum(r is None for r in r420)
            both = [(a, b) for a, b in zip(r420, r444, strict=True) if a and b]
            best = [min((x["bytes"] for x in (a, b) if x), default=None)
                    for a, b in zip(r420, r444, strict=True)]
            base_meets = sum(t["baseline_q90"]["ssim"] >= float(tname) for t in g)
            pairs_jl = [(a, j) for a, j in zip(r420, rjl, strict=True) if a and j]
            rows.append([
                f"{c} {s}",
                f"{fmt(med(r['q'] for r in r420 if r), '.0f')} "
                f"[{min((r['q'] for r in r420 if r), default=0)}–"
                f"{max((r['q'] for r in r420 if r), default=0)}]",
                f"{fmt(med(r['q'] for r in r444 if r), '.0f')}",
                f"{fmt(med(r['bytes'] for r in r420 if r), ',.0f')} (n={n - miss420})",
                f"{fmt(med(b for b in best if b), ',.0f')}",
                f"{fmt(med(b['bytes'] / a['bytes'] for a, b in both))}",
                f"{fmt(med(r['bytes_moz'] / r['bytes'] for r in r420 if r and 'bytes_moz' in r))}",
                fmt(med(j["bytes"] / a["bytes"] for a, j in pairs_jl)),
                fmt(med(j["bytes_moz"] / a["bytes"] for a, j in pairs_jl if "bytes_moz" in j)),
                f"{miss420}/{n}, {sum(r is None for r in r444)}/{n}, "
                f"{sum(r is None for r in rjl)}/{n}",
                f"{base_meets}/{n}",
            ])
        L += [f"### SSIM >= {tname}", ""]
        L += table(["group", "q 4:2:0 med [range]", "q 4:4:4 med", "bytes 4:2:0 med (reached)",
                    "bytes best med (all)", "4:4:4 / 4:2:0", "4:2:0+moz / 4:2:0", "jpegli / 4:2:0",
                    "jpegli+moz / 4:2:0", "unreached (420, 444, jpegli)", "q90 baseline meets"],
                   rows) + [""]

    L += ["### Searched result vs baseline Pillow q90 optimize=True, at equal-or-better SSIM", "",
          "Per image the search target is the baseline's own SSIM; cells are the median bytes "
          "ratio searched/baseline (lower is better).", ""]
    rows = []
    for c, s in GROUPS:
        g = group_rows(results, c, s)
        cells = [f"{c} {s}", fmt(med(t['baseline_q90']['ssim'] for t in g), '.4f')]
        for key in ("pillow_420", "best", "best+moz", "jpegli", "jpegli+moz", "overall"):
            vals = []
            for t in g:
                row, b = t["search"]["iso_baseline"], t["baseline_q90"]["bytes"]
                cands = {
                    "pillow_420": [row["pillow_420"] and row["pillow_420"]["bytes"]],
                    "best": [row[k] and row[k]["bytes"] for k in ("pillow_420", "pillow_444")],
                    "best+moz": [row[k] and row[k].get("bytes_moz")
                                 for k in ("pillow_420", "pillow_444")],
                    "jpegli": [row.get("jpegli") and row["jpegli"]["bytes"]],
                    "jpegli+moz": [row.get("jpegli") and row["jpegli"].get("bytes_moz")],
                    "overall": [row[k] and row[k].get("bytes_moz")
                                for k in ("pillow_420", "pillow_444", "jpegli") if k in row],
                }[key]
                cands = [x for x in cands if x]
                if cands:
                    vals.append(min(cands) / b)
            cells.append(fmt(med(vals)))
        rows.append(cells)
    L += table(["group", "baseline SSIM med", "4:2:0 search", "best of 420/444",
                "best + moz", "jpegli search", "jpegli + moz", "best of all + moz"], rows) + [""]
    evals = med(sum(t["search_evals"].values()) for r in results for t in r["targets"].values())
    L += [f"Median encodes+SSIM per target for all searches together (memoised): {evals}", ""]
    return "\n".join(L)


def summary(results: list[dict[str, Any]]) -> str:
    """A few lines for the terminal."""
    lines = []
    for c, s in GROUPS:
        g = group_rows(results, c, s)
        l6 = [t["png"]["pil_l6"]["bytes"] for t in g]

        def r(key: str, g: list[dict[str, Any]] = g, l6: list[int] = l6) -> str:
            return fmt(med(t["png"][key]["bytes"] / b for t, b in zip(g, l6, strict=True)
                           if key in t["png"]))

        iq = [t["quant"]["imagequant"]["ssim"] for t in g if "imagequant" in t["quant"]]
        q97 = [t["search"]["0.97"]["pillow_420"]["q"] for t in g
               if t["search"]["0.97"]["pillow_420"]]
        lines.append(
            f"{c:5} {s:>4}: png l9_rle {r('pil_l9_rle')} opt {r('pil_opt')} "
            f"oxi2 {r('oxipng2_from_l6')} | imagequant SSIM med {fmt(med(iq), '.4f')} | "
            f"q@0.97 (4:2:0) {fmt(med(q97), '.0f')}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--limit", type=int, default=0, help="evaluate only N images (spread)")
    parser.add_argument("--s2", choices=("all", "360", "none"), default="360",
                        help="sizes that get SSIMULACRA2 on every lossy result (slow at 1024)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "optimizers.md")
    parser.add_argument("--report-only", action="store_true",
                        help="re-render the markdown from the .json next to --out")
    args = parser.parse_args(argv)
    if args.report_only:
        d = json.loads(args.out.with_suffix(".json").read_text())
        md = report(d["results"], d["metric_costs"], d["info"], d["wall_s"], d["cpu_s"],
                    d["jobs"])
        args.out.write_text(md + "\n")
        print(summary(d["results"]))
        return 0

    t0 = time.perf_counter()
    info = machine_info()
    paths = ensure_corpus("small", jobs=args.jobs)
    if args.limit:
        step = max(1, len(paths) // args.limit)
        paths = paths[::step][: args.limit]
    s2_sizes = {"all": (1024, 360), "360": (360,), "none": ()}[args.s2]
    if ssimulacra2 is None:
        s2_sizes = ()
    costs = metric_costs(paths[0])
    # biggest work first so the pool stays balanced
    order = sorted(paths, key=lambda p: (not p.name.startswith("photo"), p.name))
    results: list[dict[str, Any]] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futs = [pool.submit(evaluate_image, p, s2_sizes) for p in order]
            for f in futs:
                results.append(f.result())
                print(f"  done {results[-1]['name']}", flush=True)
    else:
        for p in order:
            results.append(evaluate_image(p, s2_sizes))
            print(f"  done {results[-1]['name']}", flush=True)
    results.sort(key=lambda r: r["name"])
    wall = time.perf_counter() - t0

    args.out.parent.mkdir(parents=True, exist_ok=True)
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    # the raw records first, so a report bug never costs the run (see --report-only)
    args.out.with_suffix(".json").write_text(
        json.dumps({"info": info, "metric_costs": costs, "wall_s": wall, "cpu_s": cpu,
                    "jobs": args.jobs, "results": results}, indent=1,
                   default=lambda o: o.item() if hasattr(o, "item") else str(o))
    )
    md = report(results, costs, info, wall, cpu, args.jobs)
    args.out.write_text(md + "\n")
    print(summary(results))
    print("metric cost (s): " + ", ".join(f"{k} {v:.3f}" for k, v in costs.items()))
    print(f"wrote {args.out} ({wall:.0f} s wall, {cpu:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

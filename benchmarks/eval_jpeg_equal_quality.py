"""JPEG and PNG encoders against the plain-Pillow baseline at an equal or better score, per image.

    .venv/bin/python -m benchmarks.eval_jpeg_equal_quality             # ~20-30 min on 2 shared cores
    .venv/bin/python -m benchmarks.eval_jpeg_equal_quality --limit 4 --sizes 360   # smoke run

The question (the "balanced vs plain Pillow" issue): can a different encoder reach a median
per-image bytes ratio <= 0.75 of the baseline (JPEG q90 optimize 4:2:0; PNG optimize where the
render has alpha) at a score >= the baseline's on *each* image?

1. Equal score. For every render of the `small` corpus (1024 and 360 px, rendered exactly as
   `asset-pipeline bench` does) and every candidate, the quality (1-100) giving the smallest
   file whose score is >= the baseline's score on that image: the highest passing quality on a
   coarse grid from 100 down, bisection below it, then the neighbours around its answer
   (scores wobble a little with quality, bytes too). JPEG candidates encode the render
   flattened onto white, as the baseline's score does. Alpha renders have a lossless
   PNG baseline (score 1.0), so only lossless outputs can match them there.
2. Best-of per image over every candidate, including lossless PNG (Pillow optimize, oxipng),
   an exact palette PNG (<= 256 colours) and Pillow's 256-colour quantized palette (scored).
3. As shipped: a fixed target per image for a few encoder combinations, the PNG rules of
   `balanced` (lossless PNG where alpha matters, palettes for flat art only when they meet the
   target); median bytes ratio and mean/min score against the baseline per target.
4. Encode time: CPU seconds of one final encode at the chosen quality (median of --repeats).
5. A second opinion on the equal-SSIM JPEGs: their SSIMULACRA2 against the baseline's (when the
   `ssimulacra2` package is installed; pure Python, ~3 min for the corpus).

Research-only candidates `jpegli-c-*` call the jpegli C API that pyjpegli's extension module
exports (pyjpegli itself only takes a quality, and always writes 4:2:0 baseline): a 60-line C
shim compiled here with the system compiler and libjpeg62-turbo's jpeglib.h (jpegli is ABI-
compatible with libjpeg 6.2). They show what jpegli's other settings would buy; they are skipped
when no compiler or header is found, or with --no-shim. Not something to ship as is.

Writes benchmarks/results/eval_jpeg_equal_quality.{json,md}. Times are CPU seconds of this one
process; libvips and oxipng are held to one thread so every encoder is timed alike.
"""

from __future__ import annotations

import os

# one thread each, before the libraries load: CPU time then compares encoders, not thread counts
os.environ.setdefault("VIPS_CONCURRENCY", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import argparse
import ctypes
import hashlib
import importlib.util
import io
import json
import math
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, features

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from asset_pipeline import quality as q
from asset_pipeline.bench import baseline_encode
from asset_pipeline.encode.art import is_flat_art
from asset_pipeline.encode.png import exact_palette, quantize
from asset_pipeline.load import load_image
from asset_pipeline.records import RenderSpec, SourceFile
from asset_pipeline.render import render
from benchmarks._util import RESULTS
from benchmarks.corpus import ensure_corpus

WHITE = (255, 255, 255)
NAME = "eval_jpeg_equal_quality"
TARGETS = (0.965, 0.97, 0.9725, 0.975, 0.9775, 0.98, 0.9825, 0.985, 0.99)
ISSUE_RATIO = 0.75

# --------------------------------------------------------------------------------------------
# Quantization tables for SSIM (used by the `*-ssimtables` candidates)
#
# The Annex K tables follow the eye's contrast sensitivity: coarse steps at high frequencies.
# SSIM weighs error variance at every frequency alike (relative to local variance), so for it a
# flatter table spends bits better. These are the Annex K tables flattened towards their
# geometric mean, t' = g * (t / g) ** gamma, luma with gamma 0.25, chroma with gamma 0.5 and
# halved (chroma carries 2/8 of the score and is compared at half resolution). The three numbers
# were picked from a small grid (gamma 0-1, chroma x0.35-2) on the 360 px renders of this corpus,
# so the 360 results below are in-sample; 1024 is a different render of the same sources.
# Libjpeg scales them with quality like the standard ones (Pillow passes quality through).
# --------------------------------------------------------------------------------------------

ANNEX_K_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
ANNEX_K_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                  24, 26, 56, 99, 99, 99, 99, 99, 47, 66) + (99,) * 38  # fmt: skip
SSIM_TABLE_PARAMS = {"luma_gamma": 0.25, "chroma_gamma": 0.5, "chroma_scale": 0.5}


def flattened_table(table: Iterable[int], gamma: float, scale: float = 1.0) -> list[int]:
    t = np.asarray(list(table), dtype=np.float64)
    g = math.exp(float(np.log(t).mean()))
    return [int(v) for v in np.clip(np.rint(g * (t / g) ** gamma * scale), 1, 255)]


SSIM_TABLES = [
    flattened_table(ANNEX_K_LUMA, SSIM_TABLE_PARAMS["luma_gamma"]),
    flattened_table(ANNEX_K_CHROMA, SSIM_TABLE_PARAMS["chroma_gamma"], SSIM_TABLE_PARAMS["chroma_scale"]),
]

# --------------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------------

EncodeFn = Callable[[Image.Image, int], bytes]  # (image, quality) -> bytes; PNGs ignore quality


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    format: str  # JPEG | PNG
    encode: EncodeFn
    searched: bool  # quality searched (JPEG, lossy) or a single encode (PNG)
    about: str
    flat_only: bool = False  # the as-shipped rules try it only on flat art (palettes)


def _pillow_jpeg(image: Image.Image, quality: int, *, subsampling: int, progressive: bool = True,
                 optimize: bool = True, qtables: list[list[int]] | None = None) -> bytes:
    buf = io.BytesIO()
    kw: dict[str, Any] = {"qtables": qtables} if qtables else {}
    image.save(buf, "JPEG", quality=quality, subsampling=subsampling, progressive=progressive, optimize=optimize, **kw)
    return buf.getvalue()


def _png(image: Image.Image, **kw: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kw)
    return buf.getvalue()


def _oxipng(image: Image.Image, *, optimize_alpha: bool = False) -> bytes:
    import oxipng

    # oxipng redoes filters and deflate itself: hand it the cheapest valid PNG
    return bytes(oxipng.optimize_from_memory(_png(image, compress_level=0), level=2, optimize_alpha=optimize_alpha))


def _exact_palette_png(image: Image.Image, _q: int) -> bytes:
    pal = exact_palette(image)
    if pal is None:
        return b""  # not applicable: more than 256 colours
    return min(_png(pal, optimize=True), _oxipng(pal), key=len)


def _quantized_png(image: Image.Image, _q: int) -> bytes:
    pal = quantize(image, quantizer="pillow")
    return min(_png(pal, optimize=True), _oxipng(pal), key=len)


def _vips_mozjpeg(image: Image.Image, quality: int) -> bytes:
    import pyvips  # type: ignore[import-untyped, unused-ignore]

    v = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, 3, "uchar")
    # mozjpeg's flat table (index 1) with trellis: the best of its presets under SSIM in a pre-run
    # (tables 0, 2, 3, 4, 5 were 2-15 % larger); optimize_scans is mozjpeg's scan search
    return bytes(v.jpegsave_buffer(Q=quality, optimize_coding=True, interlace=True, trellis_quant=True, optimize_scans=True,
                                   quant_table=1, overshoot_deringing=False, subsample_mode="on", keep=0))


def core_candidates() -> list[Candidate]:
    import mozjpeg_lossless_optimization as moz  # type: ignore[import-untyped, unused-ignore]
    import pyjpegli  # type: ignore[import-not-found, unused-ignore]

    def jpegli(im: Image.Image, x: int) -> bytes:
        return bytes(pyjpegli.encode(im.tobytes(), im.width, im.height, quality=x))

    out = [
        Candidate("turbo-420-prog", "JPEG", lambda im, x: _pillow_jpeg(im, x, subsampling=2), True,
                  "(a) Pillow libjpeg-turbo 4:2:0, progressive, optimized Huffman"),
        Candidate("turbo-444-prog", "JPEG", lambda im, x: _pillow_jpeg(im, x, subsampling=0), True,
                  "(b) the same at 4:4:4"),
        Candidate("jpegli", "JPEG", jpegli, True, "(c) pyjpegli (jpegli defaults: 4:2:0 baseline, adaptive quantization)"),
        Candidate("jpegli+moz", "JPEG", lambda im, x: bytes(moz.optimize(jpegli(im, x))), True,
                  "(d) pyjpegli, then mozjpeg-lossless-optimization (progressive scans, optimized Huffman)"),
        Candidate("turbo-420+moz", "JPEG",
                  lambda im, x: bytes(moz.optimize(_pillow_jpeg(im, x, subsampling=2, progressive=False, optimize=False))), True,
                  "(e) Pillow libjpeg-turbo 4:2:0 baseline, then mozjpeg-lossless-optimization"),
        Candidate("turbo-420-ssimtables", "JPEG", lambda im, x: _pillow_jpeg(im, x, subsampling=2, qtables=SSIM_TABLES), True,
                  "Pillow libjpeg-turbo 4:2:0 progressive with quantization tables flattened for SSIM (qtables=)"),
        Candidate("turbo-420-ssimtables+moz", "JPEG",
                  lambda im, x: bytes(moz.optimize(_pillow_jpeg(im, x, subsampling=2, progressive=False, optimize=False,
                                                                qtables=SSIM_TABLES))), True,
                  "the same, entropy-coded by mozjpeg-lossless-optimization"),
    ]
    if _vips_has_mozjpeg():
        out.append(Candidate("mozjpeg-vips-flat-trellis", "JPEG", _vips_mozjpeg, True,
                             "mozjpeg (inside pyvips-binary's libvips) 4:2:0, flat table, trellis, scan optimization"))
    out += [
        Candidate("png-pillow-optimize", "PNG", lambda im, _x: _png(im, optimize=True), False,
                  "lossless PNG, Pillow optimize=True (the baseline's PNG)"),
        Candidate("png-oxipng2", "PNG", lambda im, _x: _oxipng(im), False, "lossless PNG, oxipng level 2"),
        Candidate("png-oxipng2-alpha", "PNG", lambda im, _x: _oxipng(im, optimize_alpha=True), False,
                  "lossless PNG, oxipng level 2 with optimize_alpha (RGB under alpha 0 rewritten: same look)"),
        Candidate("png-exact-palette", "PNG", _exact_palette_png, False, "palette PNG of an image with <= 256 colours (lossless)"),
        Candidate("png-quantized-256", "PNG", _quantized_png, False,
                  "Pillow quantize to 256 colours (median cut, fast octree for RGBA), Floyd-Steinberg", flat_only=True),
    ]
    return out


def _vips_has_mozjpeg() -> bool:
    try:
        import pyvips  # type: ignore[import-untyped, unused-ignore]

        noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
        probe = pyvips.Image.new_from_memory(noise.tobytes(), 32, 32, 3, "uchar")
        # libjpeg-turbo ignores trellis (with a warning); mozjpeg's output differs
        return bool(probe.jpegsave_buffer(Q=50, trellis_quant=True) != probe.jpegsave_buffer(Q=50))
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


# --------------------------------------------------------------------------------------------
# Research-only: the jpegli C API via pyjpegli's extension module
# --------------------------------------------------------------------------------------------

SHIM_C = r"""
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

extern struct jpeg_error_mgr *jpegli_std_error(struct jpeg_error_mgr *);
extern void jpegli_CreateCompress(j_compress_ptr, int, size_t);
extern void jpegli_mem_dest(j_compress_ptr, unsigned char **, unsigned long *);
extern void jpegli_set_defaults(j_compress_ptr);
extern void jpegli_set_quality(j_compress_ptr, int, boolean);
extern void jpegli_add_quant_table(j_compress_ptr, int, const unsigned int *, int, boolean);
extern void jpegli_set_progressive_level(j_compress_ptr, int);
extern void jpegli_enable_adaptive_quantization(j_compress_ptr, boolean);
extern void jpegli_start_compress(j_compress_ptr, boolean);
extern JDIMENSION jpegli_write_scanlines(j_compress_ptr, JSAMPARRAY, JDIMENSION);
extern void jpegli_finish_compress(j_compress_ptr);
extern void jpegli_destroy_compress(j_compress_ptr);

/* factor 2: 4:2:0, 1: 4:4:4. tables: 128 entries (luma, chroma) scaled by quality, or NULL. */
void shim_encode(const unsigned char *rgb, int w, int h, int quality, int factor, int adaptive,
                 const unsigned int *tables, unsigned char **out, unsigned long *out_size) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  memset(&c, 0, sizeof c);
  c.err = jpegli_std_error(&err);
  jpegli_CreateCompress(&c, JPEG_LIB_VERSION, sizeof c); /* checks the struct size: an ABI guard */
  *out = NULL; *out_size = 0;
  jpegli_mem_dest(&c, out, out_size);
  c.image_width = w; c.image_height = h; c.input_components = 3; c.in_color_space = JCS_RGB;
  jpegli_set_defaults(&c);
  jpegli_set_quality(&c, quality, TRUE);
  if (tables) {
    int scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    jpegli_add_quant_table(&c, 0, tables, scale, TRUE);
    jpegli_add_quant_table(&c, 1, tables + 64, scale, TRUE);
    c.comp_info[0].quant_tbl_no = 0; c.comp_info[1].quant_tbl_no = 1; c.comp_info[2].quant_tbl_no = 1;
  }
  c.comp_info[0].h_samp_factor = factor; c.comp_info[0].v_samp_factor = factor;
  for (int i = 1; i < 3; i++) { c.comp_info[i].h_samp_factor = 1; c.comp_info[i].v_samp_factor = 1; }
  jpegli_set_progressive_level(&c, 2);
  jpegli_enable_adaptive_quantization(&c, adaptive);
  c.optimize_coding = TRUE;
  jpegli_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)c.next_scanline * w * 3);
    jpegli_write_scanlines(&c, &row, 1);
  }
  jpegli_finish_compress(&c);
  jpegli_destroy_compress(&c);
}
void shim_free(unsigned char *p) { free(p); }
"""


def _build_shim(workdir: Path) -> Path | None:
    """Compile the shim against pyjpegli's module; None (with a reason on stderr) if it cannot."""
    try:
        import pyjpegli  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not Path("/usr/include/jpeglib.h").exists():
        print("jpegli shim skipped: needs a C compiler and jpeglib.h (libjpeg62-turbo-dev)", file=sys.stderr)
        return None
    src, lib = workdir / "shim.c", workdir / "libjpeglishim.so"
    src.write_text(SHIM_C)
    mod = Path(pyjpegli.__file__ or "").resolve()
    proc = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(lib), str(src), str(mod)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"jpegli shim skipped: compile failed: {proc.stderr.strip()[:300]}", file=sys.stderr)
        return None
    # a wrong struct layout makes jpegli exit(): try it in a child process first
    smoke = (f"import ctypes, pyjpegli; lib = ctypes.CDLL({str(lib)!r}); o = ctypes.c_void_p(); n = ctypes.c_ulong(); "
             "lib.shim_encode(bytes(16 * 16 * 3), 16, 16, 90, 2, 1, None, ctypes.byref(o), ctypes.byref(n)); "
             "assert n.value > 100")
    if subprocess.run([sys.executable, "-c", smoke], capture_output=True).returncode != 0:
        print("jpegli shim skipped: smoke test failed", file=sys.stderr)
        return None
    return lib


def shim_candidates(lib_path: Path) -> list[Candidate]:
    import pyjpegli  # type: ignore[import-not-found, unused-ignore]  # noqa: F401 - loads the module whose symbols the shim uses

    lib = ctypes.CDLL(str(lib_path))
    lib.shim_encode.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_ulong)]
    lib.shim_free.argtypes = [ctypes.c_void_p]
    ssim_tables = (ctypes.c_uint * 128)(*SSIM_TABLES[0], *SSIM_TABLES[1])

    def enc(factor: int, adaptive: bool, tables: Any) -> EncodeFn:
        def fn(im: Image.Image, x: int) -> bytes:
            out, size = ctypes.c_void_p(), ctypes.c_ulong()
            lib.shim_encode(im.tobytes(), im.width, im.height, x, factor, int(adaptive),
                            ctypes.cast(tables, ctypes.c_void_p) if tables is not None else None, ctypes.byref(out), ctypes.byref(size))
            try:
                return ctypes.string_at(out, size.value)
            finally:
                lib.shim_free(out)
        return fn

    return [
        Candidate("jpegli-c-444", "JPEG", enc(1, True, None), True,
                  "research: jpegli C API, 4:4:4 (cjpegli's default), adaptive quantization, progressive level 2"),
        Candidate("jpegli-c-420-noaq", "JPEG", enc(2, False, None), True,
                  "research: jpegli C API, 4:2:0, adaptive quantization off, progressive level 2"),
        Candidate("jpegli-c-420-ssimtables", "JPEG", enc(2, True, ssim_tables), True,
                  "research: jpegli C API, 4:2:0, the SSIM tables above, adaptive quantization, progressive level 2"),
        Candidate("jpegli-c-420-noaq-ssimtables", "JPEG", enc(2, False, ssim_tables), True,
                  "research: jpegli C API, 4:2:0, the SSIM tables above, adaptive quantization off, progressive level 2"),
    ]


# --------------------------------------------------------------------------------------------
# Renders, probes, search
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Render:
    name: str
    image: Image.Image  # as rendered: RGBA where alpha matters
    alpha: bool
    flat_art: bool
    flat: Image.Image = field(repr=False)  # onto white: what JPEGs encode and every score sees
    ref: q.Reference = field(repr=False)

    @property
    def kind(self) -> str:
        return "photo" if self.name.startswith("photo_") else "flat"


def renders(paths: list[Path], side: int) -> list[Render]:
    """The same calls as `asset-pipeline bench` (and benchmarks/bench_presets.py) make."""
    spec = RenderSpec(role="icon", width=side, height=side, fit="cover", background=WHITE, formats=("JPEG", "PNG"), max_bytes=5_000_000)
    out = []
    for p in paths:
        src = SourceFile(path=p, rel=p.name, sha256=hashlib.sha256(p.read_bytes()).hexdigest(), size=p.stat().st_size)
        r = render(load_image(src, shrink_to=("short", 2 * side)), spec)
        flat = q.flatten(r.image, WHITE)
        out.append(Render(p.name, r.image, r.has_alpha, is_flat_art(r.image), flat, q.reference(flat)))
    return out


@dataclass(frozen=True, slots=True)
class Probe:
    bytes: int
    score: float
    seconds: float  # CPU seconds of the encode alone


class Prober:
    """Encodes and scores one (render, candidate) pair once per quality, whatever asks."""

    def __init__(self, render_: Render, cand: Candidate) -> None:
        self.r, self.c = render_, cand
        self.cache: dict[int, Probe] = {}
        self.search_seconds = 0.0  # encode + decode + score, over every probe made

    def __call__(self, quality: int) -> Probe:
        if quality not in self.cache:
            t0 = time.process_time()
            src = self.r.flat if self.c.format == "JPEG" else self.r.image
            data = self.c.encode(src, quality)
            t1 = time.process_time()
            score = q.score_bytes(self.r.ref, data, WHITE) if data else -1.0
            self.search_seconds += time.process_time() - t0
            self.cache[quality] = Probe(len(data), score, t1 - t0)
        return self.cache[quality]


def smallest_meeting(probe: Prober, target: float, *, lo: int = 1, hi: int = 100, neighbours: int = 3) -> int | None:
    """Quality of the smallest file scoring >= target, or None when no quality on the grid reaches it."""
    if not probe.c.searched:
        return 0 if probe(0).bytes and probe(0).score >= target else None
    # 4:2:0 scores can peak below q100 (a smooth sky: q97 0.9943, q100 0.9938), so the upper
    # bound is the highest passing quality of a coarse grid; below 70 scores only fall
    top = next((x for x in range(hi, max(lo, 70) - 1, -3) if probe(x).score >= target), None)
    if top is None:
        return None
    a, b = lo, top
    while a < b:  # smallest passing quality, were the score monotone
        m = (a + b) // 2
        if probe(m).score >= target:
            b = m
        else:
            a = m + 1
    for x in range(max(lo, b - neighbours), min(hi, b + 2) + 1):
        probe(x)
    ok = [(p.bytes, x) for x, p in probe.cache.items() if p.score >= target]
    return min(ok)[1]


def cpu_median(fn: Callable[[], bytes], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
        if times[-1] > 0.5:  # slow encoders (oxipng): one run is steady enough
            break
    return statistics.median(times)


# --------------------------------------------------------------------------------------------
# The evaluation
# --------------------------------------------------------------------------------------------


def _med(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def baseline(r: Render) -> dict[str, Any]:
    t0 = time.process_time()
    fmt, data, _ = baseline_encode(r.image, has_alpha=r.alpha)
    seconds = time.process_time() - t0
    score = 1.0 if fmt == "PNG" else q.score_bytes(r.ref, data, WHITE)  # as asset_pipeline.bench scores it
    return {"format": fmt, "bytes": len(data), "score": score, "seconds": seconds}


def evaluate_size(rs: list[Render], cands: list[Candidate], targets: tuple[float, ...], repeats: int) -> dict[str, Any]:
    images: list[dict[str, Any]] = []
    for i, r in enumerate(rs):
        t_img = time.perf_counter()
        base = baseline(r)
        probers = {c.name: Prober(r, c) for c in cands}
        results: dict[str, Any] = {}
        for c in cands:
            p = probers[c.name]
            x = smallest_meeting(p, base["score"])
            if x is None:
                results[c.name] = {"met": False, "probes": len(p.cache), "search_seconds": round(p.search_seconds, 4)}
                continue
            src = r.flat if c.format == "JPEG" else r.image
            results[c.name] = {
                "met": True, "quality": x if c.searched else None, "bytes": p(x).bytes, "score": p(x).score,
                "ratio": round(p(x).bytes / base["bytes"], 4), "probes": len(p.cache),
                "search_seconds": round(p.search_seconds, 4),
                "encode_seconds": round(cpu_median(lambda c=c, src=src, x=x: c.encode(src, x), repeats), 5),  # type: ignore[misc]
            }
        met = {k: v for k, v in results.items() if v["met"]}
        best = min(met, key=lambda k: met[k]["bytes"])
        images.append({
            "image": r.name, "kind": r.kind, "alpha": r.alpha, "flat_art": r.flat_art, "baseline": base, "candidates": results,
            "best_of": {"candidate": best, "bytes": met[best]["bytes"], "score": met[best]["score"], "ratio": met[best]["ratio"]},
            "as_shipped": as_shipped(r, probers, cands, targets),
        })
        print(f"  [{i + 1}/{len(rs)}] {r.name}: best {best} {met[best]['ratio']:.3f} ({time.perf_counter() - t_img:.0f} s)",
              file=sys.stderr, flush=True)
    return {"images": images, "summary": summarize(images, {c.name: c.format for c in cands}),
            "shipped": summarize_shipped(images, targets)}


# Encoder combinations for the as-shipped sweep: JPEG encoder(s) + balanced's PNG rules.
COMBOS = {
    "turbo 4:2:0/4:4:4 (balanced's JPEG encoder)": ["turbo-420-prog", "turbo-444-prog"],
    "turbo + SSIM tables (Pillow only)": ["turbo-420-ssimtables"],
    "jpegli+moz": ["jpegli+moz"],
    "mozjpeg via pyvips": ["mozjpeg-vips-flat-trellis"],
    "best JPEG per image (all candidates)": None,  # every JPEG candidate that ran
}


def _label(combo: str) -> str:
    """Column names as the report shows them (the keys stay those of results written earlier)."""
    return combo.replace("(balanced's JPEG encoder)", "(balanced's JPEG encoder until jpegli)")


def as_shipped(r: Render, probers: dict[str, Prober], cands: list[Candidate], targets: tuple[float, ...]) -> dict[str, Any]:
    """Per target and combination: what a fixed-target encoder would write for this render."""
    jpeg_all = [c.name for c in cands if c.format == "JPEG"]
    out: dict[str, Any] = {}
    for target in targets:
        row: dict[str, Any] = {}
        for combo, names in COMBOS.items():
            pool: list[str] = []
            if r.alpha:  # balanced: lossless PNG where alpha matters; palettes for flat art
                pool += ["png-oxipng2", "png-exact-palette"] + (["png-quantized-256"] if r.flat_art else [])
            else:
                pool += [n for n in (names or jpeg_all) if n in probers]
                pool += ["png-exact-palette", "png-quantized-256"] if r.flat_art else []
            picks = []
            for n in pool:
                x = smallest_meeting(probers[n], target)
                if x is not None:
                    picks.append((probers[n](x).bytes, n, x))
            if not picks:  # nothing meets the target: write the best-scoring JPEG probed
                n = (names or jpeg_all)[0]
                x = max(probers[n].cache, key=lambda k: probers[n].cache[k].score)
                picks.append((probers[n](x).bytes, n, x))
            nbytes, n, x = min(picks)
            row[combo] = {"candidate": n, "quality": x or None, "bytes": nbytes, "score": probers[n](x).score}
        out[f"{target:g}"] = row
    return out


def summarize(images: list[dict[str, Any]], formats: dict[str, str]) -> dict[str, Any]:
    """Medians per group of renders; `formats` maps each candidate's name to JPEG or PNG."""
    groups: dict[str, Callable[[dict[str, Any]], bool]] = {
        "all": lambda im: True, "opaque": lambda im: not im["alpha"], "alpha": lambda im: im["alpha"],
        "photo": lambda im: im["kind"] == "photo", "flat": lambda im: im["kind"] == "flat",
        "photo_opaque": lambda im: im["kind"] == "photo" and not im["alpha"],
        "flat_opaque": lambda im: im["kind"] == "flat" and not im["alpha"],
    }
    # the lossless PNG a JPEG candidate's pipeline falls back to where it cannot match (alpha renders)
    lossless = ("png-oxipng2", "png-exact-palette")
    out: dict[str, Any] = {}
    for name in [*formats, "best_of"]:
        fmt = formats.get(name)
        s: dict[str, Any] = {}
        for g, pick in groups.items():
            sel = [im for im in images if pick(im)]
            if fmt is None:
                ratios = [im["best_of"]["ratio"] for im in sel]
                unmet = 0
            else:
                got = [im["candidates"][name] for im in sel]
                ratios = [v["ratio"] for v in got if v["met"]]
                unmet = sum(not v["met"] for v in got)
            s[g] = {"images": len(sel), "met": len(ratios), "unmet": unmet, "median_ratio": _med(ratios)}
        if fmt == "JPEG":
            # this JPEG encoder on opaque renders, the smaller lossless PNG on the rest
            pipe = []
            for im in images:
                v = im["candidates"][name]
                if v["met"]:
                    pipe.append(v["ratio"])
                else:
                    pipe.append(min(im["candidates"][n]["ratio"] for n in lossless if im["candidates"][n]["met"]))
            s["all_with_png_fallback"] = {"images": len(pipe), "median_ratio": _med(pipe)}
        # where it met the score: elsewhere (alpha renders) a lossy search only proves it cannot
        met = [im["candidates"][name] for im in images if fmt is not None and im["candidates"][name]["met"]]
        enc = [v["encode_seconds"] for v in met]
        srch = [v["search_seconds"] for v in met]
        probes = [v["probes"] for v in met]
        if fmt is not None:
            s["median_encode_ms"] = round(1000 * statistics.median(enc), 1) if enc else None
            s["median_search_ms"] = round(1000 * statistics.median(srch), 1) if srch else None
            s["mean_probes"] = round(statistics.fmean(probes), 1) if probes else None
        out[name] = s
    return out


def summarize_shipped(images: list[dict[str, Any]], targets: tuple[float, ...]) -> dict[str, Any]:
    base_scores = [im["baseline"]["score"] for im in images]
    out: dict[str, Any] = {"baseline": {"mean_score": round(statistics.fmean(base_scores), 5), "min_score": min(base_scores),
                                        "total_bytes": sum(im["baseline"]["bytes"] for im in images)}}
    for target in targets:
        key = f"{target:g}"
        row = {}
        for combo in COMBOS:
            got = [im["as_shipped"][key][combo] for im in images]
            ratios = [g["bytes"] / im["baseline"]["bytes"] for g, im in zip(got, images, strict=True)]
            scores = [g["score"] for g in got]
            total = sum(g["bytes"] for g in got)
            row[combo] = {"median_ratio": _med(ratios), "total_ratio": round(total / out["baseline"]["total_bytes"], 4),
                          "mean_score": round(statistics.fmean(scores), 5), "min_score": min(scores),
                          "equal_or_better_images": sum(g["score"] >= im["baseline"]["score"] for g, im in zip(got, images, strict=True))}
        out[key] = row
    return out


def matching_targets(runs: dict[str, Any], targets: tuple[float, ...]) -> dict[str, Any]:
    """Per combination: the lowest target whose mean score >= the baseline's at every size."""
    out: dict[str, Any] = {}
    for combo in COMBOS:
        for t in targets:
            key = f"{t:g}"
            if all(run["shipped"][key][combo]["mean_score"] >= run["shipped"]["baseline"]["mean_score"] for run in runs.values()):
                out[combo] = {"target": t, **{side: run["shipped"][key][combo]["median_ratio"] for side, run in runs.items()}}
                break
        else:
            out[combo] = None
    return out


def add_ssimulacra2(data: dict[str, Any], paths: list[Path], cands: list[Candidate]) -> None:
    """SSIMULACRA2 of every JPEG candidate's equal-SSIM output against the baseline's, opaque renders.

    A second opinion on the same files: an encoder that wins bytes at equal SSIM by spending
    them where SSIM looks and not where eyes do (mozjpeg's flat table) loses points here.
    Pure-Python SSIMULACRA2: ~1 s per 1024 px comparison.
    """
    import ssimulacra2  # type: ignore[import-untyped, unused-ignore]

    jpegs = [c for c in cands if c.format == "JPEG"]
    for side, run in data["runs"].items():
        rows = {im["image"]: im for im in run["images"]}
        deltas: dict[str, list[float]] = {c.name: [] for c in jpegs}
        for r in renders(paths, int(side)):
            if r.alpha or r.name not in rows:
                continue
            ref = io.BytesIO()
            r.flat.save(ref, "PNG", compress_level=1)

            def s2(data_: bytes, ref: io.BytesIO = ref) -> float:
                ref.seek(0)
                return float(ssimulacra2.compute_ssimulacra2(ref, io.BytesIO(data_)))

            im = rows[r.name]
            base = s2(baseline_encode(r.image, has_alpha=False)[1])
            got = {"baseline": round(base, 3)}
            for c in jpegs:
                v = im["candidates"].get(c.name, {})
                if v.get("met"):
                    got[c.name] = round(s2(c.encode(r.flat, v["quality"])), 3)
                    deltas[c.name].append(got[c.name] - base)
            im["ssimulacra2"] = got
        run["ssimulacra2_delta"] = {n: {"median": _med(v), "min": round(min(v), 3) if v else None, "images": len(v)}
                                    for n, v in deltas.items()}


# --------------------------------------------------------------------------------------------
# Environment and report
# --------------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    libs: dict[str, str] = {}
    for name in ("pillow", "numpy", "pyjpegli", "mozjpeg-lossless-optimization", "pyvips", "pyvips-binary", "pyoxipng"):
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    libs["libjpeg-turbo (Pillow)"] = str(features.version("libjpeg_turbo"))
    try:
        import pyvips  # type: ignore[import-untyped, unused-ignore]

        libs["libvips"] = ".".join(str(pyvips.version(i)) for i in range(3))
        libs["libvips JPEG library"] = "mozjpeg" if _vips_has_mozjpeg() else "libjpeg(-turbo)"
    except Exception:  # noqa: BLE001
        pass
    cpu = platform.processor()
    info = Path("/proc/cpuinfo")
    if info.exists():
        cpu = next((ln.split(":", 1)[1].strip() for ln in info.read_text().splitlines() if ln.startswith("model name")), cpu)
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "loadavg_1m": round(os.getloadavg()[0], 2), "libraries": libs}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def markdown(data: dict[str, Any]) -> str:
    env = data["environment"]
    sides = sorted(data["runs"], key=int, reverse=True)
    cands = {n: data["candidates"][n] for n in data.get("candidate_order", data["candidates"])}  # JSON keys are sorted
    lines = [
        "# JPEG/PNG encoders at the baseline's score (benchmarks/eval_jpeg_equal_quality.py)", "",
        f"Machine: {env['cpu']}, {env['cpus']} CPUs (shared; load {env['loadavg_1m']} at start), {env['platform']}, "
        f"Python {env['python']}. Libraries: {', '.join(f'{k} {v}' for k, v in env['libraries'].items())}.", "",
        "Baseline: Pillow JPEG q90 optimize 4:2:0, PNG optimize where the render has alpha (score 1.0). Score: "
        "asset_pipeline.quality (SSIM Y/Cb/Cr 6:1:1), JPEGs of alpha renders flattened onto white. Per image, each "
        "candidate's smallest output scoring >= the baseline's score; ratio = its bytes / the baseline's.", "",
        "## 1. Median per-image bytes ratio at an equal or better score", "",
        "`opaque` are the renders with a JPEG baseline; on alpha renders the baseline is lossless, so a JPEG "
        "candidate cannot match there (`met` counts where it did). `all+PNG` is the JPEG candidate on opaque "
        "renders and the smaller of oxipng / exact palette on the rest: what a pipeline built on it would get.", "",
    ]
    head = "| candidate | " + " | ".join(f"{s}: all (met) | {s}: all+PNG | {s}: opaque | {s}: photo opq | {s}: flat opq | {s}: alpha"
                                          for s in sides) + " |"
    lines += [head, "|" + " --- |" * (1 + 6 * len(sides))]
    for name in [*cands, "best_of"]:
        cells = []
        for s in sides:
            sm = data["runs"][s]["summary"][name]
            cells += [f"{_fmt(sm['all']['median_ratio'])} ({sm['all']['met']}/{sm['all']['images']})",
                      _fmt(sm.get("all_with_png_fallback", {}).get("median_ratio")),
                      _fmt(sm["opaque"]["median_ratio"]), _fmt(sm["photo_opaque"]["median_ratio"]),
                      _fmt(sm["flat_opaque"]["median_ratio"]), _fmt(sm["alpha"]["median_ratio"])]
        label = "**best of all**" if name == "best_of" else f"`{name}`"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Best-of winners per image: " + "; ".join(
        f"{s}: " + ", ".join(f"{k} x{v}" for k, v in sorted(_count(im["best_of"]["candidate"] for im in data["runs"][s]["images"]).items(),
                                                            key=lambda kv: -kv[1])) for s in sides) + ".", ""]
    lines += ["## 2. Encode time (CPU ms per output at the chosen quality, median of runs; median over the renders where "
              "the candidate met the score)", "",
              "| candidate | what | " + " | ".join(f"{s}: encode ms | {s}: search ms (probes)" for s in sides) + " |",
              "|" + " --- |" * (2 + 2 * len(sides))]
    for name, about in cands.items():
        cells = []
        for s in sides:
            sm = data["runs"][s]["summary"][name]
            cells += [f"{sm['median_encode_ms']}", f"{sm['median_search_ms']} ({sm['mean_probes']})"]
        lines.append(f"| `{name}` | {about} | " + " | ".join(cells) + " |")
    lines += ["", "Search ms is this script's grid + bisection + neighbours (encode, decode and score every probe), "
              "not the project's interpolating search (~4 probes).", "",
              *ssimulacra2_section(data, cands, sides),
              "## 3. As shipped: a fixed target per image", "",
              "Per image: the smallest output meeting the target among the combination's JPEG encoder(s) (opaque renders) "
              "and balanced's PNG rules (alpha renders: oxipng or exact palette, a quantized palette for flat art if it meets "
              "the target; opaque flat art: palettes too).", ""]
    for s in sides:
        sh = data["runs"][s]["shipped"]
        lines += [f"**{s}x{s}** (baseline mean score {sh['baseline']['mean_score']:.4f}, min {sh['baseline']['min_score']:.4f})", "",
                  "| target | " + " | ".join(f"{_label(c)}: median ratio / mean / min / >= base" for c in COMBOS) + " |",
                  "|" + " --- |" * (1 + len(COMBOS))]
        for t in data["targets"]:
            row = sh[f"{t:g}"]
            lines.append(f"| {t:g} | " + " | ".join(
                f"{v['median_ratio']:.3f} / {v['mean_score']:.4f} / {v['min_score']:.4f} / {v['equal_or_better_images']}"
                for v in (row[c] for c in COMBOS)) + " |")
        lines.append("")
    lines += ["Lowest target whose mean score >= the baseline's at every size, and the median ratio there:", ""]
    for combo, m in data["matching_target"].items():
        lines.append(f"- {combo}: " + ("none in the sweep" if m is None else
                                       f"{m['target']:g} -> " + ", ".join(f"{s}: {m[s]:.3f}" for s in sides)))
    lines += ["", "## Candidates", ""] + [f"- `{k}`: {v}" for k, v in cands.items()]
    lines += ["", f"SSIM tables ({SSIM_TABLE_PARAMS}): luma {SSIM_TABLES[0]}; chroma {SSIM_TABLES[1]}.", ""]
    return "\n".join(lines)


def ssimulacra2_section(data: dict[str, Any], cands: dict[str, str], sides: list[str]) -> list[str]:
    if not all("ssimulacra2_delta" in data["runs"][s] for s in sides):
        return []
    lines = ["## 2b. Second opinion: SSIMULACRA2 at the equal-SSIM outputs (opaque renders)", "",
             "SSIMULACRA2 (higher is better; ~90 very high quality, ~70 high) of each JPEG candidate's output above minus "
             "the baseline's, per image. Negative: the bytes were saved where SSIM does not look.", "",
             "| candidate | " + " | ".join(f"{s}: median delta | {s}: worst" for s in sides) + " |",
             "|" + " --- |" * (1 + 2 * len(sides))]
    for name in cands:
        got = [data["runs"][s]["ssimulacra2_delta"].get(name) for s in sides]
        if any(g is None for g in got):
            continue
        lines.append(f"| `{name}` | " + " | ".join(f"{g['median']:+.2f} | {g['min']:+.2f}" for g in got if g) + " |")
    return [*lines, ""]


def _count(items: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 360])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N corpus images (smoke runs)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each final encode (median)")
    ap.add_argument("--targets", type=float, nargs="+", default=list(TARGETS), help="as-shipped sweep targets")
    ap.add_argument("--no-shim", action="store_true", help="skip the research-only jpegli C API candidates")
    ap.add_argument("--no-ssimulacra2", action="store_true", help="skip the SSIMULACRA2 cross-check (needs `ssimulacra2`)")
    ap.add_argument("--ssimulacra2-only", action="store_true", help="add the cross-check to the last .json, then report")
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the last .json")
    args = ap.parse_args(argv)
    if args.report_only or args.ssimulacra2_only:  # summaries recomputed: a changed summary needs no new run
        saved: dict[str, Any] = json.loads((RESULTS / f"{NAME}.json").read_text())
        if args.ssimulacra2_only:
            with tempfile.TemporaryDirectory(prefix="jpegli-shim-") as tmp:
                lib = None if args.no_shim else _build_shim(Path(tmp))
                cands = core_candidates() + (shim_candidates(lib) if lib else [])
                paths = ensure_corpus("small")
                add_ssimulacra2(saved, paths[: saved.get("limit") or None], [c for c in cands if c.name in saved["candidates"]])
        formats = {n: "PNG" if n.startswith("png-") else "JPEG" for n in saved["candidates"]}
        for run in saved["runs"].values():
            run["summary"] = summarize(run["images"], formats)
            run["shipped"] = summarize_shipped(run["images"], tuple(saved["targets"]))
        saved["matching_target"] = matching_targets(saved["runs"], tuple(saved["targets"]))
        (RESULTS / f"{NAME}.json").write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
        text = markdown(saved)
        (RESULTS / f"{NAME}.md").write_text(text)
        print(text)
        return 0
    targets = tuple(sorted(args.targets))
    paths = ensure_corpus("small")
    if args.limit:
        paths = paths[: args.limit]
    with tempfile.TemporaryDirectory(prefix="jpegli-shim-") as tmp:
        cands = core_candidates()
        lib = None if args.no_shim else _build_shim(Path(tmp))
        if lib is not None:
            cands += shim_candidates(lib)
        data: dict[str, Any] = {"environment": environment(), "targets": list(targets), "issue_ratio": ISSUE_RATIO, "limit": args.limit,
                                "ssim_tables": {"params": SSIM_TABLE_PARAMS, "luma": SSIM_TABLES[0], "chroma": SSIM_TABLES[1]},
                                "candidates": {c.name: c.about for c in cands}, "candidate_order": [c.name for c in cands],
                                "runs": {}}
        for side in args.sizes:
            t0 = time.perf_counter()
            print(f"{side}x{side}:", file=sys.stderr)
            data["runs"][str(side)] = evaluate_size(renders(paths, side), cands, targets, args.repeats)
            print(f"{side}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        data["matching_target"] = matching_targets(data["runs"], targets)
        if not args.no_ssimulacra2 and importlib.util.find_spec("ssimulacra2") is not None:
            print("SSIMULACRA2 cross-check", file=sys.stderr)
            add_ssimulacra2(data, paths, cands)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{NAME}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    text = markdown(data)
    (RESULTS / f"{NAME}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

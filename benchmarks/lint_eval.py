"""Evaluate the art lint (asset_pipeline/lint.py) on the project's own art: false positives, recall, blur sweep.

What it renders, with the project's own load + render (cover fit, linear-light LANCZOS, the
pipeline's 2x decode gap):

* the sample project: each source in its real role (icon at 1024 and at the 2026 profile's
  600, every thumbnail candidate at 360);
* the ``small`` benchmark corpus: every image as an icon (1024) and as a thumbnail (360).

Each (image, check) pair has a label: ``clean`` (the default), ``expect`` (the art was made that
way, e.g. the corpus's RGBA cut-outs have transparent corners) or ``either`` (a judgement call,
listed with its values). Labels are in LABELS below, each with its reason.

Then synthetic positives, made from the same renders, give each check's recall: a QR code and
an EAN-13 pasted into the source art before rendering, rounded-rect masks on opaque art,
Gaussian blur and heavy upscales (the blur sweep), a copyright line in a corner.

    .venv/bin/python -m benchmarks.lint_eval              # full run, writes benchmarks/results/lint_eval.md
    .venv/bin/python -m benchmarks.lint_eval --limit 4    # smoke test
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from asset_pipeline import lint
from asset_pipeline.config import LINT_CODES
from asset_pipeline.load import load_image
from asset_pipeline.project import hash_file
from asset_pipeline.records import RenderSpec, SourceFile
from asset_pipeline.render import render
from benchmarks.corpus import ensure_corpus

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "starfall"
RESULTS = Path(__file__).resolve().parent / "results" / "lint_eval.md"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# (glob on "<file name>@<size>", check) -> (label, reason). First match wins; default "clean".
LABELS: list[tuple[str, str, str, str]] = [
    ("*_rgba.png@*", "transparent_corners", "expect", "RGBA cut-out on a transparent field"),
    ("*_trns.png@*", "transparent_corners", "expect", "palette PNG with a transparent margin"),
    ("04_boss.png@*", "transparent_corners", "expect", "sample thumbnail: owl on a transparent field"),
    ("flat_badge_*@*", "rounded_corners", "expect", "a rounded-square badge: exactly what the portal rejects"),
    ("flat_palette_1024x1024_trns.png@*", "rounded_corners", "expect", "a rounded square on a transparent margin"),
    ("flat_palette_800x1000_trns.png@*", "rounded_corners", "either", "the cover crop cuts the rounded corners away"),
    ("flat_pixelart_*@1024", "safe_area", "expect", "a 4x4 sprite sheet: the corner sprites are cut by a circle"),
    ("flat_banner_*@1024", "safe_area", "either", "title text runs off the edges (cover crop)"),
    ("photo_keyart_*@1024", "safe_area", "either", "title near the bottom edge"),
]

ICON_SIZES = {"corpus": (1024,), "sample": (1024, 600)}


@dataclass
class Item:
    """One rendered image: where it came from, its role and size, and the image."""

    name: str
    group: str
    role: str
    size: int
    image: Image.Image = field(repr=False)
    source_image: Image.Image | None = field(default=None, repr=False)


def label(name: str, size: int, check: str) -> tuple[str, str]:
    key = f"{name}@{size}"
    for pattern, code, lab, reason in LABELS:
        if code == check and fnmatch.fnmatch(key, pattern):
            return lab, reason
    return "clean", ""


def _source(path: Path) -> SourceFile:
    sha, size = hash_file(path)
    return SourceFile(path=path.resolve(), rel=path.name, sha256=sha, size=size)


def _spec(role: str, side: int) -> RenderSpec:
    return RenderSpec(role=role, width=side, height=side, fit="cover", background=(255, 255, 255),  # type: ignore[arg-type]
                      formats=("JPEG", "PNG"), max_bytes=5_000_000)


def render_path(path: Path, role: str, side: int) -> tuple[Image.Image, tuple[str, ...]]:
    """What the pipeline renders (decode at >= 2x the target, then fit)."""
    loaded = load_image(_source(path), shrink_to=("short", side * 2))
    r = render(loaded, _spec(role, side))
    return r.image, tuple(f.code for f in r.findings)


def render_image(im: Image.Image, side: int) -> Image.Image:
    """The same fit for an in-memory source (used for the synthetic positives)."""
    from asset_pipeline.load import LoadedImage

    src = SourceFile(path=Path("synthetic.png"), rel="synthetic.png", sha256="0" * 64, size=0)
    loaded = LoadedImage(source=src, image=im, format="PNG", width=im.width, height=im.height, has_alpha=im.mode == "RGBA")
    return render(loaded, _spec("icon", side)).image


def collect(limit: int | None) -> tuple[list[Item], dict[str, int]]:
    items: list[Item] = []
    upscaled: dict[str, int] = defaultdict(int)
    sample_icon = next(SAMPLE.glob("icon.*"))
    for side in ICON_SIZES["sample"]:
        im, codes = render_path(sample_icon, "icon", side)
        items.append(Item(sample_icon.name, "sample", "icon", side, im))
        upscaled["upscaled"] += "upscaled" in codes
    for p in sorted((SAMPLE / "thumbnails").rglob("*.*")):
        im, codes = render_path(p, "thumbnail", 360)
        items.append(Item(p.name, "sample", "thumbnail", 360, im))
        upscaled["upscaled"] += "upscaled" in codes
    corpus = ensure_corpus("small")[:limit]
    for p in corpus:
        with Image.open(p) as src:
            src.load()
        for role, side in (("icon", 1024), ("thumbnail", 360)):
            im, codes = render_path(p, role, side)
            items.append(Item(p.name, "corpus", role, side, im))
            upscaled["upscaled"] += "upscaled" in codes
    return items, upscaled


# --- part 1: false positives on the project's art ---------------------------------------------


def run_clean(items: list[Item]) -> tuple[list[str], dict[str, dict[str, int]], list[dict[str, Any]]]:
    lines: list[str] = []
    table: dict[str, dict[str, int]] = {c: defaultdict(int) for c in LINT_CODES if c != "upscaled"}
    rows: list[dict[str, Any]] = []
    timings: dict[int, list[float]] = defaultdict(list)
    for it in items:
        t0 = time.perf_counter()
        found = lint.lint_image(it.image, role=it.role, source=it.name)
        timings[it.size].append(time.perf_counter() - t0)
        fired = {f.code: f.value for f in found}
        for check in table:
            if check == "safe_area" and it.role != "icon":
                continue
            lab, reason = label(it.name, it.size, check)
            hit = check in fired
            table[check][f"{lab}_n"] += 1
            key = {("clean", True): "fp", ("expect", True): "tp", ("expect", False): "miss",
                   ("either", True): "either_hit", ("either", False): "either_quiet"}.get((lab, hit))
            if key:
                table[check][key] += 1
            if hit and lab != "expect" or (lab == "expect" and not hit):
                rows.append({"image": f"{it.group}/{it.name}@{it.size}", "check": check, "label": lab,
                             "fired": hit, "value": fired.get(check), "reason": reason})
    for side, ts in sorted(timings.items()):
        lines.append(f"lint_image at {side}px: median {statistics.median(ts) * 1000:.0f} ms, max {max(ts) * 1000:.0f} ms over {len(ts)} images")
    return lines, table, rows


def measurements(items: list[Item]) -> list[dict[str, Any]]:
    """The raw value of every check on every image, to show the margins."""
    out = []
    for it in items:
        flat = lint.flatten(it.image, (255, 255, 255))
        out.append({
            "image": f"{it.group}/{it.name}@{it.size}",
            "transparent": lint.corner_transparency(it.image),
            "radius": lint.rounded_radius(it.image),
            "sharpness": lint.sharpness(lint.luma8(flat)),
            "safe_area": lint.safe_area_density(flat) if it.role == "icon" else None,
        })
    return out


# --- part 2: synthetic positives --------------------------------------------------------------


def _code_image(fmt: str, content: str) -> Image.Image:
    import zxingcpp

    bc = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    return Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(bc, scale=1))).convert("RGB")


def _with_code(src: Image.Image, code: Image.Image, side: int, px_per_module: float, bar_height: float) -> Image.Image:
    """Paste `code` into the source art so it renders at about `px_per_module` at `side`."""
    art = src.convert("RGB")
    short = min(art.size)
    scale = px_per_module * short / side
    w = max(1, round(code.width * scale))
    h = max(1, round(code.height * scale)) if bar_height <= 0 else max(1, round(short * bar_height))
    stamp = code.resize((w, h), Image.Resampling.NEAREST)
    x = (art.width - short) // 2 + short - w - short // 12  # lower right of the centre square
    y = (art.height - short) // 2 + short - h - short // 12
    art.paste(stamp, (x, y))
    return art


def _rounded(im: Image.Image, radius: float, fill: tuple[int, int, int, int]) -> Image.Image:
    side = im.width
    mask = Image.new("L", im.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, side - 1, side - 1), radius=radius * side, fill=255)
    base = Image.new("RGBA", im.size, fill)
    base.paste(im.convert("RGBA"), (0, 0), mask)
    return base if fill[3] < 255 else base.convert("RGB")


def _watermark(im: Image.Image, text: str, height: float) -> Image.Image:
    out = im.convert("RGB")
    d = ImageDraw.Draw(out)
    font = ImageFont.truetype(FONT, max(8, round(out.height * height)))
    pad = round(out.width * 0.02)
    d.text((out.width - pad, out.height - pad), text, font=font, fill=(255, 255, 255), anchor="rs",
           stroke_width=max(1, round(out.height * height * 0.06)), stroke_fill=(0, 0, 0))
    return out


def run_synthetic(items: list[Item], sources: dict[str, Image.Image]) -> list[str]:
    lines = []
    opaque = [it for it in items if it.group == "corpus" and it.image.mode == "RGB"]
    qr, ean = _code_image("QRCode", "https://example.com/starfall/get?ref=icon"), _code_image("EAN13", "4006381333931")
    c128, dm = _code_image("Code128", "STARFALL-2026"), _code_image("DataMatrix", "https://example.com/starfall")
    for label_, code, fmt_check, ppm, bar in (("QR code, 2.5 px/module", qr, "qr_code", 2.5, 0.0),
                                               ("QR code, 1.5 px/module", qr, "qr_code", 1.5, 0.0),
                                               ("EAN-13, 2.5 px/module", ean, "barcode", 2.5, 0.15),
                                               ("Code 128, 2 px/module", c128, "barcode", 2.0, 0.15),
                                               ("Data Matrix, 2.5 px/module", dm, "barcode", 2.5, 0.0)):
        hits = total = 0
        for it in opaque:
            src = sources[it.name]
            art = _with_code(src, code, it.size, ppm, bar)
            if code.width * ppm > it.size * 0.9:
                continue
            rendered = render_image(art, it.size)
            found = {f.code for f in lint.lint_image(rendered, role=it.role, source=it.name, checks=(fmt_check,))}
            hits += fmt_check in found
            total += 1
        lines.append(f"{label_} pasted into the source art, rendered: {hits}/{total} found ({fmt_check})")
    for radius in (0.06, 0.12, 0.22):
        for fill, what in (((255, 255, 255, 255), "on white"), ((0, 0, 0, 255), "on black"), ((0, 0, 0, 0), "transparent")):
            hits = total = 0
            for it in opaque:
                found = {f.code for f in lint.lint_image(_rounded(it.image, radius, fill), role=it.role, source=it.name,
                                                         checks=("rounded_corners",))}
                hits += "rounded_corners" in found
                total += 1
            lines.append(f"rounded-rect mask r={radius:.0%} {what}: {hits}/{total} found (rounded_corners)")
    for height in (0.04, 0.06, 0.09):
        hits = total = 0
        for it in opaque:
            if it.role != "icon":
                continue
            found = {f.code for f in lint.lint_image(_watermark(it.image, "(c) STUDIO", height), role="icon", source=it.name,
                                                     checks=("safe_area",))}
            hits += "safe_area" in found
            total += 1
        lines.append(f"'(c) STUDIO' in the lower-right corner, text {height:.0%} of the side: {hits}/{total} found (safe_area)")
    return lines


# --- part 3: the blur sweep -------------------------------------------------------------------


def _variants(im: Image.Image) -> dict[str, Image.Image]:
    rgb = lint.flatten(im, (255, 255, 255))
    out = {"sharp": rgb}
    for s in (1.0, 1.5, 2.0, 3.0):
        out[f"gauss {s}"] = rgb.filter(ImageFilter.GaussianBlur(s))
    for k in (2, 3, 4):
        small = rgb.resize((rgb.width // k, rgb.height // k), Image.Resampling.LANCZOS)
        out[f"upscale {k}x"] = small.resize(rgb.size, Image.Resampling.LANCZOS)
    return out


def _laplacian_variance(luma: np.ndarray) -> float:
    from scipy import ndimage as ndi

    return float(ndi.laplace(luma.astype(np.float64)).var())


def run_blur_sweep(items: list[Item]) -> tuple[list[str], float]:
    values: dict[str, list[float]] = defaultdict(list)
    vol: dict[str, list[float]] = defaultdict(list)
    unjudged: dict[str, int] = defaultdict(int)
    for it in items:
        for name, im in _variants(it.image).items():
            luma = lint.luma8(im)
            v = lint.sharpness(luma)
            vol[name].append(_laplacian_variance(luma))
            if v is None:
                unjudged[name] += 1
            else:
                values[name].append(v)
    lines = ["| variant | edge sharpness min / median / max | judged | Laplacian variance min / median / max |", "|---|---|---|---|"]
    for name in values:
        s, lv = values[name], vol[name]
        lines.append(f"| {name} | {min(s):.3f} / {statistics.median(s):.3f} / {max(s):.3f} | {len(s)}/{len(s) + unjudged[name]} | "
                     f"{min(lv):.1f} / {statistics.median(lv):.1f} / {max(lv):.1f} |")
    sharp_min = min(values["sharp"])
    blurred_max = max(max(values[k]) for k in ("gauss 2.0", "gauss 3.0", "upscale 3x", "upscale 4x"))
    mid = (sharp_min + blurred_max) / 2
    lines.append("")
    lines.append(f"sharp minimum {sharp_min:.3f}; blurred (gauss >= 2 px, upscale >= 3x) maximum {blurred_max:.3f}; "
                 f"midpoint {mid:.3f}; shipped threshold {lint.BLUR_MIN_SHARPNESS}")
    for name, s in values.items():
        flagged = sum(v < lint.BLUR_MIN_SHARPNESS for v in s)
        lines.append(f"  {name}: {flagged}/{len(s) + unjudged[name]} flagged at {lint.BLUR_MIN_SHARPNESS}")
    lv_sharp = sorted(vol["sharp"])
    lv_blur = max(max(vol[k]) for k in ("gauss 2.0", "gauss 3.0", "upscale 3x", "upscale 4x"))
    overlap = sum(v <= lv_blur for v in lv_sharp)
    lines.append(f"Laplacian variance for comparison: {overlap}/{len(lv_sharp)} sharp renders score at or below the "
                 f"sharpest blurred copy ({lv_blur:.1f}), so any threshold on it flags sharp art or passes blurred art "
                 "(it measures texture as much as focus)" if overlap else
                 f"Laplacian variance for comparison: it separates this set too (sharp minimum {lv_sharp[0]:.1f}, "
                 f"blurred maximum {lv_blur:.1f})")
    return lines, mid


def build_overhead(runs: int = 3) -> list[str]:
    """Cold builds of the sample project (no cache, one process): lint as shipped vs every check off."""
    import tempfile

    from asset_pipeline.pipeline import build

    profile_text = (REPO / "presets" / "platforms" / "tiktok-minis.toml").read_text()
    off = profile_text.split("[lint]")[0] + "[lint]\n" + "".join(f'{c} = "off"\n' for c in LINT_CODES)
    times: dict[str, list[float]] = {"lint on": [], "lint off": []}
    with tempfile.TemporaryDirectory() as tmp:
        off_path = Path(tmp) / "tiktok-minis-lint-off.toml"
        off_path.write_text(off)
        for i in range(runs):  # alternate, so drifting machine load hits both alike
            for label_, platform_ in (("lint on", "tiktok-minis"), ("lint off", str(off_path))):
                t = time.perf_counter()
                build(SAMPLE, out=Path(tmp) / f"out{i}", platform=platform_, jobs=1, use_cache=False)
                times[label_].append(time.perf_counter() - t)
    on, off_ = statistics.median(times["lint on"]), statistics.median(times["lint off"])
    return [f"sample project, cold build (no cache, --jobs 1), median of {runs}: lint on {on:.2f} s, "
            f"all checks off {off_:.2f} s: ratio {on / off_:.3f} ({on - off_:+.2f} s for 1 icon + 5 thumbnails)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N corpus images")
    parser.add_argument("--out", type=Path, default=RESULTS, help="report file (default %(default)s)")
    parser.add_argument("--skip-build", action="store_true", help="skip the build-overhead measurement")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    items, upscaled = collect(args.limit)
    sources: dict[str, Image.Image] = {}
    for p in ensure_corpus("small")[: args.limit]:
        sources[p.name] = load_image(_source(p)).image
    report: list[str] = ["# Art lint evaluation (benchmarks/lint_eval.py)", ""]
    report.append(f"{len(items)} renders: sample project in its real roles, `small` corpus as icon (1024) and thumbnail (360). "
                  f"Python {platform.python_version()}, Pillow {importlib.metadata.version('pillow')}, "
                  f"zxing-cpp {importlib.metadata.version('zxing-cpp')}, numpy {np.__version__}, {os.cpu_count()} CPUs "
                  "(shared with other work: timings are noisy).")
    report += ["", "## False positives on the project's art", ""]
    timing, table, rows = run_clean(items)
    report += ["| check | clean images | false positives | expected hits | misses | judgement calls (fired / quiet) |", "|---|---|---|---|---|---|"]
    for check, t in table.items():
        report.append(f"| {check} | {t['clean_n']} | {t['fp']} | {t['tp']}/{t['expect_n']} | {t['miss']} | "
                      f"{t['either_hit']} / {t['either_quiet']} |")
    report.append(f"| upscaled | (render.py: source short side below the target) | 0 by definition | {upscaled['upscaled']} renders upscaled | | |")
    report += ["", "Every finding on an image not labelled `expect`, and every miss:", ""]
    if not rows:
        report.append("(none)")
    for r in rows:
        value = "" if r["value"] is None else f" value {r['value']}"
        report.append(f"- {r['image']}: {r['check']} {'fired' if r['fired'] else 'did not fire'} ({r['label']}{': ' + r['reason'] if r['reason'] else ''}){value}")
    report += [""] + timing
    report += ["", "## Margins: each check's raw value (threshold in brackets)", "",
               f"| image | transparent corners [{lint.TRANSPARENT_MIN_SHARE}] | radius | sharpness [{lint.BLUR_MIN_SHARPNESS}] | safe area [{lint.SAFE_AREA_MAX_DENSITY}] |",
               "|---|---|---|---|---|"]
    for m in measurements(items):
        def fmt(v: Any) -> str:
            return "-" if v is None else f"{v:.3f}"
        report.append(f"| {m['image']} | {fmt(m['transparent'])} | {fmt(m['radius'])} | {fmt(m['sharpness'])} | {fmt(m['safe_area'])} |")
    report += ["", "## Recall on synthetic positives (made from the corpus renders)", ""]
    report += [f"- {line}" for line in run_synthetic(items, sources)]
    report += ["", "## Blur sweep: sharp renders vs blurred and upscaled copies of the same renders", ""]
    sweep, _ = run_blur_sweep(items)
    report += sweep
    if not args.skip_build:
        report += ["", "## Cost in a build", ""] + build_overhead()
    report += ["", f"Total time {time.perf_counter() - t0:.0f} s."]
    text = "\n".join(report) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    fps = sum(t["fp"] for t in table.values())
    return 1 if fps else 0


if __name__ == "__main__":
    sys.exit(main())

"""`asset-pipeline bench`: compare compression presets on your own art.

Every image is rendered once (cover fit, linear light, as `build` does) to a square of `size`
pixels, then encoded by each preset with the real encode stage under the byte cap. For each
preset and image: format, bytes, score (SSIM against the rendered image, the number the
manifest records), and encode time (CPU seconds of this process, threads included: steadier
than wall time on a shared machine). The JSON shape is asset_pipeline/schema/bench.schema.json.

    result = run_bench([Path("art/")], presets=["balanced", "my.toml"], baseline=True)
"""

from __future__ import annotations

import csv
import io
import platform
import statistics
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from PIL import Image

from . import quality as q
from .config import Preset, load_preset
from .encode.size_cap import encode_to_cap
from .errors import AssetError, ConfigError
from .load import load_image
from .project import collect_files, hash_file
from .records import RenderSpec, SourceFile
from .render import render

SCHEMA_VERSION = 1
DEFAULT_PRESETS = ("balanced", "quality", "small", "fast", "lossless")
BASELINE = "pillow-q90"  # plain Pillow: JPEG quality 90 optimize=True, PNG optimize=True for alpha
LIBRARIES = ("asset-pipeline", "pillow", "numpy", "pyjpegli", "mozjpeg-lossless-optimization", "imagequant", "pyoxipng")


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One preset's result on one image."""

    format: str | None
    bytes: int | None
    score: float | None
    seconds: float
    settings: dict[str, Any]
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.error is not None:
            return {"error": self.error, "seconds": round(self.seconds, 4)}
        return {"format": self.format, "bytes": self.bytes, "score": self.score,
                "seconds": round(self.seconds, 4), "settings": self.settings}


def baseline_encode(image: Image.Image, *, has_alpha: bool) -> tuple[str, bytes, dict[str, Any]]:
    """What a plain Pillow script does: JPEG quality 90 with optimize, or PNG optimize for alpha."""
    buf = io.BytesIO()
    if has_alpha:
        image.save(buf, "PNG", optimize=True)
        return "PNG", buf.getvalue(), {"optimize": True}
    image.convert("RGB").save(buf, "JPEG", quality=90, optimize=True)
    return "JPEG", buf.getvalue(), {"quality": 90, "optimize": True}


def _run_one(image: Image.Image, spec: RenderSpec, preset: Preset | None, *, name: str, has_alpha: bool,
             scorer: q.Reference | None) -> Outcome:
    t0 = time.process_time()
    if preset is None:
        fmt, data, settings = baseline_encode(image, has_alpha=has_alpha)
        seconds = time.process_time() - t0
        ref = scorer or q.reference(q.flatten(image, spec.background))
        score = 1.0 if fmt == "PNG" else q.score_bytes(ref, data, spec.background)
        return Outcome(format=fmt, bytes=len(data), score=score, seconds=seconds, settings=settings)
    try:
        enc = encode_to_cap(image, spec, preset, source=name, has_alpha=has_alpha)
    except AssetError as exc:
        return Outcome(format=None, bytes=None, score=None, seconds=time.process_time() - t0, settings={}, error=exc.reason)
    return Outcome(format=enc.format, bytes=len(enc.data), score=enc.score, seconds=time.process_time() - t0,
                   settings=enc.settings)


def pareto(points: dict[str, tuple[float, float]]) -> set[str]:
    """Names whose (bytes, score) no other point beats on both (fewer bytes, higher score)."""
    front = set()
    for name, (b, s) in points.items():
        if not any((b2 <= b and s2 >= s) and (b2 < b or s2 > s) for n2, (b2, s2) in points.items() if n2 != name):
            front.add(name)
    return front


def _totals(images: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        ok = [im["results"][name] for im in images if "error" not in im["results"][name]]
        sizes = [r["bytes"] for r in ok]
        scores = [r["score"] for r in ok]
        out[name] = {
            "images": len(ok),
            "failed": sum(1 for im in images if "error" in im["results"][name]),
            "bytes": sum(sizes),
            "median_bytes": statistics.median(sizes) if sizes else 0,
            "mean_score": round(statistics.fmean(scores), 6) if scores else 0.0,
            "min_score": min(scores) if scores else 0.0,
            "seconds": round(sum(im["results"][name]["seconds"] for im in images), 4),
        }
    # every preset must have encoded the same images for totals to compare
    complete = {n: (t["bytes"], t["mean_score"]) for n, t in out.items() if not t["failed"] and t["images"]}
    front = pareto(complete)
    for name, t in out.items():
        t["pareto"] = name in front
    return out


def environment() -> dict[str, Any]:
    libs = {}
    for lib in LIBRARIES:
        try:
            libs[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            pass
    return {"python": platform.python_version(), "platform": platform.platform(), "libraries": libs}


def run_bench(
    paths: list[Path],
    *,
    presets: list[str] | None = None,
    size: int = 1024,
    max_bytes: int = 5_000_000,
    background: tuple[int, int, int] = (255, 255, 255),
    baseline: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Encode every image with every preset; the result follows schema/bench.schema.json."""
    if size < 8:
        msg = f"--size must be at least 8, not {size}"
        raise ConfigError(msg)
    loaded_presets = [load_preset(p) for p in (presets or list(DEFAULT_PRESETS))]
    names = [p.name for p in loaded_presets]
    if len(set(names)) != len(names):
        msg = f"preset names repeat: {', '.join(names)} (rename a preset file)"
        raise ConfigError(msg)
    files = collect_files(paths)
    spec = RenderSpec(role="icon", width=size, height=size, fit="cover", background=background,
                      formats=("JPEG", "PNG"), max_bytes=max_bytes)
    roster: list[tuple[str, Preset | None]] = [(p.name, p) for p in loaded_presets]
    if baseline:
        roster.append((BASELINE, None))
    images: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for i, f in enumerate(files):
        rel = f.as_posix()
        try:
            digest, nbytes = hash_file(f)
            src = SourceFile(path=f, rel=rel, sha256=digest, size=nbytes)
            loaded = load_image(src, shrink_to=("short", 2 * size))
            rendition = render(loaded, spec)
        except AssetError as exc:
            errors.append({"source": rel, "reason": exc.reason})
            continue
        except OSError as exc:
            errors.append({"source": rel, "reason": exc.strerror or str(exc)})
            continue
        image, alpha = rendition.image, rendition.has_alpha
        ref = q.reference(q.flatten(image, background)) if baseline else None
        results = {name: _run_one(image, spec, preset, name=rel, has_alpha=alpha, scorer=ref).as_json() for name, preset in roster}
        images.append({"path": rel, "source_width": loaded.width, "source_height": loaded.height, "alpha": alpha,
                       "results": results})
        if progress is not None:
            progress("bench", i + 1, len(files))
    return {
        "schema_version": SCHEMA_VERSION,
        "size": size,
        "max_bytes": max_bytes,
        "metric": q.METRIC,
        "presets": [{"name": p.name, "description": p.description, "fingerprint": p.fingerprint(), "settings": p.settings()}
                    for p in loaded_presets]
        + ([{"name": BASELINE, "description": "plain Pillow: JPEG quality 90 optimize (PNG optimize where alpha)",
             "fingerprint": None, "settings": None}] if baseline else []),
        "images": images,
        "totals": _totals(images, [n for n, _ in roster]),
        "errors": errors,
        "environment": environment(),
    }


def to_csv(result: dict[str, Any]) -> str:
    """One row per image and preset."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["image", "preset", "format", "bytes", "score", "seconds", "quality", "error"])
    for im in result["images"]:
        for name, r in im["results"].items():
            quality = (r.get("settings") or {}).get("quality", "")
            w.writerow([im["path"], name, r.get("format", ""), r.get("bytes", ""), r.get("score", ""), r["seconds"],
                        quality, r.get("error", "")])
    return buf.getvalue()


def rows(result: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-image rows and per-preset totals, ready for report.table."""
    per_image = []
    for im in result["images"]:
        for name, r in im["results"].items():
            s = r.get("settings") or {}
            how = f"q{s['quality']}" if "quality" in s else ("palette" if s.get("palette") else "lossless")
            per_image.append({
                "image": im["path"], "preset": name, "format": r.get("format") or "-",
                "setting": "-" if "error" in r else how, "bytes": r.get("bytes") or 0,
                "score": f"{r['score']:.4f}" if r.get("score") is not None else r.get("error", "-"),
                "ms": round(r["seconds"] * 1000),
            })
    totals = [
        {"preset": name, "images": t["images"], "failed": t["failed"], "bytes": t["bytes"],
         "median bytes": round(t["median_bytes"]), "mean score": f"{t['mean_score']:.4f}",
         "min score": f"{t['min_score']:.4f}", "ms/image": round(1000 * t["seconds"] / max(t["images"] + t["failed"], 1)),
         "pareto": "*" if t["pareto"] else ""}
        for name, t in result["totals"].items()
    ]
    return per_image, totals

"""Choose format and quality: the smallest encoding that meets the quality target and the byte cap.

The cap is a hard guarantee. When the preferred encoding is over it, quality steps down, then
the next allowed format is tried, then the asset fails with SizeCapUnreachable: a file over
the cap is never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image

from .. import quality as q
from ..config import Preset
from ..errors import SizeCapUnreachable
from ..records import Finding, RenderSpec
from . import CODECS
from .png import quantize

FLAT_MAX_COLOURS = 4096  # fewer distinct colours than this: flat art, worth a PNG attempt
JPEG_FLOOR = 10  # the lowest quality we step down to for the cap


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoded:
    data: bytes
    format: str
    extension: str
    settings: dict[str, Any]
    score: float
    findings: tuple[Finding, ...] = ()


class _Jpeg:
    """Memoized JPEG encodes and scores of one image: a search never encodes a quality twice."""

    def __init__(self, image: Image.Image, ref: q.Reference, preset: Preset, subsampling: str) -> None:
        self.image, self.ref, self.preset, self.subsampling = image, ref, preset, subsampling
        self.data: dict[int, bytes] = {}
        self.scores: dict[int, float] = {}

    def encode(self, quality: int) -> bytes:
        if quality not in self.data:
            j = self.preset.jpeg
            self.data[quality] = CODECS["JPEG"].encode(
                self.image, quality=quality, subsampling=self.subsampling, progressive=j.progressive, optimize=j.optimize
            )
        return self.data[quality]

    def score(self, quality: int) -> float:
        if quality not in self.scores:
            self.scores[quality] = q.score_bytes(self.ref, self.encode(quality), (0, 0, 0))
        return self.scores[quality]

    def search(self, lo: int, hi: int, target: float) -> int:
        """Smallest quality in [lo, hi] whose score meets `target` (hi if none does)."""
        if self.score(hi) < target:
            return hi
        while lo < hi:
            mid = (lo + hi) // 2
            if self.score(mid) >= target:
                hi = mid
            else:
                lo = mid + 1
        return hi

    def under_cap(self, start: int, max_bytes: int) -> int | None:
        """Largest quality <= start whose bytes fit `max_bytes` (None if even the floor does not)."""
        if len(self.encode(start)) <= max_bytes:
            return start
        lo, hi = JPEG_FLOOR, start - 1
        if hi < lo or len(self.encode(lo)) > max_bytes:
            return None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(self.encode(mid)) <= max_bytes:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def settings(self, quality: int) -> dict[str, Any]:
        j = self.preset.jpeg
        return {"quality": quality, "subsampling": self.subsampling, "progressive": j.progressive, "optimize": j.optimize}


def _encode_jpeg(flat: Image.Image, ref: q.Reference, preset: Preset, max_bytes: int) -> Encoded | None:
    j = preset.jpeg
    target = preset.quality.target
    modes = ["4:2:0", "4:4:4"] if j.subsampling == "auto" else [j.subsampling]
    best: tuple[int, _Jpeg, int, bool] | None = None  # (bytes, encoder, quality, met target)
    for sub in modes:
        enc = _Jpeg(flat, ref, preset, sub)
        if isinstance(j.quality, int):
            chosen = j.quality
        else:
            chosen = enc.search(j.min_quality, j.max_quality, target)
        fitted = enc.under_cap(chosen, max_bytes)
        if fitted is None:
            continue
        met = isinstance(j.quality, int) or enc.score(fitted) >= target
        size = len(enc.encode(fitted))
        if best is None or (met, -size) > (best[3], -best[0]):
            best = (size, enc, fitted, met)
        # 4:4:4 only pays where 4:2:0 needs a high quality to reach the target
        if isinstance(j.quality, int) or (met and fitted < 90):
            break
    if best is None:
        return None
    size, enc, quality, met = best
    settings = enc.settings(quality)
    if not isinstance(j.quality, int):
        settings["search"] = {"metric": q.METRIC, "target": target, "attempts": sum(len(e) for e in [enc.data])}
    findings: tuple[Finding, ...] = ()
    return Encoded(
        data=enc.encode(quality), format="JPEG", extension="jpg", settings=settings,
        score=enc.score(quality), findings=findings,
    )


def _encode_png(image: Image.Image, ref: q.Reference, preset: Preset, background: tuple[int, int, int], *, flat_art: bool, max_bytes: int) -> Encoded | None:
    p = preset.png
    codec = CODECS["PNG"]
    base = {"compress_level": p.compress_level, "strategy": p.strategy, "optimize": p.optimize}
    options: list[Encoded] = []
    palette_ok = p.palette == "on" or (p.palette == "auto" and flat_art)
    if palette_ok:
        pal = quantize(image)
        data = codec.encode(pal, **base)
        score = q.score_bytes(ref, data, background)
        if p.palette == "on" or score >= preset.quality.target:
            options.append(Encoded(data=data, format="PNG", extension="png", settings={**base, "palette": True}, score=score))
    lossless_needed = not options or options[0].score < 1.0
    if lossless_needed:
        data = codec.encode(image, **base)
        options.append(Encoded(data=data, format="PNG", extension="png", settings={**base, "palette": False}, score=1.0))
    fitting = [o for o in options if len(o.data) <= max_bytes]
    if not fitting:
        # last resort: the palette version even below target, if it is the only thing that fits
        if not palette_ok:
            pal = quantize(image)
            data = codec.encode(pal, **base)
            if len(data) <= max_bytes:
                return Encoded(data=data, format="PNG", extension="png", settings={**base, "palette": True}, score=q.score_bytes(ref, data, background))
        return None
    return min(fitting, key=lambda o: (len(o.data), -o.score))


def encode_to_cap(image: Image.Image, spec: RenderSpec, preset: Preset, *, source: str, has_alpha: bool) -> Encoded:
    """Encode `image` for `spec` under `spec.max_bytes` following `preset`.

    `format = "auto"`: PNG where alpha matters; otherwise JPEG, or PNG where the art is flat and
    PNG comes out smaller at a score that meets the target.
    """
    allowed = [f for f in spec.formats if f in CODECS]
    bg = spec.background
    flat = q.flatten(image, bg)
    ref = q.reference(flat)
    flat_art = image.getcolors(FLAT_MAX_COLOURS) is not None
    if preset.format == "jpeg":
        order = ["JPEG", "PNG"]
    elif preset.format == "png":
        order = ["PNG", "JPEG"]
    elif has_alpha:
        order = ["PNG", "JPEG"]
    else:
        order = ["JPEG", "PNG"] if not flat_art else ["BOTH"]
    findings: list[Finding] = []
    for fmt in order:
        if fmt == "BOTH":
            cands = []
            if "JPEG" in allowed:
                cands.append(_encode_jpeg(flat, ref, preset, spec.max_bytes))
            if "PNG" in allowed:
                cands.append(_encode_png(image, ref, preset, bg, flat_art=True, max_bytes=spec.max_bytes))
            got = [c for c in cands if c is not None]
            target = preset.quality.target
            good = [c for c in got if c.score >= target] or got
            result = min(good, key=lambda c: len(c.data)) if good else None
        elif fmt not in allowed:
            continue
        elif fmt == "JPEG":
            result = _encode_jpeg(flat, ref, preset, spec.max_bytes)
        else:
            result = _encode_png(image, ref, preset, bg, flat_art=flat_art, max_bytes=spec.max_bytes)
        if result is None:
            findings.append(Finding(code="format_fallback", source=source, message=f"{fmt} could not meet the {spec.max_bytes:,}-byte cap; trying the next format"))
            continue
        if result.format == "JPEG" and has_alpha:
            findings.append(Finding(code="alpha_flattened", source=source, message=f"transparency flattened onto #{bg[0]:02x}{bg[1]:02x}{bg[2]:02x} for JPEG"))
        if fmt != order[0] and order[0] != "BOTH" and preset.format != "auto":
            findings.append(Finding(code="format_switched", source=source, message=f"{order[0]} could not meet the byte cap; wrote {result.format}"))
        assert len(result.data) <= spec.max_bytes  # the guarantee, checked where it is made
        return Encoded(
            data=result.data, format=result.format, extension=result.extension,
            settings=result.settings, score=result.score, findings=tuple(findings) + result.findings,
        )
    msg = f"no allowed format ({', '.join(allowed)}) fits the {spec.max_bytes:,}-byte cap at {spec.width}x{spec.height}"
    raise SizeCapUnreachable(source, msg)

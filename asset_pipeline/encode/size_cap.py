"""Choose format and quality: the smallest encoding that meets the quality target and the byte cap.

The cap is a hard guarantee. When the preferred encoding is over it, quality steps down (JPEG
quality down to JPEG_FLOOR; PNG to a palette of fewer and fewer colours, unless the preset
turns palettes off), then the next format the profile allows is tried, then the asset fails
with SizeCapUnreachable: a file over the cap is never returned.

Speed: a searched JPEG costs a few probe encodes (plain Huffman, baseline: the decoded pixels
are identical to the progressive, optimized file's, so the score is the same) plus one final
encode; the reference planes are computed once per output; lossless PNGs are never scored;
photographic art never gets a palette attempt (art.is_flat_art).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .. import quality as q
from ..config import JpegSettings, Preset
from ..errors import EncodeError, SizeCapUnreachable
from ..records import Finding, RenderSpec
from . import jpeg
from .art import is_flat_art
from .png import PngCodec, exact_palette, quantize
from .search import smallest_passing

JPEG_FLOOR = 10  # the lowest JPEG quality the cap may push an asset to
SUBSAMPLING_SWITCH = 90  # 4:2:0 needing this quality or more: 4:4:4 may be smaller (auto)
PALETTE_STEPS = (256, 128, 64, 32, 16, 8, 4, 2)  # PNG colour counts tried to meet the cap
# Where a quality search starts, by target: the starts that needed the fewest probes on the
# benchmark corpus' score curves (search.py). 4:4:4 starts a little below 4:2:0's answer.
START = ((0.95, 75), (0.975, 85), (0.99, 90))
START_444_OFFSET = 6

_PNG = PngCodec()


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoded:
    data: bytes = field(repr=False)
    format: str
    extension: str
    settings: dict[str, Any]
    score: float
    findings: tuple[Finding, ...] = ()


class _Scorer:
    """The reference planes of one output, built only when something needs scoring.

    `once`: most likely one encode is scored (a fixed quality), so the first is scored without
    building a reusable reference (`quality.score_once`); a second builds it.
    """

    def __init__(self, image: Image.Image, background: tuple[int, int, int], flat: Image.Image | None = None,
                 *, once: bool = False) -> None:
        self.background = background
        self.flat = flat if flat is not None else q.flatten(image, background)
        self._ref: q.Reference | None = None
        self._once = once

    def bytes(self, data: bytes) -> float:
        if self._once:
            self._once = False
            return q.score_once(self.flat, q.decode(data, self.background))
        if self._ref is None:
            self._ref = q.reference(self.flat)
        return q.score_bytes(self._ref, data, self.background)


def start_quality(target: float) -> int:
    """Linear interpolation in START (clamped at its ends)."""
    if target <= START[0][0]:
        return START[0][1]
    for (t0, q0), (t1, q1) in zip(START, START[1:], strict=False):
        if target <= t1:
            return round(q0 + (q1 - q0) * (target - t0) / (t1 - t0))
    return START[-1][1]


class _JpegTrials:
    """Memoized encodes and scores of one image at one subsampling: nothing is done twice."""

    def __init__(self, scorer: _Scorer, j: JpegSettings, subsampling: str) -> None:
        self.scorer, self.j, self.subsampling = scorer, j, subsampling
        self.finals: dict[int, bytes] = {}
        self.scores: dict[int, float] = {}
        self.plain: set[int] = set()  # qualities that had to be written baseline, unoptimized
        self.probe_sizes: dict[int, int] = {}
        self.probe_data: dict[int, bytes] = {}  # scored probes: mozjpeg re-codes the chosen one as it is
        self.probes = 0

    def _fits_pillow_buffer(self, quality: int) -> bool:
        """False when a known encode says the optimized file would overflow Pillow's buffer.

        Sizes grow with quality, so a plain encode at or below `quality` that is already near
        the buffer means this one will not fit; unknown means try (and fall back on failure).
        """
        w, h = self.scorer.flat.size
        limit = 0.9 * w * h * (2 if quality >= 95 else 1)
        known = {**self.probe_sizes, **{k: len(self.finals[k]) for k in self.plain}}
        return not any(k <= quality and n >= limit for k, n in known.items())

    @property
    def encoder(self) -> str:
        return jpeg.encoder_for(self.j.encoder, self.subsampling)

    def _probe(self, quality: int) -> bytes:
        return jpeg.probe(self.scorer.flat, quality, self.subsampling, self.j.encoder)

    def final(self, quality: int) -> bytes:
        if quality not in self.finals:
            turbo_buffered = self.encoder == "libjpeg-turbo" and self.j.optimizer == "none" and (self.j.progressive or self.j.optimize)
            if turbo_buffered and not self._fits_pillow_buffer(quality):
                self.plain.add(quality)
                self.finals[quality] = self._probe(quality)
                return self.finals[quality]
            try:
                if self.j.optimizer == "mozjpeg" and quality in self.probe_data:
                    data = jpeg.lossless(self.probe_data[quality])  # what jpeg.final would encode again
                else:
                    data = jpeg.final(self.scorer.flat, quality, self.subsampling, encoder=self.j.encoder,
                                      optimizer=self.j.optimizer, progressive=self.j.progressive, optimize=self.j.optimize)
            except OSError:
                # Pillow sizes libjpeg's whole-file buffer for optimized/progressive output at
                # 1-2 bytes per pixel; noise at high quality needs more ("Suspension not
                # allowed here"). A baseline, unoptimized JPEG streams and always encodes.
                data = self._probe(quality)
                self.plain.add(quality)
            self.finals[quality] = data
        return self.finals[quality]

    def score(self, quality: int) -> float:
        if quality not in self.scores:
            if quality in self.finals:
                data = self.finals[quality]
            else:  # a probe: the cheapest encode with the same pixels
                data = self.probe_data[quality] = self._probe(quality)
                self.probe_sizes[quality] = len(data)
            self.scores[quality] = self.scorer.bytes(data)
            self.probes += 1
        return self.scores[quality]

    def under_cap(self, start: int, max_bytes: int) -> int | None:
        """Largest quality <= start whose bytes fit `max_bytes` (None if even the floor does not)."""
        if len(self.final(start)) <= max_bytes:
            return start
        lo, hi = JPEG_FLOOR, start - 1
        if hi < lo or len(self.final(lo)) > max_bytes:
            return None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(self.final(mid)) <= max_bytes:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def settings(self, quality: int) -> dict[str, Any]:
        plain = quality in self.plain
        out: dict[str, Any] = {"encoder": self.encoder, "quality": quality, "subsampling": self.subsampling}
        if self.j.optimizer == "mozjpeg":
            out["optimizer"] = "mozjpeg"  # progressive scans and Huffman tables, chosen losslessly
        elif self.encoder == "libjpeg-turbo":
            out.update(progressive=self.j.progressive and not plain, optimize=self.j.optimize and not plain)
        return out


def _encode_jpeg(scorer: _Scorer, preset: Preset, max_bytes: int) -> Encoded | None:
    j, target = preset.jpeg, preset.quality.target
    best: tuple[tuple[float, ...], Encoded] | None = None
    if j.searched:
        subs = ["4:2:0", "4:4:4"] if j.subsampling == "auto" else [j.subsampling]
    else:
        assert isinstance(j.quality, int)
        auto = "4:4:4" if j.quality >= SUBSAMPLING_SWITCH else "4:2:0"
        subs = [auto if j.subsampling == "auto" else j.subsampling]
    wanted = start_quality(target)
    probes = 0
    for sub in subs:
        trials = _JpegTrials(scorer, j, sub)
        if isinstance(j.quality, int):
            chosen, met = j.quality, True
        else:
            found = smallest_passing(trials.score, lo=j.min_quality, hi=j.max_quality, target=target, start=wanted)
            chosen, met = found.quality, found.met
        fitted = trials.under_cap(chosen, max_bytes)
        if fitted is not None:
            data = trials.final(fitted)
            score = trials.score(fitted)
            settings = trials.settings(fitted)
            if j.searched:
                settings["search"] = {"metric": q.METRIC, "target": target, "met": met and fitted == chosen,
                                      "probes": trials.probes}
            findings: tuple[Finding, ...] = ()
            if fitted < chosen:
                findings = (Finding(code="quality_stepped_down", source="",
                                    message=f"JPEG quality {chosen} was over the {max_bytes:,}-byte cap; wrote quality {fitted}"),)
            enc = Encoded(data=data, format="JPEG", extension="jpg", settings=settings, score=score, findings=findings)
            # rank: meeting the target first, then fewer bytes; among misses, the higher score
            ok = met and fitted == chosen
            rank: tuple[float, ...] = (1, -len(data)) if ok else (0, score, -len(data))
            if best is None or rank > best[0]:
                best = (rank, enc)
        probes += trials.probes
        # 4:4:4 only where 4:2:0 cannot reach the target at all (saturated red edges, star
        # fields): where both can, jpegli's 4:2:0 with mozjpeg's re-code was smaller on every
        # image of the corpus, so searching 4:4:4 there only cost time (14 % of balanced's)
        if not j.searched or met:
            break
        wanted = min(chosen, j.max_quality) - START_444_OFFSET
    if best is None:
        return None
    if "search" in best[1].settings:
        best[1].settings["search"]["probes"] = probes  # scored encodes over every subsampling tried
    return best[1]


def _png_settings(preset: Preset, *, palette: bool) -> dict[str, Any]:
    p = preset.png
    if p.optimizer != "none":
        return {"optimizer": p.optimizer, "optimizer_level": p.optimizer_level}
    # zlib's RLE strategy is 4x faster on truecolour rows but 1.7-5x larger on palette indices
    return {"compress_level": p.compress_level, "strategy": "default" if palette else p.strategy,
            "optimize": p.optimize}


def _encode_png(image: Image.Image, scorer: _Scorer, preset: Preset, *, flat_art: bool, max_bytes: int) -> Encoded | None:
    p, target = preset.png, preset.quality.target
    chosen: Encoded | None = None
    if p.palette == "on" or (p.palette == "auto" and flat_art):
        exact = exact_palette(image)
        pal = exact if exact is not None else quantize(image, quantizer=p.quantizer, dither=p.dither)
        data = _PNG.encode(pal, **_png_settings(preset, palette=True))
        score = 1.0 if exact is not None else scorer.bytes(data)  # an exact palette is lossless
        if exact is not None or p.palette == "on" or score >= target:
            settings = {**_png_settings(preset, palette=True), "palette": True,
                        "colors": len(pal.getpalette() or []) // 3}
            if exact is None:
                settings["quantizer"] = p.quantizer
            chosen = Encoded(data=data, format="PNG", extension="png", settings=settings, score=score)
    if chosen is None:
        data = _PNG.encode(image, **_png_settings(preset, palette=False))
        chosen = Encoded(data=data, format="PNG", extension="png",
                         settings={**_png_settings(preset, palette=False), "palette": False}, score=1.0)
    if len(chosen.data) <= max_bytes:
        return chosen
    if p.palette == "off":
        return None  # the preset wants lossless PNG: no lossy step-down, the next format may fit
    start = chosen.settings.get("colors", 512)
    for colors in (c for c in PALETTE_STEPS if c < start):
        pal = quantize(image, colors=colors, quantizer=p.quantizer, dither=p.dither)
        data = _PNG.encode(pal, **_png_settings(preset, palette=True))
        if len(data) <= max_bytes:
            settings = {**_png_settings(preset, palette=True), "palette": True, "colors": colors,
                        "quantizer": p.quantizer}
            msg = f"PNG was over the {max_bytes:,}-byte cap; wrote a {colors}-colour palette"
            return Encoded(data=data, format="PNG", extension="png", settings=settings, score=scorer.bytes(data),
                           findings=(Finding(code="quality_stepped_down", source="", message=msg),))
    return None


def _order(preset: Preset, *, has_alpha: bool, flat_art: bool) -> list[str]:
    if preset.format == "jpeg":
        return ["JPEG", "PNG"]
    if preset.format == "png" or has_alpha:
        return ["PNG", "JPEG"]
    if preset.png.palette != "off" and flat_art:
        return ["BOTH"]
    return ["JPEG", "PNG"]


def encode_to_cap(image: Image.Image, spec: RenderSpec, preset: Preset, *, source: str, has_alpha: bool,
                  flat: Image.Image | None = None) -> Encoded:
    """Encode `image` for `spec` under `spec.max_bytes` following `preset` (see the module docstring).

    `flat`: `image` flattened onto the spec's background, when the caller has it already.

    `format = "auto"`: PNG where alpha matters; for opaque flat art both JPEG and a palette PNG
    are tried and the smaller that meets the target wins; JPEG for everything else.
    """
    allowed = [f for f in spec.formats if f in ("JPEG", "PNG")]
    scorer = _Scorer(image, spec.background, flat, once=not preset.jpeg.searched)
    needs_census = preset.png.palette == "auto" and (preset.format != "jpeg")
    flat_art = needs_census and is_flat_art(image)
    order = _order(preset, has_alpha=has_alpha, flat_art=flat_art)
    cap = spec.max_bytes
    findings: list[Finding] = []
    failed: list[str] = []
    result: Encoded | None = None
    for fmt in order:
        if fmt == "BOTH":
            got = []
            if "JPEG" in allowed:
                got.append(_encode_jpeg(scorer, preset, cap))
            if "PNG" in allowed:
                got.append(_encode_png(image, scorer, preset, flat_art=True, max_bytes=cap))
            fits = [c for c in got if c is not None]
            good = [c for c in fits if c.score >= preset.quality.target] or fits
            result = min(good, key=lambda c: (len(c.data), -c.score)) if good else None
        elif fmt not in allowed:
            continue
        elif fmt == "JPEG":
            result = _encode_jpeg(scorer, preset, cap)
        else:
            result = _encode_png(image, scorer, preset, flat_art=flat_art, max_bytes=cap)
        if result is not None:
            break
        failed.append("JPEG or PNG" if fmt == "BOTH" else fmt)
    if result is None:
        msg = f"no allowed format ({', '.join(allowed)}) fits the {cap:,}-byte cap at {spec.width}x{spec.height}"
        raise SizeCapUnreachable(source, msg)
    if len(result.data) > cap:  # the guarantee, checked where it is made
        raise EncodeError(source, f"encoder returned {len(result.data):,} bytes, over the {cap:,}-byte cap")
    if result.format == "JPEG" and has_alpha:
        bg = spec.background
        findings.append(Finding(code="alpha_flattened", source=source,
                                message=f"transparency flattened onto #{bg[0]:02x}{bg[1]:02x}{bg[2]:02x} for JPEG"))
    if failed:
        findings.append(Finding(code="format_switched", source=source,
                                message=f"{failed[0]} could not meet the {cap:,}-byte cap; wrote {result.format}"))
    own = tuple(Finding(code=f.code, source=source, message=f.message) for f in result.findings)
    return Encoded(data=result.data, format=result.format, extension=result.extension, settings=result.settings,
                   score=result.score, findings=tuple(findings) + own)

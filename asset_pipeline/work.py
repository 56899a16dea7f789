"""What worker processes do, and the records that cross the process boundary.

`prepare` decodes a source once and, from that one decode, fingerprints it (thumbnail
candidates), encodes the renditions that ship whatever dedupe decides (icons), and renders the
ones that wait for dedupe (thumbnails), which travel back as pixels at their target size.
`encode` encodes one of those once dedupe keeps it (decoding the source itself when no pixels
were made for it, e.g. when only its fingerprint was cached).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import manifest as mf
from .cache import Cache, make_key
from .config import Preset, Profile
from .errors import AssetError, EncodeError
from .records import FINGERPRINT_VERSION, EncodedAsset, Finding, Fingerprint, Probe, RenderSpec, SourceFile

if TYPE_CHECKING:
    from PIL import Image

    from .load import LoadedImage
    from .render import Rendition

log = logging.getLogger("asset_pipeline")

PROBE_SIDE = 256  # a probe-only decode keeps this much: enough for 64-bit hashes, cheap for JPEG


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A source or asset that failed, as it crosses a process boundary."""

    source: str
    reason: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderJob:
    """One output to make: a source, what it must be, and where it goes in the bundle."""

    source: SourceFile
    spec: RenderSpec
    stem: str  # bundle path without extension, e.g. "thumbnails/en/1"
    preset: Preset
    cache_root: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pixels:
    """A rendition in transit between processes (raw bytes pickle cheaply; PIL images less so)."""

    mode: str
    size: tuple[int, int]
    data: bytes = field(repr=False)
    has_alpha: bool
    findings: tuple[Finding, ...] = ()

    @classmethod
    def of(cls, image: Image.Image, *, has_alpha: bool, findings: tuple[Finding, ...]) -> Pixels:
        return cls(mode=image.mode, size=image.size, data=image.tobytes(), has_alpha=has_alpha, findings=findings)

    def image(self) -> Image.Image:
        from PIL import Image

        return Image.frombytes(self.mode, self.size, self.data)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrepareTask:
    source: SourceFile
    encode: tuple[RenderSpec, ...]  # renditions that ship whatever dedupe decides: encoded here
    render: tuple[RenderSpec, ...]  # renditions waiting for dedupe: sent back as pixels
    decode: DecodePlan
    need_probe: bool
    preset: Preset
    cache_root: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    probe: Probe | None
    encoded: dict[RenderSpec, EncodedAsset | Failure] = field(default_factory=dict, repr=False)
    renditions: dict[RenderSpec, Pixels] = field(default_factory=dict, repr=False)


LINEAR_MIN_SIDE = 720  # a linear-light render reads at least this much (see decode_side)


def decode_side(specs: tuple[RenderSpec, ...], preset: Preset) -> int:
    """How large a decode must stay for the largest of `specs` (or just for hashing).

    The loader shrinks (JPEG DCT scaling, integer box reduce) while the image stays at least
    the preset's render.reducing_gap times the target, and LANCZOS does the rest. That shrink
    is in gamma space: for linear light a decode keeps at least LINEAR_MIN_SIDE, or a 360
    thumbnail shrunk 4-8x there loses its fine bright detail (a star field: SSIM 0.945 against
    a full-size linear resize, 0.964 at 720) for a tenth less time.
    """
    r = preset.render
    floor = LINEAR_MIN_SIDE if r.linear_light else 0
    return max((max(math.ceil(max(s.width, s.height) * r.reducing_gap), min(floor, 2 * max(s.width, s.height)))
                for s in specs), default=PROBE_SIDE)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodePlan:
    """How one content is decoded, made from every output it is needed for (never from which of
    them are cached), so every decode of it, in whichever build or task, gives the same pixels."""

    side: int  # see decode_side; part of the probe's cache key
    fit_side: Literal["short", "long"]  # which side must stay >= `side`: the long one for contain
    packed: bool  # a large JPEG may stay at 3 bytes a pixel (the linear-light render reads bands)


def decode_plan(specs: tuple[RenderSpec, ...], preset: Preset) -> DecodePlan:
    return DecodePlan(
        side=decode_side(specs, preset),
        fit_side="long" if any(s.fit == "contain" for s in specs) else "short",
        packed=preset.render.linear_light and all(s.fit != "attention" for s in specs),
    )


def _cache(root: str | None) -> Cache:
    return Cache(Path(root) if root else None)


# --- probes -------------------------------------------------------------------------------


def probe_key(source: SourceFile, max_pixels: int, plan: DecodePlan) -> str:
    return make_key("probe", sha256=source.sha256, side=plan.side, fit_side=plan.fit_side, max_pixels=max_pixels,
                    fingerprint=FINGERPRINT_VERSION)


def cached_probe(source: SourceFile, max_pixels: int, plan: DecodePlan, cache: Cache) -> Probe | None:
    hit = cache.get(probe_key(source, max_pixels, plan))
    if hit is None:
        return None
    meta, _ = hit
    return Probe(source=source, width=meta["width"], height=meta["height"], fingerprint=Fingerprint(**meta["fingerprint"]))


def _load(source: SourceFile, plan: DecodePlan, preset: Preset) -> LoadedImage:
    from .load import load_image

    return load_image(source, max_pixels=preset.render.max_pixels, shrink_to=(plan.fit_side, plan.side), packed=plan.packed)


def _render(loaded: LoadedImage, spec: RenderSpec, preset: Preset, premultiplied: Image.Image | None = None) -> Rendition:
    from .render import render

    return render(loaded, spec, linear_light=preset.render.linear_light, gap=preset.render.reducing_gap,
                  premultiplied=premultiplied)


def _keep_read(loaded: LoadedImage, specs: tuple[RenderSpec, ...], preset: Preset) -> LoadedImage:
    """`loaded` holding only the part of a packed decode that the renders of `specs` read (a
    wide photo covered to a square: its middle), once nothing else needs the rest."""
    from .load import PackedRGB
    from .render import reads

    im = loaded.image
    if not isinstance(im, PackedRGB) or not specs:
        return loaded
    boxes = [reads(im.size, spec, linear_light=preset.render.linear_light) for spec in specs]
    if any(b is None for b in boxes):
        return loaded
    x0, y0, x1, y1 = (f(b[i] for b in boxes if b is not None) for f, i in ((min, 0), (min, 1), (max, 2), (max, 3)))
    return dataclasses.replace(loaded, image=im.keep((x0, y0, x1, y1)))  # `loaded`'s PackedRGB is spent


def prepare(task: PrepareTask) -> Prepared | Failure:
    """Decode once; fingerprint, encode `task.encode` and render `task.render` from that decode."""
    from .memory import trim

    try:
        return _prepare(task)
    finally:
        trim()


def _prepare(task: PrepareTask) -> Prepared | Failure:
    from .memory import trim_between

    src = task.source
    try:
        loaded = _load(src, task.decode, task.preset)
        pm = None
        if not task.preset.render.linear_light and task.need_probe + len(task.encode + task.render) >= 2:
            from .render import premultiplied

            pm = premultiplied(loaded.image)  # shared by the gamma-space resizes and the fingerprint
        probe = None
        if task.need_probe:
            from .dedupe import fingerprint

            fp = fingerprint(loaded.image, premultiplied=pm)
            probe = Probe(source=src, width=loaded.width, height=loaded.height, fingerprint=fp)
            _cache(task.cache_root).put(
                probe_key(src, task.preset.render.max_pixels, task.decode),
                {"width": loaded.width, "height": loaded.height, "fingerprint": dataclasses.asdict(fp)},
            )
        loaded = _keep_read(loaded, task.encode + task.render, task.preset)
        # what the decode freed (a turned copy, the tail of a packed part) is given back: left
        # resident, it sat under the renders and the encodes (a turned photo's prepare: 32 -> 25 MiB)
        trim_between()
        renders = {spec: _render(loaded, spec, task.preset, pm) for spec in task.encode + task.render}
        findings = loaded.findings
        del loaded, pm  # the renditions are all that is needed now: the decode can go before encoding
        trim_between()
    except AssetError as exc:
        return Failure(source=src.rel, reason=exc.reason, kind=exc.reason_code)
    except Exception as exc:  # a bug met on one source fails that source, not the whole batch
        return _unexpected(src.rel, exc)
    encoded: dict[RenderSpec, EncodedAsset | Failure] = {}
    for spec in task.encode:
        r = renders.pop(spec)
        job = RenderJob(source=src, spec=spec, stem="", preset=task.preset, cache_root=task.cache_root)
        encoded[spec] = _guarded(job, lambda r=r, job=job: encode_image(job, r.image, has_alpha=r.has_alpha,
                                                                       upstream=findings + r.findings))
    pixels = {spec: Pixels.of(r.image, has_alpha=r.has_alpha, findings=findings + r.findings) for spec, r in renders.items()}
    return Prepared(probe=probe, encoded=encoded, renditions=pixels)


# --- encodes ------------------------------------------------------------------------------


def asset_key(job: RenderJob) -> str:
    # the bundle path is not part of the key: a thumbnail that moves from slot 2 to 1 is reused
    return make_key("asset", sha256=job.source.sha256, spec=dataclasses.asdict(job.spec), preset=job.preset.fingerprint())


def render_info(spec: RenderSpec) -> dict[str, Any]:
    r, g, b = spec.background
    return {"fit": spec.fit, "background": f"#{r:02x}{g:02x}{b:02x}"}


def cached_asset(job: RenderJob, cache: Cache) -> EncodedAsset | None:
    hit = cache.get(asset_key(job))
    if hit is None or hit[1] is None:
        return None
    meta, data = hit
    return EncodedAsset(
        role=job.spec.role, path=f"{job.stem}.{meta['extension']}", format=meta["format"], width=meta["width"],
        height=meta["height"], bytes=len(data), sha256=meta["sha256"], phash=meta["phash"], source=job.source,
        encoder=meta["encoder"], quality=meta["quality"], render=render_info(job.spec),
        findings=tuple(Finding(**f) for f in meta["findings"]), data=data,
    )


def _guarded(job: RenderJob, run: Callable[[], EncodedAsset]) -> EncodedAsset | Failure:
    """Errors come back as records naming the file; an encoder bug must not kill the batch."""
    try:
        return run()
    except AssetError as exc:
        return Failure(source=exc.source, reason=exc.reason, kind=exc.reason_code)
    except Exception as exc:
        return _unexpected(job.source.rel, exc)


def _unexpected(source: str, exc: Exception) -> Failure:
    """A Failure naming `source` for an error that is no AssetError (a bug), its traceback logged."""
    from .logs import setup_logging

    setup_logging(deferred=True)  # the traceback goes to the log file (opened now), never to stderr
    log.exception("unexpected error on %s", source)
    return Failure(source=source, reason=f"internal error: {type(exc).__name__}: {exc}", kind="encode_failed")


def encode(args: tuple[RenderJob, Pixels | None, DecodePlan]) -> EncodedAsset | Failure:
    """Encode one rendition dedupe kept: from the pixels `prepare` made, or from a fresh decode.

    The fresh decode follows the content's plan, as `prepare` does, so its pixels are the ones a
    cold build renders: decoded for this output alone, a thumbnail of art that is also an icon
    came out of a smaller decode, in other bytes, once its probe came from the cache, and the
    bundle then depended on the cache's history.
    """
    from .memory import trim_between

    job, pixels, plan = args
    try:
        return _guarded(job, lambda: _encode(job, pixels, plan))
    finally:
        # with one job the next decode starts from this process's floor (a 1024 encode left 27
        # MiB resident); a worker's next prepare reuses what is left and trims after itself
        trim_between()


def _encode(job: RenderJob, pixels: Pixels | None, plan: DecodePlan) -> EncodedAsset:
    if pixels is None:
        loaded = _keep_read(_load(job.source, plan, job.preset), (job.spec,), job.preset)
        r = _render(loaded, job.spec, job.preset)
        return encode_image(job, r.image, has_alpha=r.has_alpha, upstream=loaded.findings + r.findings)
    return encode_image(job, pixels.image(), has_alpha=pixels.has_alpha, upstream=pixels.findings)


def encode_image(job: RenderJob, image: Image.Image, *, has_alpha: bool, upstream: tuple[Finding, ...]) -> EncodedAsset:
    """Encode one rendition under its cap, score and lint it, and cache the result."""
    from .dedupe import phash as phash_of
    from .encode.size_cap import encode_to_cap
    from .lint import lint_rendition
    from .quality import METRIC, flatten

    spec = job.spec
    # findings made for the same content under another name must name this source
    upstream = tuple(f if f.source == job.source.rel else dataclasses.replace(f, source=job.source.rel) for f in upstream)
    flat = flatten(image, spec.background)  # one composite for the score, the hash and the lint
    encoded = encode_to_cap(image, spec, job.preset, source=job.source.rel, has_alpha=has_alpha, flat=flat)
    if len(encoded.data) > spec.max_bytes:  # never reached: encode_to_cap guarantees it
        raise EncodeError(job.source.rel, "encoder returned a file over the cap")
    gray = flat.convert("L")  # one luma for the hash and the lint
    phash = phash_of(gray)
    findings = lint_rendition(image, spec, source=job.source.rel, shipped_format=encoded.format,
                              upstream=upstream + encoded.findings, flat=flat, gray=gray)
    asset = EncodedAsset(
        role=spec.role, path=f"{job.stem}.{encoded.extension}", format=encoded.format, width=spec.width,
        height=spec.height, bytes=len(encoded.data), sha256=hashlib.sha256(encoded.data).hexdigest(), phash=phash,
        source=job.source, encoder=encoded.settings, quality={METRIC: encoded.score}, render=render_info(spec),
        findings=findings, data=encoded.data,
    )
    meta = {
        "extension": encoded.extension, "format": asset.format, "width": asset.width, "height": asset.height,
        "sha256": asset.sha256, "phash": asset.phash, "encoder": asset.encoder, "quality": asset.quality,
        "findings": [dataclasses.asdict(f) for f in findings],
    }
    _cache(job.cache_root).put(asset_key(job), meta, encoded.data)
    return asset


def for_job(asset: EncodedAsset, job: RenderJob) -> EncodedAsset:
    """`asset` (made for the same content and spec) as `job`'s: its bundle path, its source's name."""
    ext = asset.path.rsplit(".", 1)[-1]
    rel = job.source.rel
    findings = tuple(f if f.source == rel or f.source != asset.source.rel else dataclasses.replace(f, source=rel)
                     for f in asset.findings)
    return dataclasses.replace(asset, path=f"{job.stem}.{ext}", source=job.source, findings=findings)


def make_preview(args: tuple[str, str, str]) -> bool:
    """A review-page preview of a dropped candidate, made in a worker and left in the cache."""
    from .review import cached_preview_jpeg

    project, rel, cache_root = args
    return cached_preview_jpeg(Path(project), rel, cache_root=cache_root) is not None


# --- outputs already in OUT ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviousBundle:
    """The outputs already in OUT, reusable when they were made from the same inputs and settings.

    This is what lets `build --check` on a machine with an empty cache (a fresh CI runner)
    verify a bundle without re-encoding it: same package version, preset, platform rules and
    byte budget, and a record whose source hash, size and fit match, mean the same output.
    """

    records: dict[tuple[str, str, str, str, int, int], tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    warnings: tuple[dict[str, Any], ...] = ()

    @classmethod
    def load(cls, out: Path, preset: Preset, profile: Profile, max_bytes: int | None) -> PreviousBundle:
        try:
            data = json.loads((out / "manifest.json").read_text("utf-8"))
            same = (
                data["generator"]["version"] == mf.generator()["version"]
                and data["preset"]["sha256"] == preset.fingerprint()
                and data["platform"]["rules"] == json.loads(json.dumps(profile.rules()))
                and data.get("max_bytes") == max_bytes
            )
            if not same:
                return cls()
            recs = [data["icon"]]
            for entry in data["languages"].values():
                recs += entry.get("thumbnails") or []
                recs += [entry["icon"]] if entry.get("icon") else []
            found: dict[tuple[str, str, str, str, int, int], tuple[dict[str, Any], bytes]] = {}
            for rec in recs:
                blob = (out / rec["path"]).read_bytes()
                if hashlib.sha256(blob).hexdigest() != rec["sha256"] or "render" not in rec:
                    continue
                role = "icon" if rec["path"].startswith("icon") else "thumbnail"
                key = (role, rec["source"]["sha256"], rec["render"]["fit"], rec["render"]["background"], rec["width"], rec["height"])
                found[key] = (rec, blob)
            return cls(records=found, warnings=tuple(data.get("warnings", [])))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def reuse(self, job: RenderJob) -> EncodedAsset | None:
        info = render_info(job.spec)
        hit = self.records.get((job.spec.role, job.source.sha256, info["fit"], info["background"], job.spec.width, job.spec.height))
        if hit is None:
            return None
        rec, blob = hit
        ext = rec["path"].rsplit(".", 1)[-1]
        findings = tuple(
            Finding(code=w["code"], source=w["source"], message=w["message"], value=w.get("value"), level=w.get("level", "warning"))
            for w in self.warnings if w.get("asset") == rec["path"]
        )
        return EncodedAsset(
            role=job.spec.role, path=f"{job.stem}.{ext}", format=rec["format"], width=rec["width"], height=rec["height"],
            bytes=len(blob), sha256=rec["sha256"], phash=rec["phash"], source=job.source, encoder=rec["encoder"],
            quality=rec["quality"], render=info, findings=findings, data=blob,
        )

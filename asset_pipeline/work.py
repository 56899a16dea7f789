"""What worker processes do, and the records that cross the process boundary.

Pass 1 (`prepare`): decode a source once; fingerprint it if it is a thumbnail candidate, and
render every size it is needed at whose encoding is not cached yet. Pass 2 (`encode`): encode
one rendition under the cap (or, for a source pass 1 did not touch, decode and render it first).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import manifest as mf
from .cache import Cache, make_key
from .config import Preset, Profile
from .errors import AssetError, EncodeError
from .records import FINGERPRINT_VERSION, EncodedAsset, Finding, Fingerprint, Probe, RenderSpec, SourceFile

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger("asset_pipeline")

PROBE_SIDE = 256  # a probe-only decode keeps this much: enough for 64-bit hashes, cheap for JPEG
GAP = 2  # decode at >= 2x the target so the final LANCZOS has room (Pillow's reducing_gap idea)


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
    specs: tuple[RenderSpec, ...]  # renditions to make now (their encodings are not cached)
    decode_side: int  # what the decode keeps (part of the probe's cache key)
    need_probe: bool
    preset: Preset
    cache_root: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    probe: Probe | None
    renditions: dict[RenderSpec, Pixels] = field(default_factory=dict, repr=False)


def decode_side(specs: tuple[RenderSpec, ...]) -> int:
    """How large a decode must stay for the largest of `specs` (or just for hashing)."""
    return max((max(s.width, s.height) * GAP for s in specs), default=PROBE_SIDE)


def _cache(root: str | None) -> Cache:
    return Cache(Path(root) if root else None)


# --- probes -------------------------------------------------------------------------------


def probe_key(source: SourceFile, max_pixels: int, side: int) -> str:
    return make_key("probe", sha256=source.sha256, side=side, max_pixels=max_pixels, fingerprint=FINGERPRINT_VERSION)


def cached_probe(source: SourceFile, max_pixels: int, side: int, cache: Cache) -> Probe | None:
    hit = cache.get(probe_key(source, max_pixels, side))
    if hit is None:
        return None
    meta, _ = hit
    return Probe(source=source, width=meta["width"], height=meta["height"], fingerprint=Fingerprint(**meta["fingerprint"]))


def prepare(task: PrepareTask) -> Prepared | Failure:
    """Pass 1 worker: one decode serves the fingerprint and every rendition of this source."""
    from .dedupe import fingerprint
    from .load import load_image
    from .render import render

    src = task.source
    try:
        side = "long" if any(s.fit == "contain" for s in task.specs) else "short"
        loaded = load_image(src, max_pixels=task.preset.render.max_pixels, shrink_to=(side, task.decode_side))
        probe = None
        if task.need_probe:
            fp = fingerprint(loaded.image)
            probe = Probe(source=src, width=loaded.width, height=loaded.height, fingerprint=fp)
            _cache(task.cache_root).put(
                probe_key(src, task.preset.render.max_pixels, task.decode_side),
                {"width": loaded.width, "height": loaded.height, "fingerprint": dataclasses.asdict(fp)},
            )
        out = {}
        for spec in task.specs:
            r = render(loaded, spec, linear_light=task.preset.render.linear_light)
            out[spec] = Pixels.of(r.image, has_alpha=r.has_alpha, findings=loaded.findings + r.findings)
        return Prepared(probe=probe, renditions=out)
    except AssetError as exc:
        return Failure(source=src.rel, reason=exc.reason, kind=exc.reason_code)


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


def encode(args: tuple[RenderJob, Pixels | None]) -> EncodedAsset | Failure:
    """Pass 2 worker; errors come back as records naming the file."""
    job, pixels = args
    try:
        return encode_asset(job, pixels)
    except AssetError as exc:
        return Failure(source=exc.source, reason=exc.reason, kind=exc.reason_code)
    except Exception as exc:  # an encoder bug must name the file, not kill the batch
        log.exception("unexpected error on %s", job.source.rel)
        return Failure(source=job.source.rel, reason=f"internal error: {type(exc).__name__}: {exc}", kind="encode_failed")


def encode_asset(job: RenderJob, pixels: Pixels | None = None) -> EncodedAsset:
    """Encode one asset under its cap (rendering it first when pass 1 did not), then cache it."""
    import imagehash

    from .encode.size_cap import encode_to_cap
    from .lint import lint_rendition
    from .quality import METRIC, flatten

    spec = job.spec
    if pixels is None:
        from .load import load_image
        from .render import render

        side = "long" if spec.fit == "contain" else "short"
        loaded = load_image(job.source, max_pixels=job.preset.render.max_pixels, shrink_to=(side, decode_side((spec,))))
        r = render(loaded, spec, linear_light=job.preset.render.linear_light)
        pixels = Pixels.of(r.image, has_alpha=r.has_alpha, findings=loaded.findings + r.findings)
    else:  # rendered from the same content under another name: findings name this source
        pixels = dataclasses.replace(pixels, findings=tuple(dataclasses.replace(f, source=job.source.rel) for f in pixels.findings))
    image = pixels.image()
    encoded = encode_to_cap(image, spec, job.preset, source=job.source.rel, has_alpha=pixels.has_alpha)
    if len(encoded.data) > spec.max_bytes:  # never reached: encode_to_cap guarantees it
        raise EncodeError(job.source.rel, "encoder returned a file over the cap")
    phash = str(imagehash.phash(flatten(image, spec.background)))
    findings = lint_rendition(image, spec, source=job.source.rel, shipped_format=encoded.format,
                              upstream=pixels.findings + encoded.findings)
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

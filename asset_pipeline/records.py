"""Immutable records handed from stage to stage (no pixels cross a process boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Role = Literal["icon", "thumbnail"]
FITS = ("cover", "contain", "attention")  # CSS object-fit words, plus sharp's "attention"
DropReason = Literal["duplicate", "over_limit", "unreadable"]
Level = Literal["warning", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A warning (or, when a profile says so, an error) about one source or asset."""

    code: str
    source: str
    message: str
    value: float | None = None
    asset: str | None = None  # the bundle path of the output it concerns, where there is one
    level: Level = "warning"  # a profile's [lint] table may make an art check an error

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "source": self.source, "message": self.message}
        if self.value is not None:
            out["value"] = self.value
        if self.asset is not None:
            out["asset"] = self.asset
        if self.level != "warning":
            out["level"] = self.level
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """One source art file: where it is and what its bytes hash to."""

    path: Path  # absolute, for reading
    rel: str  # POSIX path relative to the project: what the manifest shows
    sha256: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSpec:
    """What one output must be: everything that decides its pixels and encoding."""

    role: Role
    width: int
    height: int
    fit: str
    background: tuple[int, int, int]
    formats: tuple[str, ...]  # allowed by the profile, e.g. ("JPEG", "PNG")
    max_bytes: int
    lint: tuple[tuple[str, str], ...] = ()  # (check, level) from the profile; empty: config.default_level


FINGERPRINT_VERSION = 3  # part of the probe cache key: bump when dedupe.fingerprint changes


@dataclass(frozen=True, slots=True, kw_only=True)
class Fingerprint:
    """What dedupe compares of one source, composited over a fixed background (see dedupe.py)."""

    phash: str  # imagehash pHash of the whole picture: reported, not decisive
    flat: bool  # one flat colour: no structure to compare
    structure: str  # hex of float16 unit vectors, one per view (low DCT block of CIELAB)
    colour: str  # hex of uint8 CIELAB 8x8 colour layouts, one per view


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """Pass 1 of a build: a thumbnail candidate's size and fingerprint."""

    source: SourceFile
    width: int
    height: int
    fingerprint: Fingerprint


@dataclass(frozen=True, slots=True, kw_only=True)
class EncodedAsset:
    """One encoded output: its manifest record plus the bytes to write."""

    role: Role
    path: str  # relative POSIX path inside the bundle
    format: str  # "JPEG" | "PNG"
    width: int
    height: int
    bytes: int
    sha256: str
    phash: str
    source: SourceFile
    encoder: dict[str, Any]
    quality: dict[str, float]
    render: dict[str, Any] = field(default_factory=dict)  # fit and background that made it
    findings: tuple[Finding, ...] = ()
    data: bytes = field(default=b"", compare=False, repr=False)

    def record(self) -> dict[str, Any]:
        """The asset record of the manifest (SPEC section 3)."""
        return {
            "path": self.path,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "phash": self.phash,
            "source": {"path": self.source.rel, "sha256": self.source.sha256},
            "encoder": dict(self.encoder),
            "quality": dict(self.quality),
            "render": dict(self.render),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropped:
    """A candidate left out of the bundle, and why."""

    source: str
    language: str
    reason: DropReason
    duplicate_of: str | None = None
    distance: int | None = None
    distances: dict[str, int] | None = None
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "language": self.language, "reason": self.reason}
        if self.duplicate_of is not None:
            out["duplicate_of"] = self.duplicate_of
            out["distance"] = self.distance
            out["distances"] = dict(self.distances or {})
        if self.message is not None:
            out["message"] = self.message
        return out

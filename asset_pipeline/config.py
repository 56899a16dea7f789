"""Presets (how to encode) and platform profiles (the portal's rules): TOML in, frozen dataclasses out.

    preset = load_preset("balanced")            # a shipped name, or a path to a .toml file
    profile = load_profile("tiktok-minis")      # presets/platforms/<name>.toml, or a path
    preset.fingerprint()                        # sha256 of the resolved settings
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from .errors import ConfigError


def presets_dir() -> Path:
    """The shipped presets: inside the wheel, or the repository's top-level folder."""
    packaged = Path(__file__).parent / "_presets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "presets"


# --- generic validation -------------------------------------------------------------------


def _choices(cls: type, name: str) -> tuple[Any, ...] | None:
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}
    got = meta.get(name, {}).get("choices")
    return tuple(got) if got is not None else None


def _check_type(value: Any, annotation: Any) -> bool:
    origin = get_origin(annotation)
    if annotation is Any:
        return True
    if origin is None:
        if annotation is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if annotation is int:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, annotation)
    if origin is tuple:
        inner = get_args(annotation)[0]
        return isinstance(value, (list, tuple)) and all(_check_type(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    # unions (X | None, int | str)
    return any(_check_type(value, arg) if arg is not type(None) else value is None for arg in get_args(annotation))


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation)).replace("typing.", "")


def build_section(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """Make `cls` from a TOML table: unknown keys get a close-match hint, types are checked."""
    if not isinstance(data, Mapping):
        msg = f"{where}: expected a table, got {type(data).__name__}"
        raise ConfigError(msg)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    resolved = _resolve_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"{where}: unknown key {key!r}{hint}"
            raise ConfigError(msg)
        annotation = resolved.get(name, hints[name])
        sub = fields[name].metadata.get("section")
        if sub is not None:
            value = build_section(sub, value, f"{where}.{key}")
        elif not _check_type(value, annotation):
            msg = (
                f"{where}: expected {_type_name(annotation)} for {key!r} "
                f"but received {value!r} of type {type(value).__name__}"
            )
            raise ConfigError(msg)
        choices = _choices(cls, name)
        if choices is not None and value not in choices:
            msg = f"{where}: expected one of {', '.join(map(str, choices))} for {key!r} but received {value!r}"
            raise ConfigError(msg)
        if isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        msg = f"{where}: {exc}"
        raise ConfigError(msg) from exc


def _resolve_hints(cls: type) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(cls)
    except Exception:  # pragma: no cover - only if an annotation cannot be resolved
        return {}


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: invalid TOML: {exc}"
        raise ConfigError(msg) from None
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes before it parses them
        msg = f"{path}: invalid TOML: not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x})"
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise ConfigError(msg) from None


def _locate(name_or_path: str | Path, folder: Path, kind: str) -> Path:
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        if candidate.is_file():
            return candidate
        msg = f"{text}: {kind} file not found"
        raise ConfigError(msg)
    shipped = folder / f"{text}.toml"
    if shipped.is_file():
        return shipped
    known = sorted(p.stem for p in folder.glob("*.toml"))
    close = difflib.get_close_matches(text, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    msg = f"{text}: unknown {kind}{hint}; known: {', '.join(known)}"
    raise ConfigError(msg)


# --- presets: how to encode ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JpegSettings:
    """JPEG encoder settings (docs/presets.md).

    `quality` is an integer 1-100, or "search": the smallest quality in
    [min_quality, max_quality] whose score meets `quality.target`.
    """

    quality: int | str = "search"
    min_quality: int = 40
    max_quality: int = 95
    subsampling: str = field(default="auto", metadata={"choices": ("auto", "4:2:0", "4:4:4")})
    # jpegli for 4:2:0 (its binding writes nothing else), libjpeg-turbo for 4:4:4 (encode/jpeg.py)
    encoder: str = field(default="jpegli", metadata={"choices": ("jpegli", "libjpeg-turbo")})
    # mozjpeg's lossless re-code of the final file; progressive/optimize are libjpeg-turbo's own
    optimizer: str = field(default="mozjpeg", metadata={"choices": ("mozjpeg", "none")})
    progressive: bool = True
    optimize: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.quality, str) and self.quality != "search":
            msg = f"jpeg.quality must be an integer 1-100 or \"search\", not {self.quality!r}"
            raise ValueError(msg)
        if isinstance(self.quality, int) and not 1 <= self.quality <= 100:
            msg = f"jpeg.quality must be within 1-100, not {self.quality}"
            raise ValueError(msg)
        if not 1 <= self.min_quality <= self.max_quality <= 100:
            msg = "jpeg: need 1 <= min_quality <= max_quality <= 100"
            raise ValueError(msg)

    @property
    def searched(self) -> bool:
        return self.quality == "search"


@dataclass(frozen=True, slots=True, kw_only=True)
class PngSettings:
    """PNG encoder settings: zlib level and strategy, palette quantization for flat art, and an
    optional lossless post-optimizer (docs/presets.md)."""

    compress_level: int = 9
    strategy: str = field(default="rle", metadata={"choices": ("default", "rle", "filtered")})
    optimize: bool = False
    palette: str = field(default="auto", metadata={"choices": ("off", "auto", "on")})
    # Pillow by default: imagequant bundles GPLv3 libimagequant, so it is an opt-in extra
    quantizer: str = field(default="pillow", metadata={"choices": ("imagequant", "pillow")})
    dither: float = 1.0
    optimizer: str = field(default="none", metadata={"choices": ("none", "oxipng")})
    optimizer_level: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.compress_level <= 9:
            msg = f"png.compress_level must be within 0-9, not {self.compress_level}"
            raise ValueError(msg)
        if not 0.0 <= self.dither <= 1.0:
            msg = f"png.dither must be within 0-1, not {self.dither}"
            raise ValueError(msg)
        if not 0 <= self.optimizer_level <= 6:
            msg = f"png.optimizer_level must be within 0-6, not {self.optimizer_level}"
            raise ValueError(msg)
        if self.quantizer == "imagequant":
            import importlib.util

            if importlib.util.find_spec("imagequant") is None:
                msg = "png.quantizer = \"imagequant\" needs the optional package: pip install 'asset-pipeline[quant]'"
                raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class QualitySettings:
    """The perceptual floor: `target` is the score (SSIM, 1.0 = identical) a searched JPEG or a
    quantized PNG must reach against the resized source."""

    metric: str = field(default="ssim", metadata={"choices": ("ssim",)})
    target: float = 0.975

    def __post_init__(self) -> None:
        if not 0.0 < self.target <= 1.0:
            msg = f"quality.target must be within (0, 1], not {self.target}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupeSettings:
    """Near-duplicate thresholds (see dedupe.py; chosen by benchmarks/dedupe_eval.py's sweep).

    `structure_threshold`: per mille, 1000 * (1 - correlation of the aligned low-frequency
    DCT); `colour_threshold`: mean CIE76 dE of the worst eighth of the 8x8 colour-layout
    cells; `flat_colour_threshold`: the same, for art that is one flat colour.
    """

    structure_threshold: int = 60
    colour_threshold: int = 10
    flat_colour_threshold: int = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSettings:
    """Resampling and input limits."""

    linear_light: bool = True
    max_pixels: int = 150_000_000
    sharpen: bool = False
    # the loader shrinks (JPEG DCT scaling, integer box reduce) while the source stays this
    # many times the target, and so does a gamma-space render's box reduce; LANCZOS does the
    # rest (1.0 fastest; docs/formats.md has the numbers)
    reducing_gap: float = 1.35

    def __post_init__(self) -> None:
        if not 1.0 <= self.reducing_gap <= 4.0:
            msg = f"render.reducing_gap must be within 1-4, not {self.reducing_gap}"
            raise ValueError(msg)
        if self.max_pixels < 1:  # else every source fails as "over the limit of -0 megapixels"
            msg = f"render.max_pixels must be a positive number of pixels, not {self.max_pixels}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class Preset:
    """A compression preset: everything that decides how an asset is encoded."""

    name: str
    description: str = ""
    format: str = field(default="auto", metadata={"choices": ("auto", "jpeg", "png")})
    quality: QualitySettings = field(default_factory=QualitySettings, metadata={"section": QualitySettings})
    jpeg: JpegSettings = field(default_factory=JpegSettings, metadata={"section": JpegSettings})
    png: PngSettings = field(default_factory=PngSettings, metadata={"section": PngSettings})
    dedupe: DedupeSettings = field(default_factory=DedupeSettings, metadata={"section": DedupeSettings})
    render: RenderSettings = field(default_factory=RenderSettings, metadata={"section": RenderSettings})

    def settings(self) -> dict[str, Any]:
        """The resolved settings, as plain JSON data (the name and description excluded)."""
        data = _jsonable(self)
        data.pop("name")
        data.pop("description")
        return data  # type: ignore[no-any-return]

    def fingerprint(self) -> str:
        """A stable hash of the resolved settings: same settings, same fingerprint."""
        canonical = json.dumps(self.settings(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_preset(name_or_path: str | Path = "balanced") -> Preset:
    """Load a shipped preset by name, or a preset file by path."""
    path = _locate(name_or_path, presets_dir(), "preset")
    data = _read_toml(path)
    data.setdefault("name", path.stem)
    return build_section(Preset, data, str(path))  # type: ignore[no-any-return]


def list_presets() -> list[Preset]:
    return [load_preset(p) for p in sorted(presets_dir().glob("*.toml"))]


# --- platform profiles: the portal's rules ------------------------------------------------

# The art checks of lint.py (issue 9) and the levels a profile's [lint] table may give them.
LINT_CODES = ("rounded_corners", "transparent_corners", "qr_code", "barcode", "blur", "upscaled", "safe_area")
# The portal forbids QR codes, not barcodes: scanning every other symbology too is opt-in, as it
# costs two thirds of the code scan (~10 % of a fast build; benchmarks/RESULTS.md, 2026-12-03)
LINT_DEFAULTS = {"barcode": "off"}


def default_level(code: str) -> str:
    """The level of an art check that a profile's table leaves out."""
    return LINT_DEFAULTS.get(code, "warning")

LINT_LEVELS = ("warning", "error", "off")
MAX_TARGET_SIDE = 8192  # a profile's asset sides; jpegli's own limit is 65535


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetRule:
    """What the portal accepts for one kind of asset."""

    width: int
    height: int
    formats: tuple[str, ...] = ("JPEG", "PNG")
    max_bytes: int = 5_000_000
    max_count: int = 1

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.max_bytes <= 0 or self.max_count <= 0:
            msg = "width, height, max_bytes and max_count must be positive"
            raise ValueError(msg)
        if max(self.width, self.height) > MAX_TARGET_SIDE:  # else found by an encoder mid-build, at gigabytes
            msg = f"width and height must be at most {MAX_TARGET_SIDE} px (store assets are a few thousand at most)"
            raise ValueError(msg)
        bad = [f for f in self.formats if f not in ("JPEG", "PNG", "BMP")]
        if bad:
            msg = f"unknown format(s) {bad}; expected JPEG, PNG or BMP"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingRules:
    """The Basic information page's rules."""

    categories: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    name_max: int | None = None
    description_max: int | None = None
    scopes_required: tuple[str, ...] = ("user.info.basic",)
    scopes_optional: tuple[str, ...] = ("user.settings.display",)
    urls_per_region: bool = False
    region_languages: dict[str, Any] = field(default_factory=dict)
    apple_team_id_pattern: str = "^[A-Z0-9]{10}$"


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A platform profile: the portal's rules as data."""

    name: str
    description: str = ""
    default_language: str = "en"
    icon: AssetRule = field(
        default_factory=lambda: AssetRule(width=1024, height=1024), metadata={"section": AssetRule}
    )
    thumbnail: AssetRule = field(
        default_factory=lambda: AssetRule(width=360, height=360, max_count=3),
        metadata={"section": AssetRule},
    )
    listing: ListingRules = field(default_factory=ListingRules, metadata={"section": ListingRules})
    lint: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for code, level in self.lint.items():
            if code not in LINT_CODES:
                close = difflib.get_close_matches(code, LINT_CODES, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                msg = f"lint: unknown check {code!r}{hint}; known: {', '.join(LINT_CODES)}"
                raise ValueError(msg)
            if level not in LINT_LEVELS:
                msg = f"lint: expected one of {', '.join(LINT_LEVELS)} for {code!r} but received {level!r}"
                raise ValueError(msg)

    def rules(self) -> dict[str, Any]:
        data = _jsonable(self)
        data.pop("name")
        data.pop("description")
        return data  # type: ignore[no-any-return]

    def rule_for(self, role: str) -> AssetRule:
        return self.icon if role == "icon" else self.thumbnail

    def lint_levels(self) -> tuple[tuple[str, str], ...]:
        """Every art check with its level, sorted and hashable (a check the table omits has its
        default: `default_level`)."""
        return tuple(sorted((code, str(self.lint.get(code, default_level(code)))) for code in LINT_CODES))


def load_profile(name_or_path: str | Path = "tiktok-minis") -> Profile:
    """Load a shipped platform profile by name, or a profile file by path."""
    path = _locate(name_or_path, presets_dir() / "platforms", "platform profile")
    data = _read_toml(path)
    data.setdefault("name", path.stem)
    return build_section(Profile, data, str(path))  # type: ignore[no-any-return]


def list_profiles() -> list[Profile]:
    return [load_profile(p) for p in sorted((presets_dir() / "platforms").glob("*.toml"))]


def parse_color(text: str, where: str) -> tuple[int, int, int]:
    """'#rrggbb' or '#rgb' to an RGB tuple."""
    value = text.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    try:
        if len(value) != 6:
            raise ValueError
        rgb = tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        msg = f"{where}: expected a colour like '#ffffff' but received {text!r}"
        raise ConfigError(msg) from None
    return rgb  # type: ignore[return-value]

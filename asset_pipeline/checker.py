"""Validate a bundle (rules, manifest schema, hashes) or loose files, independently of how they were made."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from . import manifest as mf
from .config import Profile, load_profile
from .errors import BundleError, ConfigError
from .records import Finding

MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"BM": "BMP"}
EXTENSIONS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",), "BMP": (".bmp",)}
EXTRA_OK = {"manifest.json", "report.html"}


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """Problems (rule failures, one line each, naming the file) and what was checked."""

    problems: tuple[str, ...]
    checked: tuple[str, ...] = ()
    profile: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def return_code(self) -> int:
        return 1 if self.problems else 0


def sniff_format(data: bytes) -> str | None:
    for magic, fmt in MAGIC.items():
        if data.startswith(magic):
            return fmt
    return None


def check_image_bytes(name: str, data: bytes, role: str, profile: Profile) -> list[str]:
    """Every rule a single uploaded file must meet, one problem line each."""
    rule = profile.rule_for(role)
    problems: list[str] = []
    fmt = sniff_format(data)
    if fmt is None:
        return [f"{name}: not a JPEG, PNG or BMP file (by its bytes)"]
    suffix = Path(name).suffix.lower()
    if suffix not in EXTENSIONS[fmt]:
        problems.append(f"{name}: extension {suffix or '(none)'} does not match its {fmt} bytes")
    if fmt not in rule.formats:
        problems.append(f"{name}: {fmt} is not allowed for the {role} ({', '.join(rule.formats)})")
    if len(data) > rule.max_bytes:
        problems.append(f"{name}: {len(data):,} bytes, over the {role} cap of {rule.max_bytes:,}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                size = im.size
                im.load()
    except Exception as exc:
        problems.append(f"{name}: does not decode ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})")
        return problems
    if size != (rule.width, rule.height):
        problems.append(f"{name}: {size[0]}x{size[1]}, the {role} must be exactly {rule.width}x{rule.height}")
    return problems


def _language_of(path: Path) -> str:
    """The language a loose thumbnail belongs to: its folder's name when that is a language tag."""
    from . import languages

    name = path.parent.name
    return languages.canonical(name) if name and languages.is_well_formed(name) and languages.portal_name(name) else "(loose files)"


def check_files(icons: list[Path], thumbnails: list[Path], *, platform: str | Path = "tiktok-minis") -> CheckResult:
    """Loose files, each with its role; thumbnails in a `<lang>/` folder are counted per language."""
    from .lint import lint_file

    profile = load_profile(platform)
    problems: list[str] = []
    checked = []
    findings: list[Finding] = []
    for role, paths in (("icon", icons), ("thumbnail", thumbnails)):
        for p in paths:
            checked.append(str(p))
            try:
                data = p.read_bytes()
            except OSError as exc:
                problems.append(f"{p}: cannot read: {exc.strerror or exc}")
                continue
            problems.extend(check_image_bytes(str(p), data, role, profile))
            findings.extend(lint_file(p, role, profile))  # the build's art lint (issue 9)
    limit = profile.thumbnail.max_count
    per_language: dict[str, int] = {}
    for p in thumbnails:
        lang = _language_of(p)
        per_language[lang] = per_language.get(lang, 0) + 1
    for lang, count in sorted(per_language.items()):
        if count > limit:
            problems.append(f"{lang}: {count} thumbnails given; the portal takes at most {limit} per language")
    problems.extend(f"{f.source}: {f.message} [{f.code}]" for f in findings if f.level == "error")
    warnings = [f.as_json() for f in findings if f.level != "error"]
    return CheckResult(problems=tuple(problems), checked=tuple(checked), profile=profile.name, details={"warnings": warnings})


def role_of(path: Path) -> str:
    """icon.* and icons/<lang>.* are icons; every other loose file is a thumbnail."""
    return "icon" if path.stem.lower() == "icon" or path.parent.name.lower() == "icons" else "thumbnail"


def check_targets(targets: list[Path], icons: list[Path], thumbnails: list[Path], *,
                  platform: str | Path | None = None) -> CheckResult:
    """`check BUNDLE` or `check FILE...` (roles from --icon/--thumbnail, else from the names)."""
    if not targets and not icons and not thumbnails:
        msg = "check: give a BUNDLE folder, or image files (FILE... or --icon/--thumbnail)"
        raise ConfigError(msg)
    if len(targets) == 1 and targets[0].is_dir() and not icons and not thumbnails:
        return check_bundle(targets[0], platform=platform)
    folders = [t for t in targets if t.is_dir()]
    if folders:
        msg = f"{folders[0]}: a folder; check one BUNDLE folder on its own, or image files"
        raise ConfigError(msg)
    for t in targets:
        (icons if role_of(t) == "icon" else thumbnails).append(t)
    return check_files(icons, thumbnails, platform=platform or "tiktok-minis")


def check_bundle(bundle: Path, *, platform: str | Path | None = None) -> CheckResult:
    """A bundle is good when its manifest is valid, every file matches its record, and every rule holds."""
    try:
        data = mf.read(bundle)
    except BundleError as exc:
        return CheckResult(problems=tuple(exc.problems) or (str(exc),))
    profile = load_profile(platform or data["platform"]["name"])
    problems: list[str] = []
    checked: list[str] = []
    listed: set[str] = set()

    def check_record(rec: dict[str, Any], role: str) -> None:
        rel = rec["path"]
        if rel in listed:
            return
        listed.add(rel)
        checked.append(rel)
        path = bundle / rel
        try:
            blob = path.read_bytes()
        except OSError:
            problems.append(f"{rel}: listed in the manifest but missing")
            return
        if hashlib.sha256(blob).hexdigest() != rec["sha256"]:
            problems.append(f"{rel}: sha256 does not match the manifest")
        if len(blob) != rec["bytes"]:
            problems.append(f"{rel}: {len(blob):,} bytes, the manifest says {rec['bytes']:,}")
        if sniff_format(blob) != rec["format"]:
            problems.append(f"{rel}: the manifest says {rec['format']}, the bytes are {sniff_format(blob) or 'unknown'}")
        problems.extend(check_image_bytes(rel, blob, role, profile))

    check_record(data["icon"], "icon")
    limit = profile.thumbnail.max_count
    for lang, entry in sorted(data["languages"].items()):
        if entry.get("icon"):
            check_record(entry["icon"], "icon")
        thumbs = entry["thumbnails"]
        if len(thumbs) > limit:
            problems.append(f"languages/{lang}: {len(thumbs)} thumbnails, the portal takes at most {limit}")
        for rec in thumbs:
            check_record(rec, "thumbnail")
        if entry["inherited_from"] is None and lang != profile.default_language:
            own = [r for r in thumbs if not r["path"].startswith(f"thumbnails/{lang}/")]
            if own:
                problems.append(f"languages/{lang}: lists thumbnails of another language without inherited_from")
    if profile.default_language not in data["languages"]:
        problems.append(f"manifest.json: the default language {profile.default_language!r} is missing")
    problems.extend(_listing_problems(data, profile))
    for p in sorted(bundle.rglob("*")):
        rel = p.relative_to(bundle).as_posix()
        if p.is_file() and rel not in listed and rel not in EXTRA_OK:
            problems.append(f"{rel}: in the bundle but not in the manifest")
    return CheckResult(problems=tuple(problems), checked=tuple(checked), profile=profile.name)


def _listing_problems(data: dict[str, Any], profile: Profile) -> list[str]:
    """The manifest's listing, checked again against the profile the bundle is checked with."""
    from .listing import check_listing

    listing = data.get("listing")
    if listing is None:
        return []
    raw = {k: v for k, v in listing.items() if k != "languages" and v is not None}  # "languages" is derived
    result = check_listing(raw, profile, sorted(data["languages"], key=lambda t: (t != "en", t)))
    return [f"manifest.json: {e}" for e in result.errors]

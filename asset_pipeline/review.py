"""What a review of a bundle shows, read from its manifest for the HTML page and the contact sheet.

Everything here is derived from manifest.json alone, except source previews of dropped
candidates: those are not in the bundle, so they come from the source project when it is at hand.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Pillow is imported where pixels are made: a no-change rebuild makes none
    from PIL import Image

SMALL_SIZES = (48, 96, 192)  # what a phone's app list and share sheet draw the icon at
PREVIEW_SIDE = 160  # dropped candidates: a small picture, embedded, to keep the page light
MAX_PREVIEWS = 60  # past this many dropped candidates, placeholders keep the page a sane size
CHECKER = ((236, 236, 236), (204, 204, 204))  # shows transparency in flattened previews


@dataclass(frozen=True, slots=True, kw_only=True)
class LanguageView:
    """One language as the portal shows it: icon, thumbnails, what it inherits, what was dropped."""

    tag: str
    name: str
    icon: Mapping[str, Any]
    icon_inherited_from: str | None
    thumbnails: tuple[Mapping[str, Any], ...]
    inherited_from: str | None
    dropped: tuple[Mapping[str, Any], ...]

    def slot_of(self, source: str) -> tuple[int, Mapping[str, Any]] | None:
        """The slot (1-based) and record of the kept thumbnail made from `source`."""
        for i, rec in enumerate(self.thumbnails, 1):
            if rec["source"]["path"] == source:
                return i, rec
        return None


def language_views(manifest: Mapping[str, Any]) -> list[LanguageView]:
    """Languages in review order: the default (en) first, then the rest as the manifest has them."""
    langs: Mapping[str, Any] = manifest.get("languages", {})
    default = manifest.get("platform", {}).get("rules", {}).get("default_language", "en")
    order = sorted(langs, key=lambda t: (t != default, t))
    views = []
    for tag in order:
        entry = langs[tag]
        own_icon = entry.get("icon")
        views.append(
            LanguageView(
                tag=tag,
                name=entry.get("name") or tag,
                icon=own_icon if own_icon else manifest["icon"],
                icon_inherited_from=None
                if own_icon or tag == default
                else (entry.get("icon_inherited_from") or default),
                thumbnails=tuple(entry.get("thumbnails", ())),
                inherited_from=entry.get("inherited_from"),
                dropped=tuple(d for d in manifest.get("dropped", ()) if d.get("language") == tag),
            )
        )
    return views


def byte_cap(manifest: Mapping[str, Any], role: str) -> int | None:
    """The byte budget an asset of `role` was built under (the profile's cap, or --max-bytes)."""
    rule = manifest.get("platform", {}).get("rules", {}).get(role, {})
    caps = [c for c in (rule.get("max_bytes"), manifest.get("max_bytes")) if isinstance(c, int)]
    return min(caps) if caps else None


def project_matches(project: Path, manifest: Mapping[str, Any]) -> bool:
    """True when `project` holds the icon source this bundle was built from (same bytes)."""
    src = manifest.get("icon", {}).get("source", {})
    path = _inside(project, str(src.get("path", "")))
    if path is None or not path.is_file():
        return False
    return hashlib.sha256(path.read_bytes()).hexdigest() == str(src.get("sha256"))


def _inside(root: Path, rel: str) -> Path | None:
    """`root/rel`, or None when a manifest path would lead outside the project."""
    if not rel:
        return None
    path = root / rel
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            return None
    except OSError:
        return None
    return path


def checkerboard(size: tuple[int, int], *, cell: int = 8) -> Image.Image:
    from PIL import Image

    board = Image.new("RGB", size, CHECKER[0])
    dark = Image.new("RGB", (cell, cell), CHECKER[1])
    for y in range(0, size[1], cell):
        for x in range((y // cell) % 2 * cell, size[0], cell * 2):
            board.paste(dark, (x, y))
    return board


def over_checker(im: Image.Image) -> Image.Image:
    """RGB for display: transparent parts drawn over a checkerboard, like image editors do."""
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    board = checkerboard(rgba.size)
    board.paste(rgba, mask=rgba.getchannel("A"))
    return board


def source_preview(project: Path, rel: str, *, side: int = PREVIEW_SIDE) -> Image.Image | None:
    """An upright sRGB preview of a project source, at most `side` px; None if unreadable."""
    from .errors import AssetError
    from .load import load_image
    from .records import SourceFile

    path = _inside(project, rel)
    if path is None or not path.is_file():
        return None
    # hashes are not needed to decode; the loader only reads `path` and names `rel` in errors
    source = SourceFile(path=path, rel=rel, sha256="", size=0)
    try:
        loaded = load_image(source, shrink_to=("long", side * 2))
    except AssetError:
        return None
    from PIL import Image

    im = loaded.image
    w, h = im.size
    # ImageOps.contain's sizes, but never 0 px: it made a 20000x8 strip 0 px high and the
    # report's JPEG encoder then failed the whole build
    if w > h:
        size = (side, max(1, round(h / w * side)))
    elif h > w:
        size = (max(1, round(w / h * side)), side)
    else:
        size = (side, side)
    return over_checker(im.resize(size, Image.Resampling.LANCZOS))


def cached_preview_jpeg(project: Path, rel: str, *, cache_root: str | None, side: int = PREVIEW_SIDE) -> bytes | None:
    """`preview_jpeg(source_preview(...))`, kept in the content-addressed cache when there is one."""
    from .cache import Cache, make_key
    from .project import hash_file

    path = _inside(project, rel)
    if path is None or not path.is_file():
        return None
    cache = Cache(Path(cache_root) if cache_root else None)
    try:
        key = make_key("preview", sha256=hash_file(path)[0], side=side)
    except OSError:
        return None
    hit = cache.get(key)
    if hit is not None and hit[1] is not None:
        return hit[1]
    im = source_preview(project, rel, side=side)
    if im is None:
        return None
    data = preview_jpeg(im)
    cache.put(key, {}, data)
    return data


def preview_jpeg(im: Image.Image) -> bytes:
    """Fixed settings, no metadata: the same preview gives the same bytes."""
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=82, optimize=True)
    return buf.getvalue()


def describe_encoder(settings: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Encoder settings flattened to (name, value) pairs, nested keys joined with dots."""
    out: list[tuple[str, str]] = []
    for key in sorted(settings):
        value = settings[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(describe_encoder(value, prefix=f"{name}."))
        elif isinstance(value, bool):
            out.append((name, "yes" if value else "no"))
        else:
            out.append((name, str(value)))
    return out

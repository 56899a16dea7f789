"""Independent checks of a bundle: Pillow and raw bytes only, nothing from asset_pipeline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PIL import Image

from conftest import validate_manifest

MAGIC = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}
EXT = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


def verify_bundle(out: Path, *, icon: int = 1024, thumb: int = 360, cap: int = 5_000_000, per_language: int = 3) -> dict:
    """Assert every portal rule on the files of `out`; return the manifest."""
    manifest = json.loads((out / "manifest.json").read_text())
    validate_manifest(manifest)
    files = [p for p in out.rglob("*") if p.is_file() and p.name not in ("manifest.json", "report.html")]
    assert files, "bundle holds no images"
    for p in files:
        data = p.read_bytes()
        fmt = EXT[p.suffix.lower()]
        assert data.startswith(MAGIC[fmt]), f"{p}: bytes are not {fmt}"
        assert 0 < len(data) <= cap, f"{p}: {len(data)} bytes over cap {cap}"
        with Image.open(p) as im:
            im.load()
            side = icon if p.parent == out or p.parent.name == "icons" else thumb
            assert im.size == (side, side), f"{p}: {im.size}"
            assert im.format == fmt
            assert "exif" not in im.info and "icc_profile" not in im.info and "comment" not in im.info
    thumbs_root = out / "thumbnails"
    if thumbs_root.exists():
        for lang_dir in thumbs_root.iterdir():
            n = len(list(lang_dir.iterdir()))
            assert 1 <= n <= per_language, f"{lang_dir.name}: {n} thumbnails"
    # every record matches its file
    records = [manifest["icon"]] + [t for v in manifest["languages"].values() for t in v["thumbnails"]]
    for rec in records:
        blob = (out / rec["path"]).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == rec["sha256"]
        assert len(blob) == rec["bytes"]
    return manifest

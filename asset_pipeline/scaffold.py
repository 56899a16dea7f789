"""`asset-pipeline init`: a source project skeleton an artist can fill in."""

from __future__ import annotations

from pathlib import Path

from .bundle import refuse_under_a_file
from .errors import ConfigError, OutputError

ASSETS_TOML = '''# asset-pipeline project settings. Everything here is optional: by convention the icon is
# icon.<ext> and thumbnails are thumbnails/<language>/*.
preset = "balanced"            # see `asset-pipeline presets`
platform = "tiktok-minis"      # or "tiktok-minis-2026" for the newer portal pages

[icon]
fit = "cover"                  # cover | contain | attention
background = "#ffffff"         # for contain padding and JPEG alpha flattening

[listing]
name = "My Game"
category = "Puzzle"
description = "One sentence about the game."
regions = ["US"]
apple_team_id = "ABCDE12345"
email = "support@example.com"
scopes = ["user.info.basic"]

[listing.urls.en]
terms = "https://example.com/terms"
privacy = "https://example.com/privacy"
'''


def scaffold(directory: Path) -> list[str]:
    """Create assets.toml and thumbnails/en/ (never overwriting anything)."""
    if directory.exists() and not directory.is_dir():
        msg = f"{directory}: exists and is not a folder"
        raise ConfigError(msg)
    refuse_under_a_file(directory)
    made = []
    toml = directory / "assets.toml"
    try:
        (directory / "thumbnails" / "en").mkdir(parents=True, exist_ok=True)
        made.append(f"{directory / 'thumbnails' / 'en'}/: put up to 3 English thumbnails here (any size; 360x360 is made)")
        if toml.exists():
            made.append(f"{toml}: exists, left alone")
        else:
            toml.write_text(ASSETS_TOML, encoding="utf-8")
            made.append(f"{toml}: written")
    except OSError as exc:
        msg = f"{directory}: cannot write the project scaffold: {exc.strerror or exc}"
        raise OutputError(msg) from None
    made.append(f"{directory}/icon.png: add your icon art (at least 1024x1024), then run `asset-pipeline build {directory}`")
    return made

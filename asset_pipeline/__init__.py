"""asset-pipeline: source art in, TikTok Mini Game store assets and a manifest that proves the rules out.

    from asset_pipeline import build, load_preset
    result = build("my-game", out="my-game/dist", preset="balanced")
    result.return_code, result.manifest["icon"]["bytes"]

Names are imported on first use, so `import asset_pipeline` (and the CLI's --help) stays fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.1.0"

# a library's records go where its caller's logging sends them; none configured (the CLI's in-
# process jobs, a script), they must not reach stderr through logging's last-resort handler
logging.getLogger(__name__).addHandler(logging.NullHandler())

_EXPORTS = {
    "AssetError": "errors",
    "AssetPipelineError": "errors",
    "BuildFailed": "errors",
    "BuildResult": "pipeline",
    "ConfigError": "errors",
    "Preset": "config",
    "Profile": "config",
    "build": "pipeline",
    "check_bundle": "checker",
    "check_files": "checker",
    "discover": "project",
    "load_image": "load",
    "load_preset": "config",
    "load_profile": "config",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'asset_pipeline' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f".{module}", __name__), name)

"""asset-pipeline: source art in, TikTok Mini Game store assets and a manifest that proves the rules out."""

from __future__ import annotations

__version__ = "0.1.0"

"""Codec registry: the portal's format name -> codec. Explicit, no import magic."""

from __future__ import annotations

from .base import Codec
from .jpeg import JpegCodec
from .png import PngCodec

CODECS: dict[str, Codec] = {"JPEG": JpegCodec(), "PNG": PngCodec()}

__all__ = ["CODECS", "Codec", "JpegCodec", "PngCodec"]

"""What every codec offers: a name, a file extension, and bytes from pixels."""

from __future__ import annotations

from typing import Any, Protocol

from PIL import Image


class Codec(Protocol):
    # the portal's name for the format, as the manifest records it
    name: str
    # the file extension that matches the bytes
    extension: str

    # encode RGB (or RGBA, where the format keeps alpha) pixels with the given settings
    def encode(self, image: Image.Image, **settings: Any) -> bytes: ...

"""JPEG through Pillow's libjpeg-turbo. Quality is libjpeg's 1-100 scale (95+ wastes bytes)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


class JpegCodec:
    name = "JPEG"
    extension = "jpg"

    def encode(self, image: Image.Image, **settings: Any) -> bytes:
        if image.mode != "RGB":
            image = image.convert("RGB")
        buf = io.BytesIO()
        image.save(
            buf,
            "JPEG",
            quality=int(settings.get("quality", 85)),
            subsampling=SUBSAMPLING[settings.get("subsampling", "4:2:0")],
            progressive=bool(settings.get("progressive", True)),
            optimize=bool(settings.get("optimize", True)),
        )
        return buf.getvalue()

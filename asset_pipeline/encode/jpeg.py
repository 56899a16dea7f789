"""JPEG through jpegli or Pillow's libjpeg-turbo, optionally re-coded by mozjpeg's lossless optimizer.

Quality is libjpeg's 1-100 scale for both encoders (jpegli maps it onto its own distance). At
an equal SSIM, jpegli followed by mozjpeg-lossless-optimization is 0.82 of a plain Pillow q90
file's bytes at 1024 px and 0.88 at 360 on the project's corpus, libjpeg-turbo progressive
0.95 (benchmarks/eval_jpeg_equal_quality.py): jpegli's adaptive quantization spends bits where
they show, and mozjpeg re-codes the coefficients losslessly (progressive scans and Huffman
tables it searches for), so the file decodes to exactly the pixels jpegli wrote and a
quality search can score the quick jpegli encode. The Python binding of jpegli writes 4:2:0
only, so 4:4:4 is libjpeg-turbo's.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
ENCODERS = ("jpegli", "libjpeg-turbo")
OPTIMIZERS = ("none", "mozjpeg")


def encoder_for(encoder: str, subsampling: str) -> str:
    """The encoder that writes `subsampling`: jpegli's binding has 4:2:0 only."""
    return encoder if subsampling == "4:2:0" else "libjpeg-turbo"


def _turbo(image: Image.Image, quality: int, subsampling: str, *, progressive: bool, optimize: bool) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, subsampling=SUBSAMPLING[subsampling], progressive=progressive, optimize=optimize)
    return buf.getvalue()


def probe(image: Image.Image, quality: int, subsampling: str, encoder: str) -> bytes:
    """The cheapest encode with the pixels `final` writes: what a quality search scores."""
    if encoder_for(encoder, subsampling) == "jpegli":
        import pyjpegli

        return bytes(pyjpegli.encode(image.tobytes(), image.width, image.height, quality=quality))
    return _turbo(image, quality, subsampling, progressive=False, optimize=False)


def lossless(data: bytes) -> bytes:
    """mozjpeg's lossless re-code of a JPEG (metadata dropped); the input when it cannot."""
    import mozjpeg_lossless_optimization

    try:
        out = bytes(mozjpeg_lossless_optimization.optimize(data))
    except ValueError:
        return data
    return out if len(out) < len(data) else data


def final(image: Image.Image, quality: int, subsampling: str, *, encoder: str, optimizer: str, progressive: bool,
          optimize: bool) -> bytes:
    """The file to ship. libjpeg-turbo's progressive/optimize may overflow Pillow's buffer on noise
    (OSError): callers fall back to `probe`, which streams."""
    if optimizer == "mozjpeg":
        return lossless(probe(image, quality, subsampling, encoder))
    if encoder_for(encoder, subsampling) == "jpegli":
        return probe(image, quality, subsampling, encoder)
    return _turbo(image, quality, subsampling, progressive=progressive, optimize=optimize)


class JpegCodec:
    name = "JPEG"
    extension = "jpg"

    def encode(self, image: Image.Image, **settings: Any) -> bytes:
        if image.mode != "RGB":
            image = image.convert("RGB")
        return final(
            image, int(settings.get("quality", 85)), settings.get("subsampling", "4:2:0"),
            encoder=settings.get("encoder", "libjpeg-turbo"), optimizer=settings.get("optimizer", "none"),
            progressive=bool(settings.get("progressive", True)), optimize=bool(settings.get("optimize", True)),
        )

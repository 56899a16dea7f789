"""The loader on real files of every format and mode docs/formats.md lists, and on bad input.

Every file is written here by Pillow or byte by byte (rawimages.py, iccgen.py), or shipped in
tests/data/ with the command that made it; `FORMAT_CASES` is the table of docs/formats.md,
and a test checks the two agree.
"""

from __future__ import annotations

import ctypes
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import iccgen
import numpy as np
import pytest
import rawimages
from PIL import Image

from asset_pipeline import load as load_mod
from asset_pipeline.errors import AssetError, ImageTooLarge, UnreadableImage
from asset_pipeline.load import LoadedImage, PackedRGB, as_image, load_image
from asset_pipeline.records import SourceFile

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
W, H = 48, 32
A, B = (200, 40, 40), (40, 80, 200)  # left half, right half
GA, GB = 60, 190


def source(tmp_path: Path, name: str, data: bytes) -> SourceFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return SourceFile(path=path, rel=name, sha256="0" * 64, size=len(data))


def two_tone(mode: str = "RGB", left: tuple[int, ...] | int = A, right: tuple[int, ...] | int = B) -> Image.Image:
    im = Image.new(mode, (W, H), left)  # type: ignore[arg-type]
    im.paste(right, (W // 2, 0, W, H))  # type: ignore[arg-type]
    return im


def encoded(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def two_tone_array(left: tuple[int, ...], right: tuple[int, ...], dtype: type = np.uint8) -> np.ndarray:
    arr = np.empty((H, W, len(left)), dtype)
    arr[:, : W // 2] = left
    arr[:, W // 2 :] = right
    return arr


def palette_image(transparent_right: bool) -> Image.Image:
    im = Image.new("P", (W, H), 0)
    im.putpalette([*A, *B] + [0] * (256 * 3 - 6))
    im.paste(1, (W // 2, 0, W, H))
    if transparent_right:
        im.info["transparency"] = 1
    return im


def animated(fmt: str) -> bytes:
    frames = [two_tone(), two_tone(left=(0, 255, 0), right=(255, 255, 0))]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **({"lossless": True} if fmt == "WEBP" else {}))


def cmyk_jpeg(icc: bytes | None = None) -> bytes:
    im = two_tone("CMYK", (0, 255, 255, 0), (255, 255, 0, 0))  # red ink mix | blue ink mix
    return encoded(im, "JPEG", quality=100, **({"icc_profile": icc} if icc else {}))


def lab_tiff() -> bytes:
    # L*a*b* as Pillow stores it: L 0-255 for 0-100, a/b offset by 128
    return encoded(two_tone("LAB", (128, 128, 128), (200, 128, 128)), "TIFF")


@dataclass(frozen=True)
class Case:
    """One row of docs/formats.md: a real file, and what the loader must make of it."""

    id: str
    name: str  # file name, extension included
    make: Callable[[], bytes]
    left: tuple[int, ...]  # expected RGB(A) at the left and right halves
    right: tuple[int, ...]
    tol: int = 0
    fmt: str | None = None
    findings: tuple[str, ...] = ()


def grey(v: int) -> tuple[int, int, int]:
    return (v, v, v)


FORMAT_CASES = [
    Case("png-rgb8", "a.png", lambda: encoded(two_tone(), "PNG"), A, B, fmt="PNG"),
    Case("png-rgba8", "a.png", lambda: encoded(two_tone("RGBA", (*A, 255), (*B, 100)), "PNG"), (*A, 255), (*B, 100), fmt="PNG"),
    Case("png-rgba8-opaque", "a.png", lambda: encoded(two_tone("RGBA", (*A, 255), (*B, 255)), "PNG"), A, B),
    Case("png-rgb16", "a.png", lambda: rawimages.png_bytes(two_tone_array(tuple(v * 257 + 200 for v in A), tuple(v * 257 for v in B), np.uint16)), A, B, tol=1),
    Case("png-rgba16", "a.png", lambda: rawimages.png_bytes(two_tone_array((*(v * 257 for v in A), 65535), (*(v * 257 for v in B), 100 * 257), np.uint16)), (*A, 255), (*B, 100), tol=1),
    Case("png-grey8", "a.png", lambda: encoded(two_tone("L", GA, GB), "PNG"), grey(GA), grey(GB)),
    # 16-bit grey opens as I;16: scaled by 255/65535 (a plain convert("L") would clip 1000 to 255)
    Case("png-grey16", "a.png", lambda: rawimages.png_bytes(two_tone_array((1000,), (60000,), np.uint16)[..., 0]), grey(4), grey(233)),
    Case("png-grey-alpha8", "a.png", lambda: encoded(two_tone("LA", (GA, 255), (GB, 30)), "PNG"), (*grey(GA), 255), (*grey(GB), 30)),
    Case("png-grey-alpha16", "a.png", lambda: rawimages.png_bytes(two_tone_array((GA * 257, 65535), (GB * 257, 30 * 257), np.uint16)), (*grey(GA), 255), (*grey(GB), 30), tol=1),
    Case("png-palette", "a.png", lambda: encoded(palette_image(False), "PNG"), A, B),
    Case("png-palette-trns", "a.png", lambda: encoded(palette_image(True), "PNG", transparency=1), (*A, 255), (*B, 0)),
    Case("png-rgb-trns-key", "a.png", lambda: encoded(two_tone(), "PNG", transparency=B), (*A, 255), (*B, 0)),
    Case("png-grey-trns-key", "a.png", lambda: encoded(two_tone("L", GA, GB), "PNG", transparency=GB), (*grey(GA), 255), (*grey(GB), 0)),
    Case("png-interlaced", "a.png", lambda: rawimages.png_bytes(two_tone_array(A, B), interlace=True), A, B),
    Case("png-bilevel", "a.png", lambda: encoded(two_tone("1", 0, 1), "PNG"), grey(0), grey(255)),
    Case("jpeg-baseline", "a.jpg", lambda: encoded(two_tone(), "JPEG", quality=95), A, B, tol=6, fmt="JPEG"),
    Case("jpeg-progressive", "a.jpg", lambda: encoded(two_tone(), "JPEG", quality=95, progressive=True), A, B, tol=6),
    Case("jpeg-grey", "a.jpg", lambda: encoded(two_tone("L", GA, GB), "JPEG", quality=95), grey(GA), grey(GB), tol=3),
    # Pillow writes CMYK JPEGs Photoshop's way: Adobe APP14 marker, inverted samples
    Case("jpeg-cmyk-adobe", "a.jpg", cmyk_jpeg, (255, 0, 0), (0, 0, 255), tol=3, findings=("cmyk_no_profile",)),
    Case("jpeg-cmyk-profile", "a.jpg", lambda: cmyk_jpeg(iccgen.cmyk_inks()), tuple(round(v) for v in iccgen.ink_corner(0, 1, 1, 0)), tuple(round(v) for v in iccgen.ink_corner(1, 1, 0, 0)), tol=3, findings=("icc_converted",)),
    Case("webp-lossy", "a.webp", lambda: encoded(two_tone(), "WEBP", quality=95), A, B, tol=10, fmt="WEBP"),
    Case("webp-lossless-alpha", "a.webp", lambda: encoded(two_tone("RGBA", (*A, 255), (*B, 100)), "WEBP", lossless=True), (*A, 255), (*B, 100)),
    Case("webp-animated", "a.webp", lambda: animated("WEBP"), A, B, findings=("animated",)),
    Case("avif", "a.avif", lambda: encoded(two_tone(), "AVIF", quality=95), A, B, tol=12, fmt="AVIF"),
    Case("tiff-rgb-lzw", "a.tif", lambda: encoded(two_tone(), "TIFF", compression="tiff_lzw"), A, B, fmt="TIFF"),
    Case("tiff-cmyk", "a.tif", lambda: encoded(two_tone("CMYK", (0, 255, 255, 0), (255, 255, 0, 0)), "TIFF"), (255, 0, 0), (0, 0, 255), findings=("cmyk_no_profile",)),
    Case("tiff-grey16", "a.tif", lambda: encoded(Image.fromarray(two_tone_array((1000,), (60000,), np.uint16)[..., 0]), "TIFF"), grey(4), grey(233)),
    # 32-bit integer: values above 255 are taken as 16-bit samples
    Case("tiff-int32", "a.tif", lambda: encoded(Image.fromarray(two_tone_array((1000,), (60000,), np.int32)[..., 0]), "TIFF"), grey(4), grey(233)),
    # 32-bit float: values within 0-1 are scaled to 0-255
    Case("tiff-float32", "a.tif", lambda: encoded(Image.fromarray(two_tone_array((0.25,), (0.75,), np.float32)[..., 0]), "TIFF"), grey(64), grey(191)),
    Case("tiff-lab", "a.tif", lab_tiff, grey(119), grey(195), tol=2),
    Case("tiff-multipage", "a.tif", lambda: encoded(two_tone(), "TIFF", save_all=True, append_images=[two_tone(left=B, right=A)]), A, B, findings=("multipage",)),
    Case("bmp-rgb24", "a.bmp", lambda: encoded(two_tone(), "BMP"), A, B, fmt="BMP"),
    Case("bmp-palette8", "a.bmp", lambda: encoded(palette_image(False), "BMP"), A, B),
    Case("bmp-bilevel", "a.bmp", lambda: encoded(two_tone("1", 0, 1), "BMP"), grey(0), grey(255)),
    Case("bmp-rgba32-v4", "a.bmp", lambda: rawimages.bmp_v4_rgba(two_tone_array((*A, 255), (*B, 100))), (*A, 255), (*B, 100)),
    Case("gif-transparent", "a.gif", lambda: encoded(palette_image(True), "GIF", transparency=1), (*A, 255), (*B, 0), fmt="GIF"),
    Case("gif-animated", "a.gif", lambda: animated("GIF"), A, B, findings=("animated",)),
    Case("psd-rgb", "a.psd", lambda: rawimages.psd_bytes(two_tone_array(A, B), rle=False), A, B, fmt="PSD"),
    # the composite is read, not the (red) layer
    Case("psd-rgba-layered-rle", "a.psd", lambda: rawimages.psd_bytes(two_tone_array((*A, 255), (*B, 100)), layer=two_tone_array((255, 0, 0, 255), (255, 0, 0, 255))), (*A, 255), (*B, 100)),
]

MODE_OF = {  # what Pillow opens each case as: the "any mode" column of the table
    "png-rgb8": "RGB", "png-rgba8": "RGBA", "png-grey16": "I;16", "png-grey8": "L", "png-grey-alpha8": "LA",
    "png-palette": "P", "png-bilevel": "1", "jpeg-cmyk-adobe": "CMYK", "tiff-grey16": "I;16", "tiff-int32": "I",
    "tiff-float32": "F", "tiff-lab": "LAB", "png-rgb16": "RGB", "png-grey-alpha16": "RGBA",
}


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda c: c.id)
def test_every_format_and_mode_loads_as_8bit_srgb(case: Case, tmp_path: Path) -> None:
    src = source(tmp_path, case.name, case.make())
    if case.id in MODE_OF:  # the file really is in the mode the table claims
        with Image.open(src.path) as raw:
            assert raw.mode == MODE_OF[case.id]
    loaded = load_image(src)
    im = loaded.image
    assert im.mode == ("RGBA" if len(case.left) == 4 else "RGB")
    assert loaded.has_alpha == (len(case.left) == 4)
    assert im.size == (W, H) and (loaded.width, loaded.height) == (W, H)
    if case.fmt:
        assert loaded.format == case.fmt
    for x, want in ((W // 4, case.left), (3 * W // 4, case.right)):
        got = im.getpixel((x, H // 2))
        assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= case.tol, (x, got, want)  # type: ignore[arg-type]
    assert {f.code for f in loaded.findings} == set(case.findings)
    assert im.info == {}  # no metadata travels on


def test_docs_table_lists_every_case() -> None:
    doc = (REPO / "docs" / "formats.md").read_text()
    missing = [c.id for c in FORMAT_CASES if f"`{c.id}`" not in doc]
    assert not missing, f"docs/formats.md does not list {missing}"


def test_imagemagick_ycck_cmyk_jpeg_is_not_inverted() -> None:
    """A CMYK JPEG from another writer: ImageMagick 6.9, Adobe APP14 with transform 2 (YCCK).

    Made with: convert -size 8x8 xc:"cmyk(255,0,0,0)" xc:"cmyk(0,255,0,0)" xc:"cmyk(0,0,255,0)"
    xc:"cmyk(0,0,0,255)" +append -quality 100 -sampling-factor 1x1 cmyk_ycck_adobe_imagemagick.jpg
    """
    path = DATA / "cmyk_ycck_adobe_imagemagick.jpg"
    data = path.read_bytes()
    app14 = data.find(b"\xff\xee")
    assert data[app14 + 4 : app14 + 9] == b"Adobe" and data[app14 + 15] == 2  # transform 2: YCCK
    loaded = load_image(SourceFile(path=path, rel=path.name, sha256="", size=len(data)))
    cyan, magenta, yellow, black = (loaded.image.getpixel((x, 4)) for x in (4, 12, 20, 28))
    for got, want in ((cyan, (0, 255, 255)), (magenta, (255, 0, 255)), (yellow, (255, 255, 0)), (black, (0, 0, 0))):
        assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= 3, (got, want)  # type: ignore[arg-type]


def test_pillow_cmyk_jpeg_stores_inverted_samples(tmp_path: Path) -> None:
    """Read the same file without the inversion: the stored samples are 255 - ink (Adobe's way)."""
    data = cmyk_jpeg()
    assert data[2:4] == b"\xff\xee" and data[6:11] == b"Adobe"
    with Image.open(io.BytesIO(data)) as im:
        assert im.tile[0].args[0] == "CMYK;I"  # Pillow un-inverts on decode
        im.tile = [im.tile[0]._replace(args=("CMYK", ""))]
        im.load()
        stored = im.getpixel((W // 4, H // 2))
    assert max(abs(s - w) for s, w in zip(stored, (255, 0, 0, 255), strict=True)) <= 3  # type: ignore[arg-type]


# --- EXIF orientation ------------------------------------------------------------------------

# orientation -> how the camera stored an upright picture (the inverse of the fix)
STORED = {
    1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270,
}
QUAD = {"tl": (230, 30, 30), "tr": (30, 200, 30), "bl": (30, 30, 230), "br": (240, 240, 40)}


def upright(w: int = 240, h: int = 160) -> Image.Image:
    im = Image.new("RGB", (w, h))
    im.paste(QUAD["tl"], (0, 0, w // 2, h // 2))
    im.paste(QUAD["tr"], (w // 2, 0, w, h // 2))
    im.paste(QUAD["bl"], (0, h // 2, w // 2, h))
    im.paste(QUAD["br"], (w // 2, h // 2, w, h))
    return im


def oriented(fmt: str, orientation: int, w: int = 240, h: int = 160) -> bytes:
    im = upright(w, h)
    how = STORED[orientation]
    stored = im.transpose(how) if how is not None else im
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encoded(stored, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))


def assert_upright(im: Image.Image) -> None:
    w, h = im.size
    assert w > h
    for (name, colour), (x, y) in zip(QUAD.items(), ((w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)), strict=True):
        got = im.getpixel((x, y))
        assert max(abs(g - c) for g, c in zip(got, colour, strict=True)) <= 12, (name, got, colour)  # type: ignore[arg-type]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_comes_out_upright(orientation: int, tmp_path: Path) -> None:
    src = source(tmp_path, f"o{orientation}.jpg", oriented("JPEG", orientation))
    loaded = load_image(src)
    assert (loaded.width, loaded.height) == (240, 160)
    assert_upright(loaded.image)


@pytest.mark.parametrize("orientation", [6, 8])
def test_orientation_survives_draft_and_reduce(orientation: int, tmp_path: Path) -> None:
    jpeg = source(tmp_path, "big.jpg", oriented("JPEG", orientation, 960, 640))
    png = source(tmp_path, "big.png", oriented("PNG", orientation, 960, 640))
    for src in (jpeg, png):
        loaded = load_image(src, shrink_to=("short", 150))
        assert (loaded.width, loaded.height) == (960, 640)  # the source's upright size
        assert loaded.image.height >= 150 and loaded.image.height < 640
        assert_upright(loaded.image)


def test_webp_tiff_and_avif_orientation_is_applied(tmp_path: Path) -> None:
    options = {"WEBP": {"lossless": True, "exif": _exif(6)}, "TIFF": {"tiffinfo": {0x0112: 6}}, "AVIF": {"quality": 95, "exif": _exif(6)}}
    for fmt, ext in (("WEBP", "webp"), ("TIFF", "tif"), ("AVIF", "avif")):
        stored = upright().transpose(Image.Transpose.ROTATE_90)
        data = encoded(stored, fmt, **options[fmt])  # AVIF: Pillow writes the tag as irot/imir boxes
        loaded = load_image(source(tmp_path, f"o.{ext}", data))
        assert (loaded.width, loaded.height) == (240, 160)
        assert_upright(loaded.image)  # turned once: Pillow's TIFF reader turns it itself


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


# --- shrink on load --------------------------------------------------------------------------


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 90 * np.sin(x / 37.0 + seed)[..., None] * np.cos(y / 23.0)[..., None] * np.array([1.0, 0.6, -0.8])
    noise = rng.normal(0, 12, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def test_jpeg_draft_keeps_at_least_the_size_asked_for(tmp_path: Path) -> None:
    src = source(tmp_path, "p.jpg", encoded(photo(1000, 700), "JPEG", quality=90))
    for keep in (80, 175, 176, 300, 351):
        im = load_image(src, shrink_to=("short", keep)).image
        assert min(im.size) >= keep, (keep, im.size)
        assert min(im.size) < 2 * keep or min(im.size) == 700, (keep, im.size)  # and no more than twice that
    assert load_image(src, shrink_to=("long", 200)).image.width >= 200


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "I;16", "CMYK"])
def test_strip_wise_reduce_equals_whole_image_reduce(mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = photo(301, 203, seed=4)
    if mode == "RGBA":
        im = base.copy()
        im.putalpha(Image.fromarray((np.arange(301 * 203) % 251).reshape(203, 301).astype(np.uint8)))
    elif mode == "P":
        im = base.quantize(64)
    elif mode == "I;16":
        im = Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257)
    else:
        im = base.convert(mode)
    monkeypatch.setattr(load_mod, "STRIP_PIXELS", 301 * 7)  # many strips, the last one partial
    got = load_mod._shrink_and_normalize(im, 3)
    convert = load_mod._converter(im)
    full = convert(im) if convert else im
    whole = load_mod.reduce_rgba(full, 3) if full.mode == "RGBA" else full.reduce(3)
    assert got.mode == whole.mode and got.size == whole.size == (101, 68)
    assert got.tobytes() == whole.tobytes()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "packed"])
def test_reduce_in_strips_is_pillows_reduce(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base = photo(301, 203, seed=5)
    im: Image.Image | PackedRGB = base
    if mode == "RGBA":
        im = base.copy()
        im.putalpha(Image.fromarray((np.arange(301 * 203) % 253).reshape(203, 301).astype(np.uint8)))
    elif mode == "packed":
        im = PackedRGB(np.asarray(base).copy())
    monkeypatch.setattr(load_mod, "STRIP_PIXELS", 301 * 40)  # several strips, the last one partial
    whole = as_image(im).reduce(4)
    got = load_mod.reduce_in_strips(im, 4)
    assert got.mode == whole.mode and got.size == whole.size == (76, 51)
    assert got.tobytes() == whole.tobytes()


def _ramp_rgba(h: int, w: int, alpha: np.ndarray) -> Image.Image:
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    rgb[..., 1] = 120
    rgb[..., 2] = np.linspace(255, 0, h, dtype=np.uint8)[:, None]
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def _exact_reduce(im: Image.Image, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(alpha-weighted mean colour, mean alpha) of each whole step x step block."""
    px = np.asarray(im).astype(float)
    h, w = px.shape[0] // step, px.shape[1] // step
    blocks = px[: h * step, : w * step].reshape(h, step, w, step, 4)
    a = blocks[..., 3]
    total = a.sum(axis=(1, 3))
    colour = (blocks[..., :3] * a[..., None]).sum(axis=(1, 3)) / np.maximum(total, 1)[..., None]
    return colour, a.mean(axis=(1, 3))


def test_rgba_reduce_is_exact_on_opaque_art_with_faint_and_anti_aliased_bits() -> None:
    """Mostly opaque art (the usual case) with a faint patch (alpha 6), a clear patch and an edge
    whose alpha varies inside a block: every block is the exact alpha-weighted mean, where
    Pillow's premultiplied 8-bit reduce has 6 levels of colour in the faint patch."""
    h, w = 240, 90
    alpha = np.full((h, w), 255, np.uint8)
    alpha[:6, :45] = 6  # faint: 2 of 80 block rows
    alpha[6:9, :30] = 0  # clear
    alpha[9:12, 45:47] = np.array([0, 200], np.uint8)  # an edge inside blocks
    im = _ramp_rgba(h, w, alpha)
    ours = np.asarray(load_mod.reduce_rgba(im, 3)).astype(int)
    pillow = np.asarray(im.reduce(3)).astype(int)
    exact, mean_a = _exact_reduce(im, 3)
    seen = ours[..., 3] > 0
    assert np.abs(ours[..., :3][seen] - exact[seen]).max() < 1  # rounded (Pillow's own to within 1)
    assert (ours[~seen] == 0).all() and (mean_a[~seen] < 0.5).all()  # a clear block is (0, 0, 0, 0), as Pillow's
    assert np.abs(ours[..., 3] - mean_a).max() <= 0.5 + 1e-6
    assert np.abs(pillow[:2, :15, :3] - exact[:2, :15]).max() > 10  # what the exact mean is for
    assert np.array_equal(ours[4:], pillow[4:])  # opaque blocks: Pillow's own values


def test_rgba_reduce_of_a_soft_glow_keeps_the_colour_of_its_faint_flat_parts() -> None:
    """A strip mostly of partial alpha goes through Pillow's reduce: its faint flat blocks still
    get the exact mean, varying blocks and the alpha are Pillow's."""
    h, w = 60, 90
    alpha = np.full((h, w), 6, np.uint8)
    alpha[:, 60:] = 255
    alpha[:, 45:47] = np.array([0, 200], np.uint8)
    im = _ramp_rgba(h, w, alpha)
    ours = np.asarray(load_mod.reduce_rgba(im, 3)).astype(int)
    pillow = np.asarray(im.reduce(3)).astype(int)
    exact, _ = _exact_reduce(im, 3)
    glow = np.r_[0:15, 16:20]  # block columns of alpha 6; column 15 holds the edge, 20- are opaque
    assert np.abs(ours[:, glow, :3] - exact[:, glow]).max() <= 1
    assert np.abs(pillow[:, glow, :3] - exact[:, glow]).max() > 10
    assert np.array_equal(ours[..., 3], pillow[..., 3])
    assert np.array_equal(ours[:, 15], pillow[:, 15]) and np.array_equal(ours[:, 20:], pillow[:, 20:])


def test_rgba_reduce_partial_edge_blocks_are_exact() -> None:
    """Sizes that are not a multiple of the step: the last row and column of blocks are cut."""
    rng = np.random.default_rng(5)
    px = rng.integers(0, 256, (92, 92, 4), dtype=np.uint8)
    px[..., 3] = 255
    px[-2:, :, 3] = rng.choice(np.array([0, 3, 128, 255], np.uint8), size=(2, 92))  # the cut row
    px[:, -2:, 3] = rng.choice(np.array([0, 3, 128, 255], np.uint8), size=(92, 2))  # the cut column
    ours = np.asarray(load_mod.reduce_rgba(Image.fromarray(px, "RGBA"), 3)).astype(int)
    assert ours.shape == (31, 31, 4)
    for by in range(31):
        for bx in range(31):
            block = px[by * 3 : by * 3 + 3, bx * 3 : bx * 3 + 3].reshape(-1, 4).astype(float)
            a = block[:, 3]
            assert abs(ours[by, bx, 3] - a.mean()) <= 0.5 + 1e-6
            if ours[by, bx, 3] > 0:  # a block that ends up clear has no colour to get right
                assert np.abs(ours[by, bx, :3] - (block[:, :3] * a[:, None]).sum(0) / a.sum()).max() < 1  # Pillow rounds within 1


# --- colour: ICC profiles -------------------------------------------------------------------

P3_TO_SRGB = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])  # published, D65
ADOBE_TO_XYZ = np.array([[0.5767, 0.1856, 0.1882], [0.2973, 0.6274, 0.0753], [0.0270, 0.0707, 0.9911]])
XYZ_TO_SRGB = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
ICC_TOLERANCE = 2  # levels of 255, per channel: 8-bit rounding plus LittleCMS's table interpolation


def patches() -> np.ndarray:
    """Random colours plus the corners that matter: in-gamut greys and P3's out-of-sRGB primaries."""
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 256, (24, 24, 3)).astype(np.uint8)
    arr[0, :4] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128)]
    return arr


@pytest.mark.parametrize("fmt", ["PNG", "JPEG-q100-444", "PNG-RGBA"])
def test_display_p3_source_matches_the_published_conversion(fmt: str, tmp_path: Path) -> None:
    vals = patches()
    expected = iccgen.srgb_encode(iccgen.srgb_decode(vals) @ P3_TO_SRGB.T)
    im = Image.fromarray(vals)
    if fmt == "PNG-RGBA":
        im.putalpha(77)
    if fmt.startswith("JPEG"):
        # JPEG is lossy: compare against the decoded P3 values, not the ones we wrote
        data = encoded(im, "JPEG", quality=100, subsampling=0, icc_profile=iccgen.display_p3())
        with Image.open(io.BytesIO(data)) as dec:
            expected = iccgen.srgb_encode(iccgen.srgb_decode(np.asarray(dec.convert("RGB"))) @ P3_TO_SRGB.T)
    else:
        data = encoded(im, "PNG", icc_profile=iccgen.display_p3())
    loaded = load_image(source(tmp_path, "p3.png", data))
    got = np.asarray(loaded.image)
    assert np.abs(got[..., :3].astype(float) - expected).max() <= ICC_TOLERANCE
    if fmt == "PNG-RGBA":
        assert loaded.has_alpha and (got[..., 3] == 77).all()
    # and it really changed something: P3 red is not sRGB red, and the naive path keeps it
    assert np.abs(got[..., :3].astype(int) - np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))).max() > 20
    assert [f.code for f in loaded.findings] == ["icc_converted"]


def test_adobe_rgb_source_matches_the_published_conversion(tmp_path: Path) -> None:
    vals = patches()
    expected = iccgen.srgb_encode(((vals / 255.0) ** (563 / 256)) @ (XYZ_TO_SRGB @ ADOBE_TO_XYZ).T)
    loaded = load_image(source(tmp_path, "adobe.png", encoded(Image.fromarray(vals), "PNG", icc_profile=iccgen.adobe_rgb())))
    assert np.abs(np.asarray(loaded.image).astype(float) - expected).max() <= ICC_TOLERANCE


def test_steep_grey_profile_gets_the_exact_transform(tmp_path: Path) -> None:
    """LittleCMS's 8-bit shortcut is ~10 levels off in a linear profile's shadows; we detect it."""
    ramp = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16))
    loaded = load_image(source(tmp_path, "lin.png", encoded(ramp, "PNG", icc_profile=iccgen.grey_linear())))
    got = np.asarray(loaded.image)[..., 1].astype(float).ravel()
    assert np.abs(got - iccgen.srgb_encode(np.arange(256) / 255.0)).max() <= 1
    assert "exact transform" in loaded.findings[0].message


def test_cmyk_profile_drives_the_conversion(tmp_path: Path) -> None:
    corners = [(c, m, y, k) for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)]
    im = Image.new("CMYK", (16, 1))
    for i, corner in enumerate(corners):
        im.putpixel((i, 0), tuple(255 * v for v in corner))
    data = encoded(im.resize((64, 4), Image.Resampling.NEAREST), "TIFF", icc_profile=iccgen.cmyk_inks())
    got = np.asarray(load_image(source(tmp_path, "cmyk.tif", data)).image)[0, 2::4].astype(float)
    assert np.abs(got - np.array([iccgen.ink_corner(*c) for c in corners])).max() <= ICC_TOLERANCE


def test_srgb_tagged_source_is_left_alone_and_broken_profile_is_a_finding(tmp_path: Path) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    loaded = load_image(source(tmp_path, "s.png", encoded(two_tone(), "PNG", icc_profile=srgb)))
    assert loaded.findings == () and loaded.image.getpixel((5, 5)) == A
    broken = load_image(source(tmp_path, "b.png", encoded(two_tone(), "PNG", icc_profile=b"not a profile" * 10)))
    assert [f.code for f in broken.findings] == ["icc_invalid"] and broken.image.getpixel((5, 5)) == A


# --- bad input --------------------------------------------------------------------------------


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


BAD_CASES = [
    ("zero-bytes", "a.png", lambda: b"", UnreadableImage, "empty file"),
    ("truncated-png", "a.png", lambda: truncated(encoded(photo(200, 150), "PNG")), UnreadableImage, "truncated or corrupt"),
    ("truncated-jpeg", "a.jpg", lambda: truncated(encoded(photo(200, 150), "JPEG")), UnreadableImage, "truncated or corrupt"),
    ("random-bytes", "a.png", lambda: np.random.default_rng(1).integers(0, 256, 4000).astype(np.uint8).tobytes(), UnreadableImage, "not a recognised image format"),
    ("html-named-png", "a.png", lambda: rawimages.HTML, UnreadableImage, "HTML page"),
    ("text-named-jpg", "a.jpg", lambda: b"just some notes\n", UnreadableImage, "text file"),
    ("svg", "a.svg", lambda: rawimages.SVG, UnreadableImage, "SVG"),
    ("svg-named-png", "a.png", lambda: rawimages.SVG, UnreadableImage, "SVG"),
    ("heic", "a.heic", rawimages.heic_head, UnreadableImage, "HEIC"),
    ("png-bomb-40000", "a.png", rawimages.png_bomb, ImageTooLarge, "1600 megapixels"),
    ("absurd-width", "a.png", lambda: rawimages.png_bomb(70_000, 1), ImageTooLarge, "absurd dimensions 70000x1"),
    ("corrupt-header", "a.png", lambda: rawimages.PNG_SIGNATURE + rawimages.png_chunk(b"IHDR", b"\0" * 13), UnreadableImage, "a PNG file whose header is damaged"),
]


@pytest.mark.parametrize(("name", "make", "error", "reason"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_file_is_one_asset_error_naming_it(name: str, make: Callable[[], bytes], error: type, reason: str, tmp_path: Path) -> None:
    src = source(tmp_path, f"sub dir/{name}", make())
    start = time.perf_counter()
    with pytest.raises(error) as info:
        load_image(src)
    assert time.perf_counter() - start < 2.0
    assert info.value.source == src.rel and reason in info.value.reason
    assert "\n" not in str(info.value)


def test_pixel_limit_is_configurable(tmp_path: Path) -> None:
    src = source(tmp_path, "a.png", encoded(photo(100, 80), "PNG"))
    assert load_image(src, max_pixels=8000).image.size == (100, 80)
    with pytest.raises(ImageTooLarge, match="render.max_pixels"):
        load_image(src, max_pixels=7999)


def test_our_limit_replaces_pillows_and_leaves_its_global_alone(tmp_path: Path) -> None:
    """200 MP is over Pillow's own hard limit (2 x 89 MP), which would raise inside Image.open with a
    message naming no file: the error is ours, with the file, its size and the setting to change."""
    default = Image.MAX_IMAGE_PIXELS
    src = source(tmp_path, "wide.png", rawimages.png_bomb(20_000, 10_000))
    with pytest.raises(ImageTooLarge, match=r"^wide.png: 20000x10000 is 200 megapixels, over the limit of 150 \(render.max_pixels\)$"):
        load_image(src)
    assert Image.MAX_IMAGE_PIXELS == default  # other code in the process keeps Pillow's check


def test_png_bomb_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(rawimages.png_bomb())
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from asset_pipeline.errors import ImageTooLarge
        from asset_pipeline.load import load_image
        from asset_pipeline.records import SourceFile

        def status(key):  # this process's own numbers (ru_maxrss would include the parent's)
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        before = status("VmRSS:")
        t = time.perf_counter()
        try:
            load_image(SourceFile(path=Path({str(path)!r}), rel="bomb.png", sha256="", size=0))
        except ImageTooLarge as exc:
            print(exc)
        print(status("VmHWM:") - before, time.perf_counter() - t)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    message, numbers = r.stdout.strip().splitlines()
    grew, seconds = numbers.split()
    assert "bomb.png: 40000x40000 is 1600 megapixels" in message
    assert int(grew) < 16 * 2**20 and float(seconds) < 0.5  # the 4.8 GB it declares is never allocated


def test_folder_named_like_an_image(tmp_path: Path) -> None:
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(UnreadableImage, match="folder"):
        load_image(SourceFile(path=tmp_path / "folder.png", rel="folder.png", sha256="", size=0))


def test_fifo_named_like_an_image_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            load_image(SourceFile(path=fifo, rel="pipe.png", sha256="", size=0))
        except AssetError as exc:
            errors.append(exc)

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "the loader blocked on a FIFO"
    assert errors and "named pipe" in str(errors[0])


def test_file_gone_since_discovery(tmp_path: Path) -> None:
    with pytest.raises(UnreadableImage, match="file not found"):
        load_image(SourceFile(path=tmp_path / "gone.png", rel="gone.png", sha256="", size=0))


def _drop_dac_capabilities() -> None:
    """In a child: give up root's right to read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone from the exec'd process
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unprivileged(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command that cannot read a chmod 000 file, even when the tests run as root."""
    preexec = _drop_dac_capabilities if os.geteuid() == 0 else None
    return subprocess.run(args, capture_output=True, text=True, timeout=120, preexec_fn=preexec, **kw)  # type: ignore[call-overload,no-any-return]


def test_unreadable_file_is_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "locked.png"
    path.write_bytes(encoded(two_tone(), "PNG"))
    path.chmod(0)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from asset_pipeline.errors import UnreadableImage
        from asset_pipeline.load import load_image
        from asset_pipeline.records import SourceFile
        try:
            load_image(SourceFile(path=Path({str(path)!r}), rel="locked.png", sha256="", size=0))
        except UnreadableImage as exc:
            print(exc)
    """)
    r = run_unprivileged([sys.executable, "-c", script])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "locked.png: permission denied"


def test_unicode_and_spaces_in_paths_load(tmp_path: Path) -> None:
    src = source(tmp_path, "アート 素材/thumb nail ü é 🎮.png", encoded(two_tone(), "PNG"))
    assert load_image(src).image.getpixel((5, 5)) == A


def test_loaded_image_is_a_detached_copy(tmp_path: Path) -> None:
    """The loader closes the file; the image it returns still works (and is not the file's)."""
    src = source(tmp_path, "a.png", encoded(two_tone(), "PNG"))
    loaded: LoadedImage = load_image(src)
    src.path.unlink()
    assert loaded.image.copy().getpixel((5, 5)) == A


def test_shrink_on_load_keeps_peak_memory_near_the_decoded_size(tmp_path: Path) -> None:
    """A 12 MP JPEG asked for 500 px is decoded at 1/4 scale; a 9 MP RGBA PNG is reduced strip
    by strip (reducing RGBA whole would first make a premultiplied full-size copy)."""
    jpeg, png = tmp_path / "big.jpg", tmp_path / "big.png"

    def noisy(w: int, h: int) -> Image.Image:  # cheap to make, costly to compress: photo-like enough
        ramp = Image.linear_gradient("L").resize((w, h))
        return Image.merge("RGB", (ramp, Image.effect_noise((w, h), 40), ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))

    noisy(4000, 3000).save(jpeg, quality=85)
    rgba = noisy(3000, 3000)
    rgba.putalpha(200)
    rgba.save(png, compress_level=1)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from asset_pipeline.load import load_image
        from asset_pipeline.records import SourceFile

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        for path, keep in (({str(jpeg)!r}, 500), ({str(png)!r}, 900)):
            before = status("VmRSS:")
            loaded = load_image(SourceFile(path=Path(path), rel="x", sha256="", size=0), shrink_to=("short", keep))
            print(status("VmHWM:") - before, *loaded.image.size)
            del loaded
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (jpeg_peak, *jpeg_size), (png_peak, *png_size) = ([int(v) for v in line.split()] for line in r.stdout.split("\n") if line)
    assert jpeg_size == [1000, 750] and png_size == [1000, 1000]
    assert jpeg_peak < 0.25 * 4000 * 3000 * 4  # a full decode would hold 48 MB
    # the decode (36 MB) plus strips and the result: 1.39x measured; whole-image reduce is 3.1x
    assert png_peak < 1.6 * 3000 * 3000 * 4


# --- large JPEGs held at 3 bytes a pixel (issue 8: peak RSS) ---------------------------------------


def _photo_jpeg(w: int, h: int, noise: int = 6, **kw: object) -> bytes:
    """Grain over a gradient, 4:4:4 at q95 unless told: a key-art JPEG that cannot be drafted."""
    rng = np.random.default_rng(w + h)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.dstack([xx * 255 // w, yy * 255 // h, (xx + yy) * 255 // (w + h)]).astype(np.int16)
    px = np.clip(base + rng.integers(-noise, noise + 1, (h, w, 3)), 0, 255).astype(np.uint8)
    return encoded(Image.fromarray(px), "JPEG", **({"quality": 95, "subsampling": 0} | kw))


def test_a_large_jpeg_is_held_packed_with_pillows_pixels_when_the_caller_can_take_it(tmp_path: Path) -> None:
    from asset_pipeline.dedupe import fingerprint

    src = source(tmp_path, "key.jpg", _photo_jpeg(2800, 1500))
    packed = load_image(src, shrink_to=("short", 1383), packed=True)
    plain = load_image(src, shrink_to=("short", 1383))
    assert isinstance(packed.image, load_mod.PackedRGB) and isinstance(plain.image, Image.Image)
    assert packed.image.size == plain.image.size == (2800, 1500) and (packed.width, packed.height) == (2800, 1500)
    assert np.array_equal(packed.image.array, np.asarray(plain.image))
    box = (101, 7, 2333, 1499)
    assert packed.image.crop(box).tobytes() == plain.image.crop(box).tobytes()
    assert packed.image.reduce(3).tobytes() == plain.image.reduce(3).tobytes()  # strips of whole blocks
    assert fingerprint(packed.image) == fingerprint(plain.image)
    # 4:2:0 and progressive files come out the same way
    for kw in ({"quality": 80, "subsampling": 2}, {"quality": 90, "progressive": True}):
        src = source(tmp_path, "other.jpg", _photo_jpeg(2801, 1501, **kw))
        got = load_image(src, shrink_to=("short", 1383), packed=True).image
        assert isinstance(got, load_mod.PackedRGB)
        assert np.array_equal(got.array, np.asarray(load_image(src, shrink_to=("short", 1383)).image))


def test_packed_renders_are_the_renders_of_pillows_decode(tmp_path: Path) -> None:
    from asset_pipeline.records import RenderSpec
    from asset_pipeline.render import render

    src = source(tmp_path, "key.jpg", _photo_jpeg(2800, 1500))
    packed = load_image(src, shrink_to=("short", 1383), packed=True)
    plain = load_image(src, shrink_to=("short", 1383))
    for w, h, fit in ((1024, 1024, "cover"), (360, 360, "cover"), (1024, 1024, "contain")):  # banded, box-reduced, padded
        spec = RenderSpec(role="icon", width=w, height=h, fit=fit, background=(255, 255, 255), formats=("JPEG",),
                          max_bytes=5_000_000)
        assert render(packed, spec).image.tobytes() == render(plain, spec).image.tobytes(), (w, fit)


def test_jpegs_pillow_must_turn_convert_or_shrink_are_not_packed(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    cases = {
        "turned.jpg": _photo_jpeg(2800, 1500, exif=exif.tobytes()),
        "p3.jpg": _photo_jpeg(2800, 1500, icc_profile=iccgen.display_p3()),
        "grey.jpg": encoded(Image.new("L", (2800, 1500), 90), "JPEG"),
        "cmyk.jpg": encoded(Image.new("CMYK", (2800, 1500), (0, 50, 90, 10)), "JPEG"),
        "small.jpg": _photo_jpeg(1600, 1200),  # under PACKED_MIN_PIXELS: Pillow's 4 bytes are fine
        "drafted.jpg": _photo_jpeg(2800, 2800),  # DCT-scaled to 1/2 on load
    }
    for name, data in cases.items():
        loaded = load_image(source(tmp_path, name, data), shrink_to=("short", 1383), packed=True)
        assert isinstance(loaded.image, Image.Image), name
    # and without the caller's word, never
    assert isinstance(load_image(source(tmp_path, "k.jpg", _photo_jpeg(2800, 1500)), shrink_to=("short", 1383)).image, Image.Image)


def test_a_damaged_large_jpeg_fails_the_same_way_packed_or_not(tmp_path: Path) -> None:
    data = _photo_jpeg(2800, 1500)
    cut = source(tmp_path, "cut.jpg", data[: len(data) // 2])
    garbled = source(tmp_path, "garbled.jpg", data[:2000] + bytes(5000) + data[7000:])
    for src in (cut, garbled):
        outcomes = []
        for packed in (True, False):
            try:
                got = load_image(src, shrink_to=("short", 1383), packed=packed)
                outcomes.append(("ok", np.asarray(load_mod.as_image(got.image)).tobytes()))
            except AssetError as exc:
                outcomes.append(("error", exc.reason))
        assert outcomes[0] == outcomes[1], src.rel


def test_a_packed_4096x2304_jpeg_and_its_icon_render_hold_less_than_pillows_decode(tmp_path: Path) -> None:
    """Decoded and rendered to a 1024 icon, a 4096x2304 JPEG peaks 9 MiB lower packed (Pillow
    holds RGB at 4 bytes a pixel: 36 MiB for the decode alone); a file so large that holding it
    while it decodes would cost more than the 4th byte is left to Pillow."""
    rng = np.random.default_rng(4)
    px = np.clip(np.linspace(0, 230, 4096)[None, :, None] + rng.integers(0, 12, (2304, 4096, 3)), 0, 255).astype(np.uint8)
    (tmp_path / "key.jpg").write_bytes(encoded(Image.fromarray(px), "JPEG", quality=90, subsampling=0))
    (tmp_path / "huge.jpg").write_bytes(_photo_jpeg(4096, 2304, noise=40))  # 13.6 MB of noise at q95
    assert (tmp_path / "key.jpg").stat().st_size < 4096 * 2304 < (tmp_path / "huge.jpg").stat().st_size
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from asset_pipeline.load import load_image
        from asset_pipeline.memory import trim
        from asset_pipeline.records import RenderSpec, SourceFile
        from asset_pipeline.render import render

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        src = SourceFile(path=Path(sys.argv[1]), rel="key.jpg", sha256="", size=0)
        packed = sys.argv[2] == "packed"
        spec = RenderSpec(role="icon", width=1024, height=1024, fit="cover", background=(255, 255, 255),
                          formats=("JPEG",), max_bytes=5_000_000)
        small = RenderSpec(role="icon", width=64, height=64, fit="cover", background=(255, 255, 255),
                           formats=("JPEG",), max_bytes=5_000_000)
        render(load_image(src, shrink_to=("short", 1383), packed=packed), small)  # warm up: imports, tables
        trim()
        open("/proc/self/clear_refs", "w").write("5")
        before = status("VmRSS:")
        loaded = load_image(src, shrink_to=("short", 1383), packed=packed)
        render(loaded, spec)
        print(type(loaded.image).__name__, status("VmHWM:") - before)
    """)

    def peak(name: str, mode: str) -> tuple[str, int]:
        r = subprocess.run([sys.executable, "-c", script, str(tmp_path / name), mode], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        kind, value = r.stdout.split()
        return kind, int(value)

    (kind, packed), (plain_kind, plain) = peak("key.jpg", "packed"), peak("key.jpg", "plain")
    assert (kind, plain_kind) == ("PackedRGB", "Image")
    # measured: 37.6 MiB packed, 47.4 MiB with Pillow's decode
    assert packed < plain - 6 * 2**20, (packed / 2**20, plain / 2**20)
    assert peak("huge.jpg", "packed")[0] == "Image"

"""Strip-wise PNG decoding (png_strips.py) gives exactly Pillow's whole-image decode, in less memory."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import rawimages
from PIL import Image

from asset_pipeline import load as load_mod
from asset_pipeline import png_strips
from asset_pipeline.errors import UnreadableImage
from asset_pipeline.load import load_image
from asset_pipeline.records import SourceFile

W, H = 61, 47  # odd sizes: the last strip and the last reduced row are partial


def _source(tmp_path: Path, name: str, data: bytes) -> SourceFile:
    path = tmp_path / name
    path.write_bytes(data)
    return SourceFile(path=path, rel=name, sha256="0" * 64, size=len(data))


def _art(channels: int, seed: int = 0) -> np.ndarray:
    """Noise over gradients: every filter type has real work to do."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = (x * 4 + y * 3)[..., None] + np.arange(channels) * 50
    return ((base + rng.integers(0, 40, (H, W, channels))) % 256).astype(np.uint8)


def _both(src: SourceFile, keep: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Image.Image, Image.Image]:
    """(streamed, whole-image) loads of `src` with tiny strips (many boundaries)."""
    monkeypatch.setattr(load_mod, "STRIP_PIXELS", W * 20)  # streamed strips are a quarter of this
    calls = []
    real, real_whole = png_strips.strips, png_strips.decode_whole

    def counting(im: Image.Image, rows: int):  # type: ignore[no-untyped-def]
        calls.append(rows)
        return real(im, rows)

    def counting_whole(im: Image.Image) -> Image.Image:
        calls.append(0)
        return real_whole(im)

    monkeypatch.setattr(png_strips, "strips", counting)
    monkeypatch.setattr(png_strips, "decode_whole", counting_whole)
    monkeypatch.setattr(png_strips, "WHOLE_STRIP_BYTES", W * 10)  # many boundaries at full size too
    streamed = load_image(src, shrink_to=("short", keep)).image
    assert calls, "the strip-wise decoder was not used"
    monkeypatch.setattr(png_strips, "streamable", lambda im: False)
    whole = load_image(src, shrink_to=("short", keep)).image
    return streamed, whole


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("step_keep", [9, 15, 40])  # reduce by 5 and by 3; 40: kept at full size
def test_every_filter_type_at_every_strip_boundary_matches_pillow(channels: int, step_keep: int, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # rows cycle through None, Sub, Up, Average, Paeth, so each strip starts on each kind in turn;
    # 500-byte IDAT chunks put chunk boundaries inside rows
    data = rawimages.png_bytes(_art(channels, seed=channels), filters=(0, 1, 2, 3, 4), idat_size=500)
    streamed, whole = _both(_source(tmp_path, "f.png", data), step_keep, monkeypatch)
    assert streamed.mode == whole.mode and streamed.size == whole.size
    assert streamed.tobytes() == whole.tobytes()
    with Image.open(io.BytesIO(data)) as im:  # and Pillow's own decoder reads the file as we wrote it
        assert np.array_equal(np.asarray(im).reshape(H, W, channels), _art(channels, seed=channels))


@pytest.mark.parametrize("kind", ["P", "P-trns", "RGB-trns", "L-trns", "RGBA-pillow"])
def test_pillow_written_pngs_with_palettes_and_transparency_match(kind: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rgb = Image.fromarray(_art(3))
    buf = io.BytesIO()
    if kind.startswith("P"):
        pal = rgb.quantize(40)
        pal.save(buf, "PNG", **({"transparency": bytes(range(0, 240, 6))} if kind == "P-trns" else {}))
    elif kind == "RGB-trns":
        rgb.save(buf, "PNG", transparency=tuple(int(v) for v in _art(3)[3, 3]))
    elif kind == "L-trns":
        rgb.convert("L").save(buf, "PNG", transparency=int(_art(3)[3, 3].mean()) // 1)
    else:
        rgba = rgb.copy()
        rgba.putalpha(Image.fromarray(_art(1)[..., 0]))
        rgba.save(buf, "PNG")
    streamed, whole = _both(_source(tmp_path, "p.png", buf.getvalue()), 15, monkeypatch)
    assert streamed.mode == whole.mode and streamed.tobytes() == whole.tobytes()


def test_an_rgba_strip_is_decoded_into_the_array_it_comes_with() -> None:
    # the loader reads `pixels` instead of copying the strip out with np.asarray: it must be
    # the image's own memory, holding the decoded rows
    art = _art(4, seed=3)
    data = rawimages.png_bytes(art, filters=(0, 1, 2, 3, 4), idat_size=700)
    with Image.open(io.BytesIO(data)) as im:
        got = list(png_strips.strips(im, 10))
    assert [p is not None for _, _, p in got] == [True] * len(got)
    row = 0
    for strip, top, pixels in got:
        assert pixels is not None and pixels.shape == (strip.height, W, 4)
        assert np.array_equal(pixels[top:], art[row : row + strip.height - top])
        assert np.array_equal(np.asarray(strip), pixels)
        pixels[-1, -1] = (1, 2, 3, 4)  # the image sees a write to the array: no copy between them
        assert strip.getpixel((W - 1, strip.height - 1)) == (1, 2, 3, 4)
        row += strip.height - top
    assert row == H
    with Image.open(io.BytesIO(rawimages.png_bytes(_art(3)))) as im:
        assert all(p is None for _, _, p in png_strips.strips(im, 10))


def test_exif_orientation_after_the_pixels_is_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise to display
    raw = exif.tobytes()
    raw = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    data = rawimages.png_bytes(_art(3), filters=(4,), chunks_after=(rawimages.png_chunk(b"eXIf", raw),))
    streamed, whole = _both(_source(tmp_path, "o.png", data), 9, monkeypatch)
    assert streamed.size == whole.size and streamed.height > streamed.width  # turned upright
    assert streamed.tobytes() == whole.tobytes()


@pytest.mark.parametrize("keep", [0.3, 0.7, 0.95])
@pytest.mark.parametrize("side", [9, H])  # strips reduced, and decoded whole (png_strips.decode_whole)
def test_truncated_pixel_data_is_one_error_naming_the_file(keep: float, side: int, tmp_path: Path) -> None:
    data = rawimages.png_bytes(_art(4), filters=(1, 4), idat_size=300)
    end = data.rindex(b"IEND") - 4
    src = _source(tmp_path, "cut.png", data[: int(end * keep)])
    with pytest.raises(UnreadableImage, match=r"truncated or corrupt") as info:
        load_image(src, shrink_to=("short", side))
    assert info.value.source == "cut.png" and "\n" not in str(info.value)


def _art16(channels: int, seed: int) -> np.ndarray:
    """16-bit noise over gradients whose low bytes differ from their high bytes: a decoder
    that mixed the two (or carried between them) would show it in the high bytes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = (x * 1031 + y * 777)[..., None] + np.arange(channels) * 9001
    return ((base + rng.integers(0, 4000, (H, W, channels))) % 65536).astype(np.uint16)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("keep", [9, 15, 40])  # reduce by 5 and by 3; 40: kept at full size
def test_16_bit_pngs_stream_with_every_filter_type_and_match_pillow(channels: int, keep: int, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # the row put in front of a strip has zero low bytes for RGB, RGBA and grey + alpha: the
    # high bytes must still decode exactly, through every filter type at every boundary
    art = _art16(channels, seed=channels)
    data = rawimages.png_bytes(art, filters=(0, 1, 2, 3, 4), idat_size=500)
    with Image.open(io.BytesIO(data)) as im:
        assert png_strips.streamable(im)
        im.load()  # Pillow's own decoder reads the file as written: the high bytes (grey: all 16 bits)
        got = np.asarray(im) if channels == 1 else np.asarray(im)[..., [0, 3] if channels == 2 else slice(channels)]
        want = art[..., 0] if channels == 1 else (art >> 8).astype(np.uint8)
        assert np.array_equal(got, want)
    streamed, whole = _both(_source(tmp_path, "s.png", data), keep, monkeypatch)
    assert streamed.mode == whole.mode and streamed.size == whole.size
    assert streamed.tobytes() == whole.tobytes()


def test_interlaced_pngs_are_decoded_whole() -> None:
    for data in (rawimages.png_bytes(_art(3), interlace=True), rawimages.png_bytes(_art(3).astype(np.uint16) * 257, interlace=True)):
        with Image.open(io.BytesIO(data)) as im:
            assert not png_strips.streamable(im)
    with Image.open(io.BytesIO(rawimages.png_bytes(_art(3), filters=(2,)))) as im:
        assert png_strips.streamable(im)


def test_a_big_rgba_png_is_never_held_whole(tmp_path: Path) -> None:
    """A 3000x3000 RGBA PNG (36 MB decoded) shrunk to 1000 px: the peak is the strips and the result."""
    path = tmp_path / "big.png"
    ramp = Image.linear_gradient("L").resize((3000, 3000))
    rgba = Image.merge("RGBA", (ramp, Image.effect_noise((3000, 3000), 40), ramp.transpose(Image.Transpose.ROTATE_90), ramp))
    rgba.save(path, compress_level=1)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from asset_pipeline.load import load_image
        from asset_pipeline.records import SourceFile

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        before = status("VmRSS:")
        loaded = load_image(SourceFile(path=Path({str(path)!r}), rel="x", sha256="", size=0), shrink_to=("short", 1000))
        print(status("VmHWM:") - before, *loaded.image.size)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    peak, w, h = (int(v) for v in r.stdout.split())
    assert (w, h) == (1000, 1000)
    # the result is 4 MB; Pillow's whole decode alone would be 36 MB
    assert peak < 0.35 * 3000 * 3000 * 4, peak


def test_a_png_kept_at_full_size_streams_only_where_inflating_is_the_work(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # zlib-ng inflates faster than the system zlib Pillow links: worth the strips' copies for a
    # file large for its pixels (a photo, 16-bit), not for flat art that inflates fast anyway
    calls: list[int] = []
    real = png_strips.decode_whole
    monkeypatch.setattr(png_strips, "decode_whole", lambda im: calls.append(1) or real(im))
    noisy = rawimages.png_bytes(np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8))
    flat = rawimages.png_bytes(np.full((H, W, 3), 90, np.uint8))
    assert len(noisy) >= W * H * 3 * load_mod.INFLATE_BOUND > len(flat)
    for name, data, streams in (("noisy.png", noisy, True), ("flat.png", flat, False)):
        calls.clear()
        got = load_image(_source(tmp_path, name, data), shrink_to=("short", H)).image
        assert bool(calls) is streams and got.size == (W, H)
        with Image.open(io.BytesIO(data)) as im:
            assert got.tobytes() == im.convert("RGB").tobytes()


# --- full-size RGB PNGs held at 3 bytes a pixel (issue 8: peak RSS) -------------------------------


@pytest.mark.parametrize("deep", [False, True])
def test_decode_rgb_is_pillows_decode_with_every_filter_at_every_strip_boundary(deep: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    art = _art16(3, seed=7) if deep else _art(3, seed=7)
    data = rawimages.png_bytes(art, filters=(0, 1, 2, 3, 4), idat_size=500)
    monkeypatch.setattr(png_strips, "WHOLE_STRIP_BYTES", W * 6 * 4)  # 4 rows (16-bit) or 8 a strip
    with Image.open(io.BytesIO(data)) as im:
        got = png_strips.decode_rgb(im)
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        want = np.asarray(im.convert("RGB"))
    assert got.shape == (H, W, 3) and np.array_equal(got, want)


def _rgb_png(tmp_path: Path, name: str, *, deep: bool = True, extra: tuple[bytes, ...] = (), after: tuple[bytes, ...] = ()) -> SourceFile:
    art = _art16(3, seed=3) if deep else _art(3, seed=3)
    return _source(tmp_path, name, rawimages.png_bytes(art, filters=(1, 4), extra_chunks=extra, chunks_after=after))


def test_a_full_size_rgb_png_is_packed_where_the_caller_takes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_mod, "PACKED_MIN_PIXELS", 100)
    for deep in (True, False):
        src = _rgb_png(tmp_path, f"d{deep}.png", deep=deep)
        packed = load_image(src, shrink_to=("short", H), packed=True)
        plain = load_image(src, shrink_to=("short", H))
        assert isinstance(packed.image, load_mod.PackedRGB) and isinstance(plain.image, Image.Image)
        assert packed.image.image().tobytes() == plain.image.tobytes()
        assert (packed.width, packed.height, packed.has_alpha, packed.findings) == (plain.width, plain.height, False, plain.findings)
        # reduced, or too small to be worth it: Pillow's image as before
        assert isinstance(load_image(src, shrink_to=("short", 9), packed=True).image, Image.Image)
    monkeypatch.setattr(load_mod, "PACKED_MIN_PIXELS", W * H + 1)
    assert isinstance(load_image(src, shrink_to=("short", H), packed=True).image, Image.Image)


def test_a_png_packing_cannot_hold_keeps_to_pillows_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import struct

    monkeypatch.setattr(load_mod, "PACKED_MIN_PIXELS", 100)
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = exif.tobytes()
    raw = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    cases = {
        "key.png": {"extra": (rawimages.png_chunk(b"tRNS", struct.pack(">3H", 1, 2, 3)),)},  # a transparency key: RGBA
        "turned.png": {"after": (rawimages.png_chunk(b"eXIf", raw),)},  # turned upright after the pixels
    }
    for name, kw in cases.items():
        src = _rgb_png(tmp_path, name, **kw)  # type: ignore[arg-type]
        packed = load_image(src, shrink_to=("short", H), packed=True)
        plain = load_image(src, shrink_to=("short", H))
        assert isinstance(packed.image, Image.Image), name
        assert packed.image.mode == plain.image.mode and packed.image.size == plain.image.size, name
        assert packed.image.tobytes() == plain.image.tobytes(), name
    assert load_image(_rgb_png(tmp_path, "turned2.png", **cases["turned.png"]), packed=True).image.height == W  # type: ignore[arg-type]


@pytest.mark.parametrize("keep", [0.3, 0.7, 0.95])
def test_a_truncated_rgb_png_decoded_packed_is_one_error_naming_the_file(keep: float, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_mod, "PACKED_MIN_PIXELS", 100)
    data = rawimages.png_bytes(_art16(3, seed=5), filters=(1, 4), idat_size=300)
    end = data.rindex(b"IEND") - 4
    src = _source(tmp_path, "cut.png", data[: int(end * keep)])
    with pytest.raises(UnreadableImage, match=r"truncated or corrupt") as info:
        load_image(src, shrink_to=("short", H), packed=True)
    assert info.value.source == "cut.png" and "\n" not in str(info.value)


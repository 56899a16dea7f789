"""Fitting and resampling on real pixels: cover, contain, attention, warnings, linear light, alpha."""

from __future__ import annotations

import math

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from asset_pipeline.load import LoadedImage, PackedRGB
from asset_pipeline.quality import flatten
from asset_pipeline.records import RenderSpec, SourceFile
from asset_pipeline.render import reads, render, resize, saliency_window

BG = (255, 0, 255)


def spec(w: int = 360, h: int = 360, fit: str = "cover", background: tuple[int, int, int] = BG) -> RenderSpec:
    return RenderSpec(role="thumbnail", width=w, height=h, fit=fit, background=background, formats=("JPEG", "PNG"), max_bytes=5_000_000)


def loaded(im: Image.Image, size: tuple[int, int] | None = None) -> LoadedImage:
    """`size`: the source's size when the loader shrank it to `im`."""
    w, h = size or im.size
    src = SourceFile(path=__import__("pathlib").Path("x.png"), rel="art/x.png", sha256="", size=0)
    return LoadedImage(source=src, image=im, format="PNG", width=w, height=h, has_alpha=im.mode == "RGBA")


def codes(r: object) -> dict[str, float | None]:
    return {f.code: f.value for f in r.findings}  # type: ignore[attr-defined]


def texture(w: int, h: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


# --- fit ---------------------------------------------------------------------------------------


def test_contain_pads_with_the_background_and_keeps_the_aspect() -> None:
    im = Image.new("RGB", (800, 400), (10, 200, 10))
    r = render(loaded(im), spec(fit="contain"))
    out = np.asarray(r.image)
    assert r.image.size == (360, 360)
    assert (out[:85] == BG).all() and (out[-85:] == BG).all()  # 90 px bands above and below
    assert (np.abs(out[95:265].astype(int) - (10, 200, 10)) <= 1).all()
    assert "upscaled" not in codes(r) and "cover_crop" not in codes(r)


def test_cover_takes_the_centre_and_warns_over_20_percent() -> None:
    im = Image.new("RGB", (1000, 700), (0, 0, 255))
    im.paste((255, 255, 255), (150, 0, 850, 700))
    r = render(loaded(im), spec())
    assert np.asarray(r.image)[5:-5, 5:-5].min() >= 250
    assert codes(r)["cover_crop"] == pytest.approx(0.3)
    assert "cover_crop" not in codes(render(loaded(Image.new("RGB", (1000, 900))), spec()))


@pytest.mark.parametrize(
    ("size", "target", "fit", "factor"),
    [
        ((300, 150), (360, 360), "contain", 1.2),  # fits inside: the long side grows 1.2x
        ((300, 150), (360, 360), "cover", 2.4),  # fills: the short side grows 2.4x
        ((2000, 500), (1024, 1024), "contain", None),  # shrinks to fit: no upscale
        ((2000, 500), (1024, 1024), "cover", 2.048),
        ((300, 400), (360, 200), "cover", 1.2),  # a non-square target: width decides
        ((400, 300), (360, 200), "contain", None),
        ((1024, 1024), (1024, 1024), "cover", None),
    ],
)
def test_upscale_warning_uses_the_source_size_and_the_fit(size: tuple[int, int], target: tuple[int, int], fit: str, factor: float | None) -> None:
    im = Image.fromarray(texture(*size))
    r = render(loaded(im), spec(*target, fit=fit))
    assert r.image.size == target
    assert codes(r).get("upscaled") == (pytest.approx(factor, abs=1e-3) if factor else None)


def test_upscale_is_judged_on_the_source_not_the_shrunk_copy() -> None:
    # the loader shrank a 4000x3000 source to 1000x750: nothing was upscaled
    r = render(loaded(Image.fromarray(texture(1000, 750)), size=(4000, 3000)), spec(1024, 1024))
    assert "upscaled" not in codes(r)


def _subject_scene(w: int, h: int, at: tuple[int, int], size: int) -> Image.Image:
    """A flat grey scene with one busy, colourful subject square at `at`."""
    arr = np.full((h, w, 3), 120, np.uint8)
    x, y = at
    arr[y : y + size, x : x + size] = texture(size, size, seed=9) // 2 + (120, 0, 0)
    return Image.fromarray(arr)


@pytest.mark.parametrize(("w", "h", "at"), [(1200, 400, (900, 100)), (1200, 400, (20, 100)), (400, 1200, (100, 850))])
def test_attention_keeps_an_off_centre_subject(w: int, h: int, at: tuple[int, int]) -> None:
    im = _subject_scene(w, h, at, 200)
    attention = render(loaded(im), spec(fit="attention"))
    x0, y0, x1, y1 = attention.crop
    assert x0 <= at[0] and at[0] + 200 <= x1 and y0 <= at[1] and at[1] + 200 <= y1
    cover = render(loaded(im), spec(fit="cover"))
    cx0, cy0, cx1, cy1 = cover.crop
    assert not (cx0 <= at[0] and at[0] + 200 <= cx1 and cy0 <= at[1] and at[1] + 200 <= cy1)  # cover loses it


def test_attention_on_a_non_square_target_and_flat_art_stays_centred() -> None:
    im = _subject_scene(1600, 400, (1300, 100), 200)
    r = render(loaded(im), spec(640, 360, fit="attention"))
    assert r.image.size == (640, 360)
    x0, _, x1, _ = r.crop
    assert x0 <= 1300 and 1500 <= x1
    assert saliency_window(Image.new("RGB", (900, 300), (50, 60, 70)), (300, 300)) == (300, 0)


def test_a_gamma_render_box_reduces_down_to_the_presets_gap() -> None:
    """`fast` (reducing_gap 1.0) renders a 360 from a ~4x larger decode as reduce(3) + LANCZOS,
    as Pillow's reducing_gap does; the default gap (2.0) leaves all of it to LANCZOS."""
    from asset_pipeline.config import load_preset
    from asset_pipeline.work import _render

    im = Image.fromarray(texture(1400, 1400, seed=3))
    fast = load_preset("fast")
    assert not fast.render.linear_light and fast.render.reducing_gap == 1.0
    got = np.asarray(_render(loaded(im), spec(), fast).image)
    box = (0, 0, 1400, 1400)
    assert np.array_equal(got, np.asarray(im.resize((360, 360), Image.Resampling.LANCZOS, box=box, reducing_gap=1.0)))
    assert not np.array_equal(got, np.asarray(render(loaded(im), spec(), linear_light=False).image))


def test_render_never_modifies_the_loaded_image() -> None:
    im = Image.fromarray(texture(500, 300))
    before = im.tobytes()
    for fit in ("cover", "contain", "attention"):
        render(loaded(im), spec(fit=fit))
    assert im.tobytes() == before


# --- resampling --------------------------------------------------------------------------------


def test_linear_light_keeps_the_brightness_of_fine_detail() -> None:
    """A 1-pixel black/white checkerboard is 50 % light: sRGB 188 when averaged right, 128 in gamma space."""
    board = ((np.indices((400, 400)).sum(axis=0) % 2) * 255).astype(np.uint8)
    im = Image.fromarray(board).convert("RGB")
    linear = np.asarray(resize(im, (100, 100), (0, 0, 400, 400), linear=True))[10:-10, 10:-10]
    gamma = np.asarray(resize(im, (100, 100), (0, 0, 400, 400), linear=False))[10:-10, 10:-10]
    assert abs(float(linear.mean()) - 188) < 2
    assert abs(float(gamma.mean()) - 128) < 2


def test_linear_resize_round_trips_every_8bit_value() -> None:
    arr = np.arange(256 * 3, dtype=np.uint16).reshape(16, 48) % 256
    im = Image.fromarray(np.dstack([arr, arr[::-1], arr.T.reshape(16, 48)]).astype(np.uint8))
    assert resize(im, im.size, (0, 0, *im.size), linear=True).tobytes() == im.tobytes()


def test_linear_resize_in_row_bands_matches_one_float_resize() -> None:
    """Without a box reduce the linear path makes OUT_ROWS output rows at a time, from Pillow's
    taps for the whole image: it equals one Pillow call on each whole float band, to the bit
    (bands made with boxes of their own differed by a level on ~1 % of the pixels)."""
    from asset_pipeline.render import _LIN, _UNIT, OUT_ROWS, _from_linear

    rgb = texture(700, 650, seed=8)
    alpha = np.random.default_rng(9).integers(0, 256, (650, 700)).astype(np.uint8)
    alpha[:200] = 255
    size, box = (333, 300), (20.5, 10.0, 680.0, 640.0)  # ratio ~2: no box reduce; several row bands
    assert size[1] > 3 * OUT_ROWS

    def one_call(plane: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(plane).resize(size, Image.Resampling.LANCZOS, box=box))

    got = np.asarray(resize(Image.fromarray(rgb), size, box, linear=True))
    want = np.dstack([_from_linear(one_call(_LIN[rgb[..., c]])) for c in range(3)])
    assert np.array_equal(got, want)

    got = np.asarray(resize(Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), size, box, linear=True))
    a = np.clip(one_call(_UNIT[alpha]), 0.0, 1.0)
    want_alpha = np.rint(a * 255.0).astype(np.uint8)
    np.copyto(a, np.float32(1.0), where=a <= 1e-6)
    want = np.dstack([*(_from_linear(one_call(_LIN[rgb[..., c]] * _UNIT[alpha]), a) for c in range(3)), want_alpha])
    assert np.array_equal(got, want)


@pytest.mark.parametrize(("w", "h", "size", "box"), [
    (2304, 900, (1024, 400), (0.0, 0.0, 2304.0, 900.0)),  # 2.25x down
    (4096, 600, (1024, 150), (896.0, 0.0, 3200.0, 600.0)),  # a cover crop's centre
    (700, 650, (333, 300), (20.5, 10.0, 680.0, 640.0)),  # fractional box
    (1383, 500, (360, 130), (0.3, 0.7, 1382.2, 499.9)),
    (100, 80, (300, 240), (0.0, 0.0, 100.0, 80.0)),  # upscale
    (48, 16, (48, 16), (0.0, 0.0, 48.0, 16.0)),  # identity: Pillow skips both passes
])
def test_the_block_resampler_is_pillows_lanczos_to_the_bit(w: int, h: int, size: tuple[int, int],
                                                           box: tuple[float, float, float, float]) -> None:
    from asset_pipeline import resample as rs

    x = np.random.default_rng(w * h).random((h, w), dtype=np.float32)
    want = np.asarray(Image.fromarray(x, "F").resize(size, Image.Resampling.LANCZOS, box=box))
    across, down = rs.taps(w, box[0], box[2], size[0]), rs.taps(h, box[1], box[3], size[1])
    lo, hi = down.span(0, size[1])
    got = rs.down(rs.across(x[lo:hi], across), down, 0, size[1], lo)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    # and a band of output rows from just the input rows it reads
    a, b = rs.BLOCK, min(size[1], 3 * rs.BLOCK)
    if b > a:
        lo, hi = down.span(a, b)
        assert np.array_equal(rs.down(rs.across(x[lo:hi], across), down, a, b, lo), want[a:b])


@pytest.mark.parametrize(("w", "h", "rbox", "size", "step"), [
    (1500, 1100, (10.25, 3.5, 1490.0, 1098.75), (360, 270), 2),  # fractional box, partial last blocks
    (2000, 2000, (0.0, 0.0, 2000.0, 2000.0), (360, 360), 2),
    (1400, 700, (0.0, 0.0, 1400.0, 700.0), (200, 100), 3),
])
def test_the_box_reduced_band_is_pillows_lanczos_of_the_reduced_plane(w: int, h: int, rbox: tuple[float, ...],
                                                                     size: tuple[int, int], step: int) -> None:
    """The reduced band's LANCZOS is the block resampler's: the same floats as Pillow's resize of
    the box-reduced linear plane (what it was before), for every band."""
    from asset_pipeline.render import _LIN, _reduced_band

    rgb = texture(w, h, seed=w + h)
    ibox = (math.floor(rbox[0]), math.floor(rbox[1]), math.ceil(rbox[2]), math.ceil(rbox[3]))
    sbox = tuple((v - ibox[i % 2]) / step for i, v in enumerate(rbox))
    for c in range(3):
        small = Image.fromarray(_LIN[rgb[..., c]], "F").reduce(step, box=ibox)
        want = np.asarray(small.resize(size, Image.Resampling.LANCZOS, box=sbox))
        got = _reduced_band(Image.fromarray(rgb), (0, 0, w, h), c, size, rbox, step)  # type: ignore[arg-type]
        assert got.dtype == np.float32 and np.array_equal(got, want), c


def test_a_linear_icon_render_never_holds_its_bands_whole() -> None:
    """The 1024 render of a 4096x2304 source that cannot be shrunk on load: above the decode, the
    peak is a band of rows and the 8-bit results, not float bands of the crop's height."""
    script = textwrap.dedent("""
        import numpy as np
        from pathlib import Path
        from PIL import Image
        from asset_pipeline.load import LoadedImage, PackedRGB
        from asset_pipeline.records import RenderSpec, SourceFile
        from asset_pipeline.render import render

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        rng = np.random.default_rng(1)
        im = Image.fromarray(rng.integers(0, 256, (2304, 4096, 3), dtype=np.uint8))
        src = SourceFile(path=Path("x.jpg"), rel="x.jpg", sha256="", size=0)
        loaded = LoadedImage(source=src, image=im, format="JPEG", width=4096, height=2304, has_alpha=False)
        spec = RenderSpec(role="icon", width=1024, height=1024, fit="cover", background=(255, 255, 255),
                          formats=("JPEG",), max_bytes=5_000_000)
        render(loaded, RenderSpec(role="icon", width=64, height=64, fit="cover", background=(255, 255, 255),
                                  formats=("JPEG",), max_bytes=5_000_000))  # warm up: imports, tables
        open("/proc/self/clear_refs", "w").write("5")
        before = status("VmRSS:")
        render(loaded, spec, linear_light=True)
        print(status("VmHWM:") - before)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # measured: 9.6 MiB (the 4 MiB result, a band of rows, 8-bit bands); holding one float band
    # resized across (1024 x 2322 x 4 = 9.5 MB) plus its float result and copies took 22 MiB
    assert int(r.stdout) < 14 * 2**20, int(r.stdout)


def test_linear_resize_reads_only_the_region_it_needs_and_matches_the_whole_image() -> None:
    im = Image.fromarray(np.dstack([texture(600, 400), np.full((400, 600), 200, np.uint8)]), "RGBA")
    box = (100.5, 20.25, 420.0, 340.0)
    part = resize(im, (80, 80), box, linear=True)
    # the same resize on a copy that holds only a generous neighbourhood of the box
    pad = im.crop((60, 0, 470, 390))
    shifted = resize(pad, (80, 80), (box[0] - 60, box[1], box[2] - 60, box[3]), linear=True)
    assert part.tobytes() == shifted.tobytes()


@pytest.mark.parametrize("linear", [True, False])
def test_transparent_edges_get_no_dark_fringe(linear: bool) -> None:
    """Red disc on fully transparent *black* pixels, flattened on white after resizing.

    Without premultiplied alpha the black of the invisible pixels bleeds into the edge: red
    channel drops, a dark ring appears. Every flattened pixel must stay between red and white.
    """
    n = 600
    yy, xx = np.mgrid[0:n, 0:n]
    inside = (xx - n / 2) ** 2 + (yy - n / 2) ** 2 <= (n * 0.4) ** 2
    arr = np.zeros((n, n, 4), np.uint8)
    arr[inside] = (255, 0, 0, 255)
    im = Image.fromarray(arr, "RGBA")
    out = resize(im, (97, 97), (0, 0, n, n), linear=linear)
    flat = np.asarray(flatten(out, (255, 255, 255))).astype(int)
    assert flat[..., 0].min() >= 250, "dark fringe: the transparent black bled in"
    # the same resize done naively (straight alpha, bands resized alone) does fringe: the test can fail
    naive = Image.merge("RGBA", [b.resize((97, 97), Image.Resampling.LANCZOS) for b in im.split()])
    assert np.asarray(flatten(naive, (255, 255, 255)))[..., 0].min() < 200


def test_rgba_render_keeps_alpha_and_drops_it_when_opaque() -> None:
    arr = np.dstack([texture(400, 400), np.full((400, 400), 255, np.uint8)])
    arr[:100, :, 3] = 0
    r = render(loaded(Image.fromarray(arr, "RGBA")), spec())
    assert r.has_alpha and r.image.mode == "RGBA"
    arr[..., 3] = 255
    r = render(loaded(Image.fromarray(arr, "RGBA")), spec())
    assert not r.has_alpha and r.image.mode == "RGB"


def test_unknown_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fit"):
        render(loaded(Image.new("RGB", (10, 10))), spec(fit="stretch"))


def _soft_rgba(w: int, h: int, seed: int = 0) -> Image.Image:
    """Texture under alpha of every level, faint glow included: premultiplying rounds there."""
    rgb = texture(w, h, seed)
    y, x = np.mgrid[0:h, 0:w]
    alpha = ((x * 255 // max(1, w - 1)) ^ (y % 7)).astype(np.uint8)
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


@pytest.mark.parametrize("fit", ["cover", "contain"])
@pytest.mark.parametrize("target", [(360, 360), (300, 170), (400, 300)])  # reduced, odd shape, the decode's own size
def test_a_shared_premultiplied_copy_renders_the_same_bytes(fit: str, target: tuple[int, int]) -> None:
    from asset_pipeline.render import premultiplied

    art = loaded(_soft_rgba(400, 300, seed=5))
    pm = premultiplied(art.image)
    assert pm is not None and pm.mode == "RGBa"
    for gap in (1.0, 2.0):
        plain = render(art, spec(*target, fit=fit), linear_light=False, gap=gap).image
        shared = render(art, spec(*target, fit=fit), linear_light=False, gap=gap, premultiplied=pm).image
        assert shared.mode == plain.mode == "RGBA" and shared.tobytes() == plain.tobytes()
    assert premultiplied(art.image.convert("RGB")) is None


def test_a_shared_premultiplied_copy_gives_the_same_fingerprint() -> None:
    from asset_pipeline.dedupe import fingerprint
    from asset_pipeline.render import premultiplied

    art = _soft_rgba(1100, 800, seed=2)  # reduced by 3 before hashing
    assert fingerprint(art, premultiplied=premultiplied(art)) == fingerprint(art)


def test_a_gamma_space_prepare_premultiplies_an_rgba_decode_once(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Pillow premultiplies the whole image for every resize and reduce of RGBA: a fingerprint and
    # two renditions of one decode were three copies of it
    from asset_pipeline import work
    from asset_pipeline.config import load_preset

    path = tmp_path / "a.png"
    _soft_rgba(1100, 800, seed=1).save(path)
    src = SourceFile(path=path, rel="a.png", sha256="0" * 64, size=path.stat().st_size)
    preset = load_preset("fast")
    specs = (spec(1024, 1024), spec(360, 360))
    task = work.PrepareTask(source=src, encode=(), render=specs, need_probe=True, preset=preset, cache_root=None,
                            decode=work.decode_plan(specs, preset))
    made = []
    real = Image.Image.convert

    def convert(self, mode=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        if mode == "RGBa" and self.mode == "RGBA":
            made.append(self.size)
        return real(self, mode, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", convert)
    out = work.prepare(task)
    assert isinstance(out, work.Prepared) and out.probe is not None and len(out.renditions) == 2
    assert len(made) == 1


# --- only the part a render reads is kept (issue 8: peak RSS) --------------------------------------


@pytest.mark.parametrize(("size", "target"), [((1500, 700), (360, 360)), ((1500, 700), (1024, 1024)),
                                               ((700, 1501), (360, 360)), ((901, 900), (300, 200))])
def test_a_cover_render_reads_only_its_region_and_a_kept_part_renders_the_same(size: tuple[int, int], target: tuple[int, int]) -> None:
    w, h = size
    pixels = texture(w, h, seed=w)
    sp = spec(*target)
    box = reads(size, sp, linear_light=True)
    assert box is not None
    x0, y0, x1, y1 = box
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    whole = render(loaded(PackedRGB(pixels.copy())), sp).image
    part = PackedRGB(pixels.copy()).keep(box)
    assert part.size == size and part.array.shape == (y1 - y0, x1 - x0, 3) and part.origin == (x0, y0)
    assert np.array_equal(part.array, pixels[y0:y1, x0:x1])
    assert render(loaded(part), sp).image.tobytes() == whole.tobytes()
    with pytest.raises(ValueError, match="outside the part held"):
        part.rows((x0 - 1, y0, x1, y1) if x0 > 0 else (x0, y0 - 1, x1, y1))


def test_reads_is_none_where_the_region_is_not_known_in_advance() -> None:
    assert reads((1500, 700), spec(fit="contain"), linear_light=True) is None
    assert reads((1500, 700), spec(fit="attention"), linear_light=True) is None
    assert reads((1500, 700), spec(), linear_light=False) is None


def test_keep_moves_nothing_while_a_view_of_the_pixels_is_alive() -> None:
    pixels = texture(300, 200)
    packed = PackedRGB(pixels.copy())
    view = packed.rows((0, 0, 300, 10))
    assert packed.keep((50, 0, 250, 200)) is packed  # moving rows under the view would change what it shows
    assert np.array_equal(view, pixels[:10]) and np.array_equal(packed.array, pixels)


def test_keep_works_under_a_profiler() -> None:
    """cProfile holds the bound `resize` while it runs: numpy's refcheck then saw one reference
    too many and raised after the rows had moved (`python -m cProfile asset-pipeline build`)."""
    import cProfile

    pixels = texture(300, 200)
    packed = PackedRGB(pixels.copy())
    prof = cProfile.Profile()
    prof.enable()
    try:
        part = packed.keep((50, 20, 250, 180))
    finally:
        prof.disable()
    assert part.array.shape == (160, 200, 3) and np.array_equal(part.array, pixels[20:180, 50:250])


def test_keep_gives_the_memory_back() -> None:
    script = textwrap.dedent("""
        import numpy as np
        from asset_pipeline.load import PackedRGB

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        packed = PackedRGB(np.full((2304, 4096, 3), 7, np.uint8))  # 27 MiB
        before = status("VmRSS:")
        part = packed.keep((889, 0, 3207, 2304))
        del packed
        print(before - status("VmRSS:"), status("VmHWM:") - before)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    freed, grew = (int(v) for v in r.stdout.split())
    assert freed > 11 * 2**20, freed / 2**20  # 4096 - 2318 columns: 11.7 MiB
    assert grew < 2**20  # and no copy on the way


def test_a_linear_prepare_of_a_wide_jpeg_keeps_only_the_middle_it_renders(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from asset_pipeline import work
    from asset_pipeline.config import load_preset
    from asset_pipeline.load import load_image

    rng = np.random.default_rng(4)
    px = np.clip(np.linspace(0, 230, 4096)[None, :, None] + rng.integers(0, 12, (2304, 4096, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "key.jpg"
    Image.fromarray(px).save(path, quality=90)
    src = SourceFile(path=path, rel="key.jpg", sha256="0" * 64, size=path.stat().st_size)
    preset = load_preset("balanced")
    specs = (spec(1024, 1024), spec(360, 360))
    plan = work.decode_plan(specs, preset)
    task = work.PrepareTask(source=src, encode=(), render=specs, need_probe=True, preset=preset, cache_root=None, decode=plan)
    kept = []
    real = PackedRGB.keep

    def keep(self: PackedRGB, box: tuple[int, int, int, int]) -> PackedRGB:
        out = real(self, box)
        kept.append((box, out.array.shape))
        return out

    monkeypatch.setattr(PackedRGB, "keep", keep)
    out = work.prepare(task)
    assert isinstance(out, work.Prepared) and out.probe is not None
    (box, shape), = kept
    assert box[0] > 800 and box[2] < 3300 and shape == (2304, box[2] - box[0], 3)  # the middle 57 %
    full = load_image(src, max_pixels=preset.render.max_pixels, shrink_to=(plan.fit_side, plan.side), packed=True)
    assert isinstance(full.image, PackedRGB) and full.image.full is None
    for sp in specs:
        assert out.renditions[sp].image().tobytes() == render(full, sp).image.tobytes()


"""The perceptual score: scikit-image's SSIM, computed faster, and ranked the way it should."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from asset_pipeline import quality as q

from conftest import gradient


def _jpeg(image: Image.Image, quality: int, subsampling: int = 2) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, subsampling=subsampling)
    return buf.getvalue()


def _photo(side: int, seed: int = 3) -> Image.Image:
    """A gradient with grain: structure at every scale, like a photo."""
    rng = np.random.default_rng(seed)
    base = np.asarray(gradient(side, side, seed=seed), dtype=np.float32)
    return Image.fromarray(np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8), "RGB")


def _skimage_score(ref: Image.Image, cand: Image.Image) -> float:
    """The documented definition, straight from scikit-image: 6:1:1 over Y, half-res Cb, Cr."""
    def planes(im: Image.Image) -> list[np.ndarray]:
        y, cb, cr = im.convert("YCbCr").split()
        return [np.asarray(p, dtype=np.float64) for p in (y, cb.reduce(2), cr.reduce(2))]

    parts = [structural_similarity(a, b, data_range=255.0, win_size=7) for a, b in zip(planes(ref), planes(cand), strict=True)]
    return (6 * parts[0] + parts[1] + parts[2]) / 8


@pytest.mark.parametrize("quality", [20, 60, 90])
def test_score_matches_scikit_image(quality: int) -> None:
    ref_im = _photo(96)
    cand = q.decode(_jpeg(ref_im, quality), (0, 0, 0))
    ours = q.score(q.reference(ref_im), cand)
    assert ours == pytest.approx(_skimage_score(ref_im, cand), abs=2e-6)
    assert ours < 1.0


@pytest.mark.parametrize("quality", [20, 60, 90])
@pytest.mark.parametrize("side", [96, 301])  # 301: strips of SSIM_ROWS and a partial one, odd chroma
def test_a_one_off_score_is_the_reference_score(quality: int, side: int) -> None:
    ref_im = _photo(side, seed=side)
    cand = q.decode(_jpeg(ref_im, quality), (0, 0, 0))
    once = q.score_once(ref_im, cand)
    assert once == pytest.approx(q.score(q.reference(ref_im), cand), abs=2e-6)
    assert once == pytest.approx(_skimage_score(ref_im, cand), abs=2e-6)
    assert q.score_once(ref_im, ref_im) == 1.0
    assert q.score_once(_photo(8), _photo(8)) == 1.0  # smaller than the window
    with pytest.raises(ValueError, match="reference"):
        q.score_once(ref_im, _photo(24))


def test_identical_image_scores_one_and_reference_is_reusable() -> None:
    im = _photo(64)
    ref = q.reference(im)
    assert q.score(ref, im) == 1.0
    # the reference is not consumed by scoring: the same candidate scores the same twice
    cand = q.decode(_jpeg(im, 50), (0, 0, 0))
    assert q.score(ref, cand) == q.score(ref, cand)


def test_score_rises_with_jpeg_quality() -> None:
    im = _photo(128)
    ref = q.reference(im)
    scores = [q.score_bytes(ref, _jpeg(im, qq), (0, 0, 0)) for qq in (10, 40, 70, 95)]
    assert scores == sorted(scores)
    assert scores[0] < 0.9 < scores[-1]


def test_chroma_subsampling_damage_is_seen() -> None:
    # saturated red detail on blue: luma-only SSIM would call 4:2:0 and 4:4:4 equal
    arr = np.zeros((96, 96, 3), np.uint8)
    arr[..., 2] = 200
    arr[::2, :, 0] = 255
    arr[::2, :, 2] = 0
    im = Image.fromarray(arr, "RGB")
    ref = q.reference(im)
    sub = q.score_bytes(ref, _jpeg(im, 95, subsampling=2), (0, 0, 0))
    full = q.score_bytes(ref, _jpeg(im, 95, subsampling=0), (0, 0, 0))
    assert full > sub + 0.01


def test_alpha_is_scored_over_the_background() -> None:
    im = gradient(64, 64, mode="RGBA")
    white, black = (255, 255, 255), (0, 0, 0)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    assert q.score_bytes(q.reference(q.flatten(im, white)), buf.getvalue(), white) == 1.0
    # the same pixels flattened onto another colour are not the same picture
    assert q.score_bytes(q.reference(q.flatten(im, black)), buf.getvalue(), white) < 0.9


def test_tiny_images_do_not_break_the_window() -> None:
    im = _photo(8)
    ref = q.reference(im)
    assert q.score(ref, im) == 1.0
    assert 0.0 <= q.score_bytes(ref, _jpeg(im, 5), (0, 0, 0)) <= 1.0


def test_size_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="reference"):
        q.score(q.reference(_photo(32)), _photo(24))


# --- memory: the score holds 8-bit planes, not RGBA or YCbCr copies of the picture ---------------


def _rgba_art(w: int, h: int, seed: int = 2) -> Image.Image:
    rng = np.random.default_rng(seed)
    px = np.zeros((h, w, 4), np.uint8)
    px[..., :3] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8) // 64 * 64
    px[..., 3] = rng.choice(np.array([0, 90, 255], np.uint8), (h, w), p=[0.2, 0.1, 0.7])
    return Image.fromarray(px, "RGBA")


def test_flatten_is_pillows_alpha_composite_for_every_colour_alpha_and_background() -> None:
    # every (colour, alpha) pair in one image, over every background level
    c, a = np.meshgrid(np.arange(256), np.arange(256))
    im = Image.fromarray(np.dstack([c, 255 - c, (c * 7) % 256, a]).astype(np.uint8), "RGBA")
    for level in range(256):
        bg = (level, 255 - level, (level * 13) % 256)
        whole = Image.alpha_composite(Image.new("RGBA", im.size, (*bg, 255)), im).convert("RGB")
        assert q.flatten(im, bg).tobytes() == whole.tobytes(), bg
    art = _rgba_art(1000, 701)
    want = Image.alpha_composite(Image.new("RGBA", art.size, (255, 0, 255, 255)), art).convert("RGB")
    assert q.flatten(art, (255, 0, 255)).tobytes() == want.tobytes()


@pytest.mark.parametrize("transparency", ["bytes", "index", "none"])
def test_a_palette_png_is_flattened_through_its_palette(transparency: str) -> None:
    pal = _rgba_art(300, 200).quantize(32)
    buf = io.BytesIO()
    if transparency == "index":
        pal = pal.convert("RGB").quantize(16)
        pal.save(buf, "PNG", transparency=3)
    elif transparency == "none":
        pal.convert("RGB").quantize(16).save(buf, "PNG")
    else:
        pal.save(buf, "PNG")  # an RGBA palette: tRNS with an alpha per entry
    data = buf.getvalue()
    for bg in ((255, 255, 255), (10, 200, 30)):
        with Image.open(io.BytesIO(data)) as im:
            want = q.flatten(im.convert("RGBA"), bg)
        assert q.decode(data, bg).tobytes() == want.tobytes()


def test_planes_made_in_strips_are_the_whole_conversion() -> None:
    for w, h in ((1023, 777), (300, 129), (13, 14), (14, 13), (5, 9)):
        im = _photo(max(w, h)).crop((0, 0, w, h))
        y, cb, cr = im.convert("YCbCr").split()
        if min(w, h) >= 2 * q.WIN:
            cb, cr = cb.reduce(2), cr.reduce(2)
        got = q._planes(im)
        assert all(np.array_equal(g, np.asarray(p)) for g, p in zip(got, (y, cb, cr), strict=True)), (w, h)


def test_scoring_a_palette_png_holds_no_rgba_copies_of_it() -> None:
    """A 1024 palette PNG candidate, decoded and scored: 20.8 MiB above the reference when it was
    converted to RGBA, composited on an RGBA background and converted whole to YCbCr; 9.6 now."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import io, sys
        sys.path.insert(0, sys.argv[1])
        from test_quality import _rgba_art
        from asset_pipeline import quality as q
        from asset_pipeline.memory import trim

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        art = _rgba_art(1024, 1024)
        buf = io.BytesIO()
        art.quantize(64).save(buf, "PNG")
        bg = (255, 255, 255)
        ref = q.reference(q.flatten(art, bg))
        q.score_bytes(ref, buf.getvalue(), bg)  # warm up: imports, code paths
        trim()
        open("/proc/self/clear_refs", "w").write("5")
        before = status("VmRSS:")
        q.score_bytes(ref, buf.getvalue(), bg)
        print(status("VmHWM:") - before)
    """)
    here = str(__import__("pathlib").Path(__file__).parent)
    r = subprocess.run([sys.executable, "-c", script, here], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) < 14 * 2**20, int(r.stdout) / 2**20


def test_a_1024_reference_and_its_score_hold_little_beside_the_image() -> None:
    """The search's reference keeps 6 bytes a pixel of statistics (local sums as uint16, the
    variance as float32), and a score drops the candidate's decode once it has its planes:
    18.1 MiB grown for one reference and one score of a 1024 image before, 15.7 after."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import io
        import numpy as np
        from PIL import Image
        from asset_pipeline import quality as q

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        im = Image.fromarray(np.random.default_rng(2).integers(0, 256, (1024, 1024, 3), np.uint8), "RGB")
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=80)
        cand = Image.open(buf)
        cand.load()
        q.score(q.reference(Image.new("RGB", (64, 64))), Image.new("RGB", (64, 64)))  # first-use allocations
        before = status("VmRSS:")
        s = q.score(q.reference(im), cand)
        print(status("VmHWM:") - before, s, q.score_once(im, cand))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    grew, searched, once = r.stdout.split()
    assert int(grew) < 17 * 2**20, int(grew) / 2**20
    assert abs(float(searched) - float(once)) <= 2e-6



@pytest.mark.parametrize("shape", [(7, 7), (8, 13), (134, 1024), (70, 512), (300, 9)])
def test_box_sum_is_every_7x7_window_sum_exactly(shape: tuple[int, int]) -> None:
    """The pairwise box sums must equal the plain window sums to the bit (integer-valued planes,
    and their squares and sums of squares, as the SSIM makes them)."""
    from numpy.lib.stride_tricks import sliding_window_view

    rng = np.random.default_rng(shape[0] * shape[1])
    x = rng.integers(0, 256, shape).astype(np.float32)
    y = rng.integers(0, 256, shape).astype(np.float32)
    for plane in (x, x * y, x * x + y * y):
        want = sliding_window_view(plane.astype(np.float64), (7, 7)).sum(axis=(2, 3))
        got = q._box_sum(plane)
        assert got.dtype == np.float32 and np.array_equal(got.astype(np.float64), want)

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

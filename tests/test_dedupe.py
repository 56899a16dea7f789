"""Dedupe on real encoded files: what must merge, what must not, and how build and `dedupe` report it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import gradient
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from asset_pipeline.cli import main
from asset_pipeline.config import DedupeSettings, load_preset
from asset_pipeline.dedupe import distances, find_duplicate_groups, fingerprint, is_duplicate
from asset_pipeline.pipeline import build

SETTINGS = load_preset("balanced").dedupe


def art(seed: int, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """Game-art-like test picture: a colourful background with a few hard-edged shapes."""
    rng = np.random.default_rng(seed)
    im = gradient(*size, seed=seed)
    d = ImageDraw.Draw(im)
    w, h = size
    for _ in range(6):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.2) * min(w, h)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            d.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0), width=3)
        else:
            d.rectangle((x - r, y - r / 2, x + r, y + r / 2), fill=colour)
    return im


def reload(im: Image.Image, fmt: str = "PNG", **kwargs: object) -> Image.Image:
    """Encode and decode for real, as the file an artist would have."""
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    with Image.open(io.BytesIO(buf.getvalue())) as out:
        out.load()
        return out.convert("RGBA") if "A" in out.getbands() or "transparency" in out.info else out.convert("RGB")


def hue(im: Image.Image, degrees: int) -> Image.Image:
    hsv = np.asarray(im.convert("RGB").convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + degrees * 256 // 360) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


def dup(a: Image.Image, b: Image.Image) -> bool:
    return is_duplicate(fingerprint(a), fingerprint(b), SETTINGS)


ORIGINAL = art(7)


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda im: reload(im, "JPEG", quality=70), id="jpeg-q70"),
        pytest.param(lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS), id="downscale-50"),
        pytest.param(lambda im: im.crop((0, 0, int(im.width * 0.95), int(im.height * 0.95))), id="crop-5-corner"),
        pytest.param(lambda im: im.crop((5, 4, im.width - 5, im.height - 3)), id="crop-2-sides"),
        pytest.param(lambda im: ImageEnhance.Brightness(im).enhance(1.1), id="brightness+10"),
        pytest.param(lambda im: ImageEnhance.Contrast(im).enhance(0.9), id="contrast-10"),
        pytest.param(lambda im: _watermarked(im), id="watermark"),
    ],
)
def test_duplicates_merge(variant) -> None:  # type: ignore[no-untyped-def]
    assert dup(ORIGINAL, reload(variant(ORIGINAL)))


def _watermarked(im: Image.Image) -> Image.Image:
    out = im.copy()
    d = ImageDraw.Draw(out)
    d.text((out.width - 90, out.height - 24), "(c) Studio", fill=(255, 255, 255))
    return out


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda im: hue(im, 90), id="hue-90"),
        pytest.param(lambda im: hue(im, 180), id="hue-180"),
        pytest.param(lambda im: ImageOps.grayscale(im).convert("RGB"), id="greyscale"),
        pytest.param(lambda im: Image.merge("RGB", im.split()[::-1]), id="red-blue-swap"),
        pytest.param(lambda im: ImageOps.mirror(im), id="mirror"),
        pytest.param(lambda im: art(8), id="different-art"),
    ],
)
def test_colour_variants_mirrors_and_other_art_stay_apart(variant) -> None:  # type: ignore[no-untyped-def]
    assert not dup(ORIGINAL, reload(variant(ORIGINAL)))


def test_flat_colours_compare_by_colour_only() -> None:
    red = Image.new("RGB", (300, 200), (200, 30, 30))
    assert fingerprint(red).flat
    assert dup(red, reload(red, "JPEG", quality=70))
    assert dup(red, Image.new("RGB", (90, 60), (214, 33, 33)))  # a slightly brighter re-export
    assert not dup(red, Image.new("RGB", (300, 200), (30, 60, 200)))  # a luminance hash sees one grey
    assert not dup(red, Image.new("RGB", (300, 200), (120, 18, 18)))  # much darker: another colour
    assert not dup(red, art(3))


def _two_tone(shape: str, fg: tuple[int, int, int], bg: tuple[int, int, int]) -> Image.Image:
    im = Image.new("RGB", (300, 300), bg)
    d = ImageDraw.Draw(im)
    if shape == "circle":
        d.ellipse((60, 60, 240, 240), fill=fg)
    else:
        d.polygon([(150, 30), (270, 250), (30, 250)], fill=fg)
    return im


def test_two_tone_art_keeps_shape_and_colour_apart() -> None:
    red, green = (230, 40, 40), (40, 130, 60)  # about the same luminance: flat to a grey hash
    circle = _two_tone("circle", red, green)
    assert dup(circle, reload(circle, "JPEG", quality=75))
    assert not dup(circle, _two_tone("triangle", red, green))
    assert not dup(circle, _two_tone("circle", green, red))
    assert not dup(circle, _two_tone("circle", (250, 250, 250), (30, 60, 200)))


def _sprite(shape: str, hidden: tuple[int, int, int] | None = None) -> Image.Image:
    """An orange sprite on transparency; the RGB under alpha 0 is the fill colour unless `hidden`."""
    mask = Image.new("L", (256, 256), 0)
    d = ImageDraw.Draw(mask)
    if shape == "star":
        d.polygon([(128, 20), (160, 100), (240, 100), (175, 150), (200, 235), (128, 185), (56, 235), (81, 150), (16, 100), (96, 100)], fill=255)
    else:
        d.ellipse((40, 40, 216, 216), fill=255)
    im = Image.new("RGB", (256, 256), (245, 140, 30))
    if hidden is not None:
        im = Image.composite(im, Image.new("RGB", (256, 256), hidden), mask)
    im.putalpha(mask)
    return im


def test_transparent_art_is_compared_as_it_looks() -> None:
    star = _sprite("star")
    assert not dup(star, _sprite("circle"))  # same RGB everywhere, different shapes
    assert dup(star, reload(_sprite("star", hidden=(0, 0, 0))))  # same look, other hidden pixels


def test_distances_explain_the_decision() -> None:
    a, b = fingerprint(ORIGINAL), fingerprint(reload(ORIGINAL, "JPEG", quality=70))
    d = distances(a, b)
    assert set(d) == {"structure", "colour", "phash"}
    assert d["structure"] <= SETTINGS.structure_threshold and d["colour"] <= SETTINGS.colour_threshold
    far = distances(a, fingerprint(hue(ORIGINAL, 180)))
    assert far["colour"] > SETTINGS.colour_threshold


def test_largest_is_kept_then_the_first() -> None:
    small = ORIGINAL.resize((240, 180))
    fps = [fingerprint(small), fingerprint(ORIGINAL), fingerprint(art(9)), fingerprint(reload(ORIGINAL, "JPEG", quality=80))]
    groups = find_duplicate_groups(fps, pixels=[240 * 180, 480 * 360, 480 * 360, 480 * 360], settings=SETTINGS)
    assert [(g.keeper, g.duplicates) for g in groups] == [(1, (0, 3))]


def test_allow_list_keeps_a_declared_pair() -> None:
    fps = [fingerprint(ORIGINAL), fingerprint(reload(ORIGINAL, "JPEG", quality=80))]
    args = {"pixels": [1, 1], "settings": SETTINGS, "keys": ["a.png", "b.jpg"]}
    assert find_duplicate_groups(fps, **args)  # type: ignore[arg-type]
    assert not find_duplicate_groups(fps, **args, not_duplicates=[frozenset({"a.png", "b.jpg"})])  # type: ignore[arg-type]


def test_thresholds_come_from_the_preset() -> None:
    strict = DedupeSettings(structure_threshold=0, colour_threshold=0, flat_colour_threshold=0)
    a, b = fingerprint(ORIGINAL), fingerprint(reload(ORIGINAL, "JPEG", quality=60))
    assert is_duplicate(a, b, SETTINGS) and not is_duplicate(a, b, strict)


def test_build_drops_duplicates_honours_the_allow_list_and_warns_on_unlocalized(make_project, tmp_path: Path) -> None:
    big = art(11, (600, 450))
    files = {"a.png": big, "b.jpg": reload(big.resize((300, 225)), "JPEG", quality=75), "c.png": art(12)}
    root = make_project(thumbnails={"en": files, "ja": {"a_ja.png": big}})
    m = build(root, out=tmp_path / "out", jobs=1).manifest
    (drop,) = [d for d in m["dropped"] if d["reason"] == "duplicate"]
    assert drop["source"] == "thumbnails/en/b.jpg" and drop["duplicate_of"] == "thumbnails/en/a.png"
    assert drop["distance"] == drop["distances"]["structure"] and "colour" in drop["distances"]
    assert any(w["code"] == "unlocalized" and w["source"] == "thumbnails/ja/a_ja.png" for w in m["warnings"])

    (root / "assets.toml").write_text('[dedupe]\nnot_duplicates = [["thumbnails/en/a.png", "thumbnails/en/b.jpg"]]\n')
    m = build(root, out=tmp_path / "out2", jobs=1).manifest
    assert not [d for d in m["dropped"] if d["reason"] == "duplicate"]
    assert len(m["languages"]["en"]["thumbnails"]) == 3


def test_dedupe_command_reports_clusters_with_distances(tmp_path: Path) -> None:
    ORIGINAL.save(tmp_path / "a.png")
    reload(ORIGINAL, "JPEG", quality=70).save(tmp_path / "b.jpg", quality=95)
    hue(ORIGINAL, 120).save(tmp_path / "c_variant.png")
    (tmp_path / ".hidden.png").write_bytes(b"not an image")
    r = CliRunner().invoke(main, ["dedupe", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["images"] == 3
    (cluster,) = data["clusters"]
    assert cluster["keep"].endswith("a.png")
    assert [d["source"][-5:] for d in cluster["duplicates"]] == ["b.jpg"]
    assert set(cluster["duplicates"][0]["distances"]) == {"structure", "colour", "phash"}
    strict = CliRunner().invoke(main, ["dedupe", str(tmp_path), "--threshold", "0", "--json"])
    assert json.loads(strict.stdout)["clusters"] == [] or all(
        d["distances"]["structure"] == 0 for c in json.loads(strict.stdout)["clusters"] for d in c["duplicates"])
    text = CliRunner().invoke(main, ["dedupe", str(tmp_path)])
    assert "structure" in text.output and "b.jpg" in text.output


def test_our_phash_is_imagehash_phash() -> None:
    """dedupe.phash computes imagehash's pHash without scipy (worker processes never import it):
    the same hex on photos, flat art, noise, tiny and one-colour images."""
    import imagehash

    from asset_pipeline.dedupe import phash

    rng = np.random.default_rng(7)
    images = [gradient(w, h, seed=s) for s, (w, h) in enumerate([(64, 64), (300, 200), (33, 97), (1024, 1024)])]
    images += [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in [(40, 40), (129, 61)]]
    images += [Image.new("RGB", (50, 50), c) for c in [(0, 0, 0), (255, 255, 255), (12, 200, 99)]]
    art = Image.new("RGB", (256, 256), (20, 30, 160))
    ImageDraw.Draw(art).ellipse((40, 60, 200, 220), fill=(250, 200, 0))
    images.append(art)
    for im in images:
        assert phash(im) == str(imagehash.phash(im))


def test_fingerprint_of_a_large_cut_out_holds_no_full_size_copy() -> None:
    """Pillow reduces RGBA through a premultiplied copy of the whole image: the fingerprint's
    reduce goes a strip at a time (a 2000x2000 cut-out grew the process by 15 MiB before)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import numpy as np
        from PIL import Image
        from asset_pipeline.dedupe import fingerprint

        def status(key):
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(key))

        a = np.random.default_rng(1).integers(0, 256, (2000, 2000, 4), np.uint8)
        a[:500, :, 3] = 0
        im = Image.fromarray(a, "RGBA")
        del a
        fingerprint(Image.new("RGBA", (600, 600)))  # imports and first-use allocations
        before = status("VmRSS:")
        fp = fingerprint(im)
        print(status("VmHWM:") - before, fp.phash, fingerprint(im.reduce(7)).phash)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    grew, got, pillows = r.stdout.split()
    assert int(grew) < 4 * 2**20, int(grew) / 2**20  # the image is 15.3 MiB
    assert got == pillows  # the same pixels as Pillow's own reduce (2000 // 256 = 7)


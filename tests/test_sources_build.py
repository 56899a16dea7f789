"""Whole builds on awkward sources: bad files in a batch, unsafe paths, privacy, colour, fit per asset."""

from __future__ import annotations

import io
import os
import struct
import sys
from pathlib import Path

import iccgen
import numpy as np
import pytest
import rawimages
from bundle_checks import verify_bundle
from conftest import gradient
from PIL import ExifTags, Image
from test_cli import run
from test_load import P3_TO_SRGB, encoded, run_unprivileged

from asset_pipeline.errors import BuildFailed, ConfigError
from asset_pipeline.pipeline import build

FAST_PNG = 'description = "lossless PNG, fast zlib (tests)"\nformat = "png"\n[png]\ncompress_level = 1\npalette = "off"\n'


def fast_png(tmp_path: Path) -> str:
    path = tmp_path / "fast_png.toml"
    path.write_text(FAST_PNG)
    return str(path)


def _with_big_text(im: Image.Image) -> bytes:
    """A PNG whose compressed text chunk inflates to 1.5 MB: Pillow refuses it at open (it was
    reported as "a PNG file whose header is damaged")."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "A" * 1_500_000, zip=True)
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


BAD_FILES = {
    "zero.png": b"",
    "truncated.png": lambda: encoded(gradient(400, 300, seed=5), "PNG")[:3000],
    "truncated.jpg": lambda: encoded(gradient(400, 300, seed=6), "JPEG")[:2000],
    "page.png": rawimages.HTML,
    "vector.svg": rawimages.SVG,
    "phone.heic": rawimages.heic_head,
    "bomb.png": rawimages.png_bomb,
    "noise.jpg": lambda: np.random.default_rng(2).integers(0, 256, 3000).astype(np.uint8).tobytes(),
    "bloated xmp.png": lambda: _with_big_text(gradient(300, 300, seed=7)),
}
REASONS = {
    "zero.png": "empty file", "truncated.png": "truncated", "truncated.jpg": "truncated", "page.png": "HTML",
    "vector.svg": "SVG", "phone.heic": "HEIC", "bomb.png": "megapixels", "noise.jpg": "not a recognised image format",
    "outside.png": "symlink leads outside the project", "pipe.png": "not a regular file",
    "loop.png": "symlink loop", "bloated xmp.png": "metadata chunk (text or ICC profile) inflates past the 1 MB safety limit",
}


def bad_project(make_project, tmp_path: Path, name: str = "proj") -> Path:
    files: dict[str, Image.Image | bytes] = {"01 good.png": gradient(400, 400, seed=1), "02 good.jpg": gradient(500, 400, seed=2)}
    for fname, data in BAD_FILES.items():
        files[fname] = data() if callable(data) else data
    root = make_project(name=name, thumbnails={"en": files})
    outside = tmp_path / f"{name}-outside.png"
    gradient(300, 300, seed=3).save(outside)
    (root / "thumbnails" / "en" / "outside.png").symlink_to(outside)
    os.mkfifo(root / "thumbnails" / "en" / "pipe.png")
    (root / "thumbnails" / "en" / "loop.png").symlink_to(root / "thumbnails" / "en" / "loop.png")
    return root


def test_every_bad_file_in_a_batch_is_listed_and_out_is_untouched(make_project, tmp_path: Path) -> None:
    out = tmp_path / "out"
    good = make_project(name="good", thumbnails={"en": {"a.png": gradient(400, 400)}})
    build(good, out=out, jobs=1, preset="fast")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    root = bad_project(make_project, tmp_path)
    with pytest.raises(BuildFailed) as info:
        build(root, out=out, jobs=2, preset="fast")
    by_file = {Path(e.source).name: e.reason for e in info.value.errors}
    assert sorted(by_file) == sorted(REASONS), by_file  # each bad file once, the good ones not at all
    for fname, reason in REASONS.items():
        assert reason in by_file[fname], (fname, by_file[fname])
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_cli_prints_one_line_per_bad_file_and_exits_1(make_project, tmp_path: Path) -> None:
    root = bad_project(make_project, tmp_path)
    r = run("build", str(root), "-o", str(tmp_path / "out"), "--preset", "fast")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    for fname, reason in REASONS.items():
        hits = [line for line in lines if fname in line]
        assert len(hits) == 1 and reason in hits[0], (fname, hits)
    assert not (tmp_path / "out").exists()


def test_unreadable_source_is_reported_by_the_cli(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"ok.png": gradient(300, 300), "locked.png": gradient(300, 300, seed=4)}})
    (root / "thumbnails" / "en" / "locked.png").chmod(0)
    env = {**os.environ, "CI": "true", "COLUMNS": "40"}
    r = run_unprivileged([sys.executable, "-m", "asset_pipeline", "build", str(root), "-o", str(tmp_path / "out"), "--preset", "fast"], env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert [line for line in r.stderr.splitlines() if "locked.png" in line and "permission denied" in line]


def test_a_file_name_that_is_not_utf8_is_refused_by_name(make_project, tmp_path: Path) -> None:
    """A Latin-1 name from an old archive (bytes that are not UTF-8) cannot be written into the
    UTF-8 manifest: it was an internal error when the manifest was encoded. Now it is one bad
    source, shown with its odd byte escaped, and --keep-going writes the rest."""
    root = make_project(thumbnails={"en": {"ok.png": gradient(400, 400)}})
    odd = os.fsdecode(b"caf\xe9.png")  # the undecodable byte becomes a lone surrogate
    gradient(300, 300, seed=9).save(root / "thumbnails" / "en" / odd, "PNG")
    with pytest.raises(BuildFailed) as info:
        build(root, out=tmp_path / "out", jobs=1, preset="fast")
    assert [(e.source, e.reason) for e in info.value.errors] == [
        ("thumbnails/en/caf\\xe9.png", "the file name is not valid UTF-8; rename it")]
    result = build(root, out=tmp_path / "out", jobs=1, preset="fast", keep_going=True)
    m = verify_bundle(tmp_path / "out")
    assert result.return_code == 1
    assert [(d["source"], d["reason"]) for d in m["dropped"]] == [("thumbnails/en/caf\\xe9.png", "unreadable")]
    r = run("build", str(root), "-o", str(tmp_path / "out2"), "--preset", "fast")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "caf\\xe9.png: the file name is not valid UTF-8" in r.stderr


def test_a_dropped_candidate_of_extreme_aspect_still_gets_its_preview(make_project, tmp_path: Path) -> None:
    """The review page previews dropped candidates; a 20000x8 strip scaled into the preview box
    rounded to 0 px high and failed the whole build (ValueError from the JPEG encoder)."""
    thumbs = {f"{i}.png": gradient(400, 400, seed=20 + i) for i in range(1, 4)}
    thumbs["4 strip.png"] = gradient(20000, 8, seed=30)  # the 4th: over the limit of 3, so dropped
    root = make_project(thumbnails={"en": thumbs})
    result = build(root, out=tmp_path / "out", jobs=1, preset="fast", cache_dir=tmp_path / "cache")
    assert result.return_code == 0
    assert [d.source for d in result.dropped] == ["thumbnails/en/4 strip.png"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/jpeg;base64,") >= 1  # the strip's preview is on the page


def test_unicode_and_spaces_in_paths_build(make_project, tmp_path: Path) -> None:
    root = make_project(name="ゲーム プロジェクト ü", thumbnails={"en": {"サムネ 01 é.png": gradient(400, 400, seed=7)}, "ja": {"タイトル 画面.jpg": gradient(500, 500, seed=8)}})
    out = tmp_path / "出力 dist"
    result = build(root, out=out, jobs=1, preset="fast")
    m = verify_bundle(out)
    assert result.return_code == 0
    assert m["languages"]["en"]["thumbnails"][0]["source"]["path"] == "thumbnails/en/サムネ 01 é.png"
    assert m["languages"]["ja"]["thumbnails"][0]["source"]["path"] == "thumbnails/ja/タイトル 画面.jpg"


# --- unsafe paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["en_US", "my art", "en-"])
def test_language_folder_that_is_not_a_tag_is_a_usage_error(folder: str, make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={folder: {"a.png": gradient(300, 300)}})
    with pytest.raises(ConfigError, match="not a language tag"):
        build(root, out=tmp_path / "out")
    r = run("build", str(root), "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and "not a language tag" in r.stderr


@pytest.mark.parametrize("table", ["thumbnails", "icons"])
@pytest.mark.parametrize(("keys", "needle"), [
    (['"../../outside"'], r"'\.\./\.\./outside' is not a language tag"),  # builds no path
    (["pt-br", "pt-BR"], r"'pt-br' and 'pt-BR' are the same language \(pt-BR\)"),  # the second replaced the first
])
def test_assets_toml_keys_that_are_not_one_language_each_are_refused(table: str, keys: list[str], needle: str,
                                                                     make_project, tmp_path: Path) -> None:
    value = '["icon.png"]' if table == "thumbnails" else '"icon.png"'
    root = make_project(toml=f"[{table}]\n" + "".join(f"{key} = {value}\n" for key in keys))
    with pytest.raises(ConfigError, match=needle):
        build(root, out=tmp_path / "out")


@pytest.mark.parametrize(("toml", "needle"), [
    ("[dedupe]\nstructure_threshold = 80\n", "unknown key(s) structure_threshold; expected not_duplicates"),
    ("dedupe = 3\n", "[dedupe]: expected a table"),
    ('[dedupe]\nnot_duplicates = "a.png"\n', "expected a list of path pairs"),
])
def test_an_assets_toml_dedupe_table_says_what_it_cannot_use(toml: str, needle: str, make_project, tmp_path: Path) -> None:
    """A threshold put in assets.toml (it belongs in a preset) was ignored without a word."""
    root = make_project(toml=toml)
    with pytest.raises(ConfigError) as info:
        build(root, out=tmp_path / "out")
    assert needle in str(info.value)


def test_an_assets_toml_that_is_not_utf8_is_a_config_error(make_project, tmp_path: Path) -> None:
    """It was an internal error (UnicodeDecodeError out of tomllib)."""
    root = make_project()
    (root / "assets.toml").write_bytes(b'preset = "caf\xe9"\n')  # Latin-1, from an old editor
    r = run("build", str(root), "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "assets.toml: invalid TOML: not UTF-8 text (byte 13 is 0xe9)" in r.stderr


def test_out_inside_a_source_folder_is_refused(make_project, tmp_path: Path) -> None:
    toml = '[thumbnails]\nen = ["art/share/en/*.png"]\n'
    root = make_project(toml=toml)
    share = root / "art" / "share" / "en"
    share.mkdir(parents=True)
    gradient(300, 300).save(share / "a.png")
    for out in (share / "dist", root / "art" / "share"):
        with pytest.raises(ConfigError, match="source folder"):
            build(root, out=out)
    assert sorted(p.name for p in share.iterdir()) == ["a.png"]


# --- privacy and colour ------------------------------------------------------------------------


def gps_tagged_jpeg(im: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 22.0, 30.5), 3: "E", 4: (4.0, 53.0, 12.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="SecretTool"/></rdf:RDF></x:xmpmeta>'
    return encoded(im, "JPEG", quality=95, exif=exif.tobytes(), xmp=xmp, comment=b"secret comment")


def jpeg_segments(data: bytes) -> list[int]:
    """Marker bytes of every segment before the image data."""
    markers, pos = [], 2
    while pos < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def png_chunks(data: bytes) -> list[bytes]:
    kinds, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


@pytest.mark.parametrize("preset", ["balanced", "png"])
def test_gps_exif_xmp_and_comments_never_reach_the_outputs(preset: str, make_project, tmp_path: Path) -> None:
    src = gps_tagged_jpeg(gradient(1100, 1100, seed=11))
    assert 0xE1 in jpeg_segments(src) and 0xFE in jpeg_segments(src)  # the source does carry them
    with Image.open(io.BytesIO(src)) as im:
        assert im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    root = make_project(icon_name="icon.jpg", thumbnails={"en": {"photo.jpg": src}})
    (root / "icon.jpg").write_bytes(src)
    out = tmp_path / "out"
    build(root, out=out, preset=fast_png(tmp_path) if preset == "png" else preset, jobs=1)
    outputs = [p for p in out.rglob("*") if p.suffix in (".jpg", ".png")]
    assert len(outputs) == 2
    for p in outputs:
        data = p.read_bytes()
        assert b"secret comment" not in data and b"SecretTool" not in data and b"PhoneMaker" not in data
        assert b"ns.adobe.com/xap" not in data and b"Exif" not in data
        if p.suffix == ".jpg":
            segments = jpeg_segments(data)
            assert not {0xE1, 0xFE} & set(segments), [hex(s) for s in segments]  # no APP1 (EXIF/XMP), no COM
            assert all(s in (0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDD, 0xDA) for s in segments), [hex(s) for s in segments]
        else:
            assert set(png_chunks(data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"sRGB", b"gAMA", b"pHYs"}
        with Image.open(p) as im:
            assert not im.getexif() and "xmp" not in im.info and "comment" not in im.info


def test_display_p3_icon_comes_out_in_srgb(make_project, tmp_path: Path) -> None:
    """Four flat P3 patches; the lossless icon must hold the published conversion of each."""
    colours = np.array([(230, 60, 40), (60, 200, 90), (40, 70, 210), (240, 200, 60)], np.uint8)
    arr = np.zeros((1200, 1200, 3), np.uint8)
    for i, c in enumerate(colours):
        arr[(i // 2) * 600 : (i // 2 + 1) * 600, (i % 2) * 600 : (i % 2 + 1) * 600] = c
    root = make_project()
    (root / "icon.png").write_bytes(encoded(Image.fromarray(arr), "PNG", icc_profile=iccgen.display_p3()))
    out = tmp_path / "out"
    result = build(root, out=out, preset=fast_png(tmp_path), jobs=1)
    expected = iccgen.srgb_encode(iccgen.srgb_decode(colours) @ P3_TO_SRGB.T)
    with Image.open(out / "icon.png") as im:
        icon = np.asarray(im.convert("RGB")).astype(float)
    got = np.array([icon[256 + (i // 2) * 512, 256 + (i % 2) * 512] for i in range(4)])
    assert np.abs(got - expected).max() <= 2, (got, expected)
    assert any(f.code == "icc_converted" for f in result.findings)


# --- fit per asset -----------------------------------------------------------------------------


def test_fit_is_configurable_per_asset(make_project, tmp_path: Path) -> None:
    wide = Image.new("RGB", (1200, 400), (200, 30, 30))
    scene = Image.new("RGB", (1500, 500), (120, 120, 120))
    scene.paste(Image.fromarray(np.random.default_rng(1).integers(0, 256, (300, 300, 3)).astype(np.uint8)), (1150, 100))
    toml = '[thumbnail]\nbackground = "#00ff00"\n[fit]\n"thumbnails/en/wide.png" = "contain"\n[icon]\nfit = "attention"\n'
    root = make_project(icon=scene, thumbnails={"en": {"wide.png": wide}}, toml=toml)
    out = tmp_path / "out"
    result = build(root, out=out, preset=fast_png(tmp_path), jobs=1)
    m = verify_bundle(out)
    with Image.open(out / m["languages"]["en"]["thumbnails"][0]["path"]) as im:
        thumb = np.asarray(im.convert("RGB")).astype(int)
    assert (np.abs(thumb[:100] - (0, 255, 0)) <= 1).all() and (np.abs(thumb[180] - (200, 30, 30)) <= 1).all()
    with Image.open(out / "icon.png") as im:
        icon = np.asarray(im.convert("RGB")).astype(float)
    assert icon[:, 600:].std() > 30  # the busy subject at the right is in the attention crop
    assert {f.code for f in result.findings if f.source == "icon.png"} >= {"cover_crop"}


@pytest.mark.parametrize("value", [0, -1])
def test_a_preset_pixel_limit_below_one_is_a_config_error(value: int, tmp_path: Path) -> None:
    """It was taken, and then every source failed as "over the limit of -0 megapixels"."""
    from asset_pipeline.config import load_preset

    preset = tmp_path / "mine.toml"
    preset.write_text(f"[render]\nmax_pixels = {value}\n")
    with pytest.raises(ConfigError, match=f"render.max_pixels must be a positive number of pixels, not {value}"):
        load_preset(preset)


@pytest.mark.parametrize(("toml", "needle"), [
    ('[icons]\nja = "thumbnails"\n', "matches only folders, no image file (for a folder's images: 'thumbnails/*')"),
    ('[thumbnails]\nen = ["thumbnails/en"]\n', "matches only folders"),
    ('[icon]\nsource = "thumbnails/en/*.png"\n', "an icon is one file, but this matches 2: thumbnails/en/a.png, thumbnails/en/b.png"),
])
def test_an_assets_toml_path_that_names_no_single_file_says_so(toml: str, needle: str, make_project, tmp_path: Path) -> None:
    """A folder for an icon was IndexError (an internal error); a folder for thumbnails left the
    language without candidates, silently; a glob for the icon took its first match."""
    root = make_project(toml=toml, thumbnails={"en": {"a.png": gradient(300, 300), "b.png": gradient(300, 300, seed=2)}})
    with pytest.raises(ConfigError) as info:
        build(root, out=tmp_path / "out")
    assert needle in str(info.value)


def test_two_folders_of_one_language_are_refused_not_merged_away(make_project, tmp_path: Path) -> None:
    """Tags ignore case: thumbnails/EN and thumbnails/en were both "en", and the second folder's
    candidates replaced the first's without a word."""
    root = make_project(thumbnails={"EN": {"a.png": gradient(300, 300)}, "en": {"b.png": gradient(300, 300, seed=2)}})
    with pytest.raises(ConfigError, match=r"thumbnails/EN and thumbnails/en are the same language \(en\)"):
        build(root, out=tmp_path / "out")

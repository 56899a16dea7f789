"""The art lint: each check fires on art made to break it and stays quiet on clean art; profiles set levels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from conftest import REPO, validate_manifest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from asset_pipeline import lint
from asset_pipeline.config import load_profile
from asset_pipeline.errors import BuildFailed, ConfigError
from asset_pipeline.pipeline import build
from asset_pipeline.records import Finding, RenderSpec

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SIDE = 256  # small renders keep the suite fast; every check is scale-free or scales with the side


def clean_icon(side: int = SIDE, mode: str = "RGB") -> Image.Image:
    """Full-bleed, opaque, sharp art: a diagonal gradient with a crisp star and a title in the centre.

    Drawn at 2x and reduced, as vector art is exported (anti-aliased edges).
    """
    big = side * 2
    y, x = np.mgrid[0:big, 0:big].astype(np.float32) / big
    arr = np.stack([40 + 150 * x, 60 + 120 * y, 170 - 90 * x * y], axis=-1).astype(np.uint8)
    im = Image.fromarray(arr, "RGB")
    d = ImageDraw.Draw(im)
    c = big / 2
    pts = []
    for i in range(10):
        r = big * (0.3 if i % 2 == 0 else 0.13)
        a = np.pi * i / 5 - np.pi / 2
        pts.append((c + r * float(np.cos(a)), c * 0.9 + r * float(np.sin(a))))
    d.polygon(pts, fill=(250, 210, 40), outline=(120, 40, 10), width=max(2, big // 120))
    d.text((c, big * 0.78), "STAR", font=ImageFont.truetype(FONT, big // 9), fill=(255, 255, 255), anchor="mm",
           stroke_width=max(1, big // 200), stroke_fill=(20, 20, 40))
    out = im.reduce(2)
    return out.convert(mode)


def codes(findings: list[Finding] | tuple[Finding, ...]) -> set[str]:
    return {f.code for f in findings}


def run_lint(im: Image.Image, role: str = "icon") -> set[str]:
    return codes(lint.lint_image(im, role=role, source="art.png"))


def paste_code(im: Image.Image, fmt: str, content: str, scale: int) -> Image.Image:
    bc = zxingcpp.create_barcode(content, getattr(zxingcpp.BarcodeFormat, fmt))
    code = Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(bc, scale=scale))).convert("RGB")
    out = im.convert("RGB")
    out.paste(code, ((out.width - code.width) // 2, (out.height - code.height) // 2))  # centred: no safe_area hit
    return out


def rounded(im: Image.Image, radius: float, fill: tuple[int, ...]) -> Image.Image:
    mask = Image.new("L", im.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, im.width - 1, im.height - 1), radius=radius * im.width, fill=255)
    base = Image.new("RGBA", im.size, fill)
    base.paste(im.convert("RGBA"), (0, 0), mask)
    return base if len(fill) == 4 and fill[3] < 255 else base.convert("RGB")


# --- a clean icon passes every check, at the sizes the profiles use ---------------------------


@pytest.mark.parametrize("side", [SIDE, 360, 600])
def test_clean_icon_passes_every_check(side: int) -> None:
    assert lint.lint_image(clean_icon(side), role="icon", source="icon.png") == []


# --- corners ------------------------------------------------------------------------------


def test_transparent_corners_fire_on_a_cut_out_and_report_the_share() -> None:
    art = clean_icon(mode="RGBA")
    alpha = Image.new("L", art.size, 0)
    ImageDraw.Draw(alpha).ellipse((4, 4, SIDE - 5, SIDE - 5), fill=255)
    art.putalpha(alpha)
    found = lint.lint_image(art, role="icon", source="icon.png")
    hit = [f for f in found if f.code == "transparent_corners"]
    assert hit and hit[0].value == 1.0 and hit[0].source == "icon.png"
    assert "rounded_corners" not in codes(found)  # a round cut-out is not a rounded square


def test_opaque_rgba_art_has_no_transparent_corners() -> None:
    assert "transparent_corners" not in run_lint(clean_icon(mode="RGBA"))


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (0, 0, 0, 0)], ids=["white", "black", "transparent"])
@pytest.mark.parametrize("radius", [0.08, 0.22])
def test_rounded_corners_fire_on_a_rounded_rect_mask(radius: float, fill: tuple[int, ...]) -> None:
    found = lint.lint_image(rounded(clean_icon(), radius, fill), role="icon", source="icon.png")
    hit = [f for f in found if f.code == "rounded_corners"]
    assert hit, codes(found)
    assert hit[0].value == pytest.approx(radius, abs=0.03)


def test_rounded_square_inset_on_a_margin_fires() -> None:
    # an exported "app icon" look: a rounded square with a flat margin around it
    inner = rounded(clean_icon(SIDE - 40), 0.18, (255, 255, 255))
    art = Image.new("RGB", (SIDE, SIDE), (255, 255, 255))
    art.paste(inner, (20, 20))
    assert "rounded_corners" in run_lint(art)


def test_square_corners_on_a_margin_and_round_emblems_do_not_fire() -> None:
    framed = Image.new("RGB", (SIDE, SIDE), (255, 255, 255))
    framed.paste(clean_icon(SIDE - 40), (20, 20))  # square art on a white margin
    emblem = Image.new("RGB", (SIDE, SIDE), (30, 30, 60))
    ImageDraw.Draw(emblem).ellipse((10, 10, SIDE - 11, SIDE - 11), fill=(240, 180, 40))
    ImageDraw.Draw(emblem).text((SIDE / 2, SIDE / 2), "GO", font=ImageFont.truetype(FONT, SIDE // 4), fill=(0, 0, 0), anchor="mm")
    chamfer = clean_icon()
    d = ImageDraw.Draw(chamfer)
    k = SIDE // 6
    for x, y, sx, sy in ((0, 0, 1, 1), (SIDE - 1, 0, -1, 1), (0, SIDE - 1, 1, -1), (SIDE - 1, SIDE - 1, -1, -1)):
        d.polygon([(x, y), (x + sx * k, y), (x, y + sy * k)], fill=(255, 255, 255))  # cut corners at 45 degrees
    for art in (framed, emblem, chamfer):
        assert "rounded_corners" not in run_lint(art)


@pytest.mark.parametrize("shape", [(1024, 1024, 4), (1023, 771, 4), (1500, 1100, 3), (361, 200), (5, 3, 4)])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_every_kth_pixel_is_numpys_slice(shape: tuple[int, ...], k: int) -> None:
    arr = np.random.default_rng(sum(shape) + k).integers(0, 256, shape, dtype=np.uint8)
    got = lint.every_kth(Image.fromarray(arr), k)
    assert got.shape == arr[::k, ::k].shape and np.array_equal(got, arr[::k, ::k])


# --- QR codes and barcodes -------------------------------------------------------------------


def test_qr_code_fires_with_its_share_of_the_image() -> None:
    found = lint.lint_image(paste_code(clean_icon(), "QRCode", "https://example.com/game", 3), role="icon", source="icon.png")
    hit = [f for f in found if f.code == "qr_code"]
    assert len(hit) == 1 and "QR Code" in hit[0].message
    assert hit[0].value is not None and 0.05 < hit[0].value < 0.4
    assert "barcode" not in codes(found)


def test_qr_code_blurred_by_resampling_is_still_found() -> None:
    # 3 px/module in a 2x source, LANCZOS-reduced: 1.5 px/module, soft edges; the 2x pass reads it
    big = paste_code(clean_icon(SIDE * 2), "QRCode", "https://example.com/game", 3)
    small = big.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    assert "qr_code" in run_lint(small, role="thumbnail")


@pytest.mark.parametrize("shape", [(1024, 1024), (300, 17), (129, 40), (37, 53), (1, 5), (6, 1)])
def test_the_2x_pass_copy_is_pillows_bilinear_within_a_level(shape: tuple[int, int]) -> None:
    gray = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    ours = lint._double(gray).astype(int)
    pillow = np.asarray(Image.fromarray(gray).resize((shape[1] * 2, shape[0] * 2), Image.Resampling.BILINEAR)).astype(int)
    assert ours.shape == pillow.shape and np.abs(ours - pillow).max() <= 1


def test_barcode_fires_as_barcode_not_qr() -> None:
    art = paste_code(clean_icon(), "EAN13", "4006381333931", 2)
    assert {"barcode"} <= run_lint(art) and "qr_code" not in run_lint(art)


def test_with_barcode_off_the_scan_reads_the_qr_family_alone_and_finds_the_same_qr_codes() -> None:
    # the portal names QR codes; a profile that turns `barcode` off pays for a QR scan only
    qr = paste_code(clean_icon(), "QRCode", "https://example.com/game", 3)
    soft = paste_code(clean_icon(SIDE * 2), "QRCode", "https://example.com/x", 3).resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    ean = paste_code(clean_icon(), "EAN13", "4006381333931", 2)
    for art in (qr, soft):
        assert lint.find_codes(art, qr_only=True) == [c for c in lint.find_codes(art) if c[0].startswith(lint._QR_FORMATS)]
        assert lint.find_codes(art, qr_only=True)
    assert lint.find_codes(ean) and lint.find_codes(ean, qr_only=True) == []  # not even decoded
    no_barcode = [c for c in lint.LINT_CODES if c != "barcode"]
    found = codes(lint.lint_image(ean, role="icon", source="icon.png", checks=no_barcode))
    assert "barcode" not in found and "qr_code" in codes(lint.lint_image(soft, role="icon", source="icon.png", checks=no_barcode))


# --- blur ---------------------------------------------------------------------------------


def test_blur_fires_on_blurred_art_and_reports_the_sharpness() -> None:
    found = lint.lint_image(clean_icon().filter(ImageFilter.GaussianBlur(2.5)), role="icon", source="icon.png")
    hit = [f for f in found if f.code == "blur"]
    assert hit and hit[0].value is not None and hit[0].value < lint.BLUR_MIN_SHARPNESS


def test_blur_fires_on_a_heavy_upscale() -> None:
    tiny = clean_icon().resize((SIDE // 4, SIDE // 4), Image.Resampling.LANCZOS)
    assert "blur" in run_lint(tiny.resize((SIDE, SIDE), Image.Resampling.LANCZOS))


def test_sharpness_on_8_bits_is_the_float_measure_within_rounding() -> None:
    """luma8 + integer windows against the same measure on float luma (what it replaced)."""
    def float_sharpness(luma: np.ndarray) -> float:
        step = np.zeros_like(luma)
        step[:, :-1] = np.abs(np.diff(luma, axis=1))
        step[:-1] = np.maximum(step[:-1], np.abs(np.diff(luma, axis=0)))
        contrast = lint._window(luma, 5, np.maximum) - lint._window(luma, 5, np.minimum)
        peaks = (step >= lint._window(step, 3, np.maximum)) & (contrast >= lint.BLUR_MIN_CONTRAST) & (step > 0)
        return float(np.percentile(step[peaks] / contrast[peaks], lint.BLUR_PERCENTILE))

    for art in (clean_icon(), clean_icon().filter(ImageFilter.GaussianBlur(1.5))):
        want = float_sharpness(np.asarray(art.convert("L"), dtype=np.float32) / 255.0)
        got = lint.sharpness(lint.luma8(art))
        assert got is not None and abs(got - want) < 0.02, (got, want)


@pytest.mark.parametrize("low, high", [(0, 255), (0, 129), (60, 250), (100, 140)])
def test_a_hard_step_measures_one_whatever_its_height(low: int, high: int) -> None:
    # the steps are taken in 8 bits: a difference over 128 must not wrap around
    checks = np.kron((np.indices((16, 16)).sum(axis=0) % 2), np.ones((8, 8), np.int64))
    luma = np.where(checks == 1, high, low).astype(np.uint8)
    assert lint.sharpness(luma) == 1.0
    assert lint.sharpness(luma.T.copy()) == 1.0


def test_flat_sharp_art_and_smooth_gradients_are_not_blurry() -> None:
    flat = Image.new("RGB", (SIDE * 2, SIDE * 2), (40, 120, 200))
    ImageDraw.Draw(flat).rounded_rectangle((SIDE * 0.6, SIDE * 0.6, SIDE * 1.4, SIDE * 1.4), radius=30, fill=(250, 250, 250))
    flat = flat.reduce(2)  # one anti-aliased shape: few edges, all crisp
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    smooth = Image.fromarray(np.stack([x, y, (x + y) / 2], axis=-1).astype(np.uint8), "RGB")
    assert "blur" not in run_lint(flat)
    assert lint.sharpness(lint.luma8(smooth)) is None  # nothing to judge
    assert "blur" not in run_lint(smooth)


# --- safe area ------------------------------------------------------------------------------


def corner_text(im: Image.Image) -> Image.Image:
    out = im.copy()
    ImageDraw.Draw(out).text((out.width - 4, out.height - 4), "(c) ACME", font=ImageFont.truetype(FONT, out.height // 11),
                             fill=(255, 255, 255), anchor="rs", stroke_width=2, stroke_fill=(0, 0, 0))
    return out


def test_safe_area_fires_on_text_in_a_corner_of_the_icon_only() -> None:
    art = corner_text(clean_icon())
    found = lint.lint_image(art, role="icon", source="icon.png")
    hit = [f for f in found if f.code == "safe_area"]
    assert hit and hit[0].value is not None and hit[0].value >= lint.SAFE_AREA_MAX_DENSITY
    assert "safe_area" not in run_lint(art, role="thumbnail")  # thumbnails are shown square


# --- levels -------------------------------------------------------------------------------


def test_levels_make_errors_drop_off_checks_and_leave_other_codes() -> None:
    found = [Finding(code="qr_code", source="a", message="m"), Finding(code="blur", source="a", message="m"),
             Finding(code="upscaled", source="a", message="m", value=2.0), Finding(code="cover_crop", source="a", message="m")]
    levels = (("blur", "off"), ("qr_code", "error"), ("upscaled", "warning"))
    out = lint.apply_levels(found, levels)
    assert [(f.code, f.level) for f in out] == [("qr_code", "error"), ("upscaled", "warning"), ("cover_crop", "warning")]
    assert out[0].as_json()["level"] == "error" and "level" not in out[1].as_json()


def test_off_checks_are_not_run() -> None:
    spec = RenderSpec(role="icon", width=SIDE, height=SIDE, fit="cover", background=(255, 255, 255), formats=("PNG",),
                      max_bytes=10**6, lint=(("qr_code", "off"),))
    art = paste_code(clean_icon(), "QRCode", "https://example.com/game", 3)
    assert "qr_code" not in codes(lint.lint_rendition(art, spec, source="icon.png", shipped_format="PNG"))


def test_jpeg_output_is_linted_flattened() -> None:
    spec = RenderSpec(role="icon", width=SIDE, height=SIDE, fit="cover", background=(255, 255, 255), formats=("JPEG",), max_bytes=10**6)
    art = rounded(clean_icon(), 0.2, (0, 0, 0, 0))
    as_png = codes(lint.lint_rendition(art, spec, source="i", shipped_format="PNG"))
    as_jpeg = codes(lint.lint_rendition(art, spec, source="i", shipped_format="JPEG"))
    assert {"transparent_corners", "rounded_corners"} <= as_png
    assert "transparent_corners" not in as_jpeg and "rounded_corners" in as_jpeg  # white corners now


# --- profiles -------------------------------------------------------------------------------


def write_profile(tmp_path: Path, lint_table: str, *, icon: int = SIDE, thumb: int = 128) -> Path:
    text = (REPO / "presets" / "platforms" / "tiktok-minis.toml").read_text()
    text = text.replace("width = 1024\nheight = 1024", f"width = {icon}\nheight = {icon}")
    text = text.replace("width = 360\nheight = 360", f"width = {thumb}\nheight = {thumb}")
    text = text.split("[lint]")[0] + "[lint]\n" + lint_table
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return path


def test_shipped_profiles_warn_on_every_check_but_barcode() -> None:
    """The portal forbids QR codes; reading every other symbology too is opt-in (~10 % of a
    fast build). A profile's table that leaves `barcode` out gets the same default."""
    expected = {c: "off" if c == "barcode" else "warning" for c in lint.LINT_CODES}
    for name in ("tiktok-minis", "tiktok-minis-2026"):
        assert dict(load_profile(name).lint_levels()) == expected


def test_a_barcode_is_silent_by_default_and_warns_where_the_profile_turns_it_on(make_project, tmp_path: Path) -> None:
    icon = paste_code(clean_icon(SIDE), "EAN13", "4006381333931", 2)
    root = make_project(icon=icon, thumbnails={"en": {"a.png": clean_icon(200)}})
    (tmp_path / "on").mkdir()
    defaults = write_profile(tmp_path, "")  # the table left empty
    on = write_profile(tmp_path / "on", 'barcode = "warning"\n')
    assert "barcode" not in codes(build(root, out=tmp_path / "a", platform=defaults, jobs=1).findings)
    assert "barcode" in codes(build(root, out=tmp_path / "b", platform=on, jobs=1).findings)


@pytest.mark.parametrize(("table", "needle"), [('qr_cod = "error"\n', "did you mean 'qr_code'"),
                                               ('blur = "fatal"\n', "'fatal'")])
def test_bad_lint_table_is_a_config_error_naming_the_file(tmp_path: Path, table: str, needle: str) -> None:
    path = write_profile(tmp_path, table)
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def qr_project(make_project) -> Path:  # type: ignore[no-untyped-def]
    icon = paste_code(clean_icon(SIDE), "QRCode", "https://example.com/game", 3)
    return make_project(icon=icon, thumbnails={"en": {"a.png": clean_icon(200)}})  # type: ignore[no-any-return]


def test_build_lists_lint_warnings_in_the_manifest(make_project, tmp_path: Path) -> None:
    root = qr_project(make_project)
    result = build(root, out=tmp_path / "out", platform=write_profile(tmp_path, ""), jobs=1)
    assert result.return_code == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    validate_manifest(manifest)
    qr = [w for w in manifest["warnings"] if w["code"] == "qr_code"]
    assert qr and qr[0]["source"] == "icon.png" and qr[0]["value"] > 0 and "level" not in qr[0]


def test_error_level_fails_the_build_and_keep_going_still_writes(make_project, tmp_path: Path) -> None:
    root = qr_project(make_project)
    profile = write_profile(tmp_path, 'qr_code = "error"\n')
    with pytest.raises(BuildFailed) as err:
        build(root, out=tmp_path / "out", platform=profile, jobs=1)
    assert [e.source for e in err.value.errors] == ["icon.png"] and "qr_code" in err.value.errors[0].reason
    assert not (tmp_path / "out").exists()
    result = build(root, out=tmp_path / "out", platform=profile, jobs=1, keep_going=True)
    assert result.return_code == 1 and list((tmp_path / "out").glob("icon.*"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    validate_manifest(manifest)
    assert any(w["code"] == "qr_code" and w["level"] == "error" for w in manifest["warnings"])


def test_off_silences_a_check_in_the_build(make_project, tmp_path: Path) -> None:
    root = qr_project(make_project)
    result = build(root, out=tmp_path / "out", platform=write_profile(tmp_path, 'qr_code = "off"\nupscaled = "off"\n'), jobs=1)
    assert result.return_code == 0
    assert not {"qr_code", "upscaled"} & codes(result.findings)


def test_upscaled_is_levelled_like_the_other_checks(make_project, tmp_path: Path) -> None:
    root = make_project(icon=clean_icon(SIDE // 2))  # half the target: render warns, the profile levels it
    profile = write_profile(tmp_path, 'upscaled = "error"\n')
    result = build(root, out=tmp_path / "out", platform=profile, jobs=1, keep_going=True)
    hit = [f for f in result.findings if f.code == "upscaled"]
    assert result.return_code == 1 and hit and hit[0].level == "error" and hit[0].value == 2.0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "asset_pipeline", *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_build_exits_1_on_an_error_level_finding(make_project, tmp_path: Path) -> None:
    root = qr_project(make_project)
    r = cli("build", str(root), "-o", str(tmp_path / "out"), "--platform", str(write_profile(tmp_path, 'qr_code = "error"\n')))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert any("icon.png" in line and "qr_code" in line for line in r.stderr.splitlines() if line.startswith("error:"))


def test_check_lints_loose_files(tmp_path: Path) -> None:
    icon = tmp_path / "icon.png"
    paste_code(clean_icon(SIDE), "QRCode", "https://example.com/game", 3).save(icon)
    thumb = tmp_path / "thumb.png"
    clean_icon(128).save(thumb)
    r = cli("check", "--icon", str(icon), "--thumbnail", str(thumb), "--platform", str(write_profile(tmp_path, "")), "--json")
    data = json.loads(r.stdout)
    assert r.returncode == 0, r.stderr
    assert [(w["code"], w["source"]) for w in data["warnings"]] == [("qr_code", str(icon))]
    r = cli("check", "--icon", str(icon), "--platform", str(write_profile(tmp_path, 'qr_code = "error"\n')))
    assert r.returncode == 1 and "qr_code" in r.stderr


def test_check_lints_a_loose_file_of_the_wrong_size_at_the_target(tmp_path: Path) -> None:
    from asset_pipeline.checker import check_files

    icon = tmp_path / "icon.png"
    clean_icon(SIDE // 2).save(icon)
    result = check_files([icon], [], platform=write_profile(tmp_path, ""))
    assert any("must be exactly" in p for p in result.problems)
    assert [w["code"] for w in result.details["warnings"]] == ["upscaled"]


def test_corner_connectivity_matches_scipy_label() -> None:
    """lint's run-propagation flood fill (no scipy in workers) finds what scipy.ndimage.label's
    default 4-connectivity finds from the corners, on random masks and on a spiral."""
    from scipy import ndimage as ndi

    from asset_pipeline.lint import connected_to_corners

    def reference(mask: np.ndarray) -> np.ndarray:
        labels, _ = ndi.label(mask)
        h, w = mask.shape
        found = {int(labels[y, x]) for y, x in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1))} - {0}
        return np.isin(labels, list(found))

    rng = np.random.default_rng(3)
    masks = [rng.random((int(h), int(w))) < p for h, w, p in zip(rng.integers(1, 90, 150), rng.integers(1, 90, 150),
                                                                  rng.uniform(0.3, 0.8, 150), strict=True)]
    spiral = np.zeros((101, 101), bool)
    for k in range(0, 50, 4):
        spiral[k, k : 101 - k] = spiral[k : 101 - k, 100 - k] = spiral[100 - k, k : 101 - k] = True
        spiral[k + 4 : 101 - k, k] = True
    masks.append(spiral)
    # a maze: one corridor winding from the corner to the centre (the old run spreading took a
    # round per turn), a star field's holes, and a mask that reaches no corner
    maze = Image.new("L", (400, 400), 255)
    x0, y0, x1, y1, pts = 4, 4, 395, 395, []
    while x1 - x0 > 8:
        pts += [(x0, y0 + 4), (x0, y1), (x1, y1), (x1, y0), (x0 + 4, y0)]
        x0, y0, x1, y1 = x0 + 4, y0 + 4, x1 - 4, y1 - 4
    ImageDraw.Draw(maze).line(pts, fill=0, width=1)
    masks += [np.asarray(maze) > 128, rng.random((300, 300)) < 0.97, np.pad(np.ones((20, 20), bool), 1)]
    for mask in masks:
        assert np.array_equal(connected_to_corners(mask), reference(mask))

"""`check`: a bundle (rules, schema, hashes) or loose files, against a platform profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import gradient
from PIL import Image, PngImagePlugin

from asset_pipeline.checker import check_bundle, check_targets
from asset_pipeline.cli import main
from asset_pipeline.pipeline import build


def save(path: Path, size: tuple[int, int], fmt: str = "PNG", **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gradient(*size, seed=3).save(path, fmt, **kwargs)
    return path


def problems(*targets: Path, icons=(), thumbnails=(), platform=None) -> list[str]:  # type: ignore[no-untyped-def]
    return list(check_targets(list(targets), list(icons), list(thumbnails), platform=platform).problems)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proj")
    gradient(1100, 1100, seed=1).save(root / "icon.png")
    (root / "thumbnails" / "en").mkdir(parents=True)
    for i in range(2):
        gradient(400, 400, seed=10 + i).save(root / "thumbnails" / "en" / f"{i}.png")
    out = root / "dist"
    build(root, out=out, jobs=1, use_cache=False)
    return out


def copy_bundle(bundle: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(bundle, dest)
    return dest


def test_a_fresh_bundle_passes(bundle: Path) -> None:
    result = check_bundle(bundle)
    assert result.problems == () and result.return_code == 0
    assert "manifest.json" not in result.checked and any(c.startswith("icon.") for c in result.checked)


def test_a_file_whose_hash_does_not_match_the_manifest(bundle: Path, tmp_path: Path) -> None:
    out = copy_bundle(bundle, tmp_path / "b")
    m = json.loads((out / "manifest.json").read_text())
    rel = m["languages"]["en"]["thumbnails"][0]["path"]
    data = bytearray((out / rel).read_bytes())
    data[-20] ^= 0xFF  # one byte changed inside the image data
    (out / rel).write_bytes(bytes(data))
    assert f"{rel}: sha256 does not match the manifest" in check_bundle(out).problems


def test_four_thumbnails_in_one_language_of_a_bundle(bundle: Path, tmp_path: Path) -> None:
    out = copy_bundle(bundle, tmp_path / "b")
    m = json.loads((out / "manifest.json").read_text())
    thumbs = m["languages"]["en"]["thumbnails"]
    m["languages"]["en"]["thumbnails"] = thumbs + thumbs  # 4 records
    (out / "manifest.json").write_text(json.dumps(m))
    assert "languages/en: 4 thumbnails, the portal takes at most 3" in check_bundle(out).problems


def test_a_bundle_is_checked_against_another_profile(bundle: Path) -> None:
    probs = check_bundle(bundle, platform="tiktok-minis-2026").problems
    assert any("must be exactly 600x600" in p for p in probs)


def test_a_manifest_that_breaks_the_schema(bundle: Path, tmp_path: Path) -> None:
    out = copy_bundle(bundle, tmp_path / "b")
    m = json.loads((out / "manifest.json").read_text())
    del m["icon"]["sha256"]
    (out / "manifest.json").write_text(json.dumps(m))
    assert any(p.startswith("manifest.json: icon") for p in check_bundle(out).problems)


def test_a_broken_listing_in_the_manifest(bundle: Path, tmp_path: Path) -> None:
    out = copy_bundle(bundle, tmp_path / "b")
    m = json.loads((out / "manifest.json").read_text())
    m["listing"] = {"name": "G", "category": "Shooter", "description": "D", "regions": ["US"], "apple_team_id": "ABCDE12345",
                    "email": "a@e.com", "urls": {"en": {"terms": "http://e.com/t", "privacy": "https://e.com/p"}}}
    (out / "manifest.json").write_text(json.dumps(m))
    probs = check_bundle(out).problems
    assert any("category" in p for p in probs) and any("must use https" in p for p in probs)


def test_loose_files_good(tmp_path: Path) -> None:
    icon = save(tmp_path / "icon.png", (1024, 1024))
    thumb = save(tmp_path / "share.jpg", (360, 360), "JPEG")
    assert problems(icon, thumb) == []


def test_an_icon_one_pixel_short(tmp_path: Path) -> None:
    icon = save(tmp_path / "icon.png", (1023, 1024))
    assert problems(icon) == [f"{icon}: 1023x1024, the icon must be exactly 1024x1024"]
    assert problems(icons=[icon])  # the same with an explicit role


def test_a_png_named_jpg(tmp_path: Path) -> None:
    thumb = save(tmp_path / "share.jpg", (360, 360), "PNG")
    assert problems(thumb) == [f"{thumb}: extension .jpg does not match its PNG bytes"]


def test_a_file_over_the_cap(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("padding", "x" * 5_000_001)  # uncompressed tEXt: a real 360x360 PNG over 5,000,000 bytes
    thumb = save(tmp_path / "big.png", (360, 360), "PNG", pnginfo=info)
    (err,) = problems(thumbnails=[thumb])
    assert "over the thumbnail cap of 5,000,000" in err


def test_four_loose_thumbnails_in_one_language(tmp_path: Path) -> None:
    files = [save(tmp_path / "ja" / f"{i}.png", (360, 360)) for i in range(4)]
    assert problems(*files) == ["ja: 4 thumbnails given; the portal takes at most 3 per language"]
    other = [save(tmp_path / "en" / f"{i}.png", (360, 360)) for i in range(3)]
    assert problems(*files[:3], *other) == []  # three per language is fine


def test_the_newer_profile_takes_a_600_bmp_icon(tmp_path: Path) -> None:
    icon = save(tmp_path / "icon.bmp", (600, 600), "BMP")
    assert problems(icon, platform="tiktok-minis-2026") == []
    probs = problems(icon)
    assert any("BMP is not allowed for the icon" in p for p in probs) and any("exactly 1024x1024" in p for p in probs)


def test_not_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "icon.png"
    fake.write_text("<svg></svg>")
    assert problems(fake) == [f"{fake}: not a JPEG, PNG or BMP file (by its bytes)"]


def test_cli_check_exit_codes_and_one_line_errors(bundle: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(bundle)]).exit_code == 0
    bad = save(tmp_path / "icon.png", (1023, 1024))
    r = runner.invoke(main, ["check", str(bad)])
    assert r.exit_code == 1 and "1023x1024" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["check", "--thumbnail", str(bad), "--json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["errors"]
    assert runner.invoke(main, ["check"]).exit_code == 2
    assert runner.invoke(main, ["check", str(tmp_path / "missing")]).exit_code == 1



def test_the_newer_profile_chosen_in_assets_toml_builds_and_checks(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}}, toml='platform = "tiktok-minis-2026"\n')
    out = tmp_path / "out"
    m = build(root, out=out, jobs=1).manifest
    assert m["platform"]["name"] == "tiktok-minis-2026" and m["icon"]["width"] == 600
    with Image.open(out / m["icon"]["path"]) as im:
        assert im.size == (600, 600)
    assert check_bundle(out).problems == ()  # checked against the bundle's own profile
    assert any("exactly 1024x1024" in p for p in check_bundle(out, platform="tiktok-minis").problems)


def test_a_profile_asset_side_past_8192_is_a_config_error(tmp_path: Path) -> None:
    """A 100000 px icon target was taken: the build then used 1 GB and failed in jpegli
    ("Input image too big") on every source, each as an internal error."""
    from asset_pipeline.config import load_profile
    from asset_pipeline.errors import ConfigError

    text = (Path(__file__).resolve().parent.parent / "presets" / "platforms" / "tiktok-minis.toml").read_text()
    mine = tmp_path / "mine.toml"
    mine.write_text(text.replace("width = 1024", "width = 100000", 1))
    with pytest.raises(ConfigError, match="width and height must be at most 8192 px"):
        load_profile(mine)

"""The review page (report.html) and the contact sheet, on real builds of real images."""

from __future__ import annotations

import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import gradient
from PIL import Image

from asset_pipeline import contact_sheet as cs
from asset_pipeline.cli import main
from asset_pipeline.contact_sheet import contact_sheet
from asset_pipeline.html_report import render_report
from asset_pipeline.pipeline import build


class Page(HTMLParser):
    """What a reader (or a screen reader) gets from the page: images, links, anchors, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.role_imgs: list[dict[str, str | None]] = []
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.tags: set[str] = set()
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "img":
            self.images.append(a)
        if a.get("role") == "img":
            self.role_imgs.append(a)
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def plain(self) -> str:
        return " ".join("".join(self.text).split())


def bundle_images(manifest: dict) -> set[str]:
    paths = {manifest["icon"]["path"]}
    for lang in manifest["languages"].values():
        paths.update(t["path"] for t in lang["thumbnails"])
        if lang.get("icon"):
            paths.add(lang["icon"]["path"])
    return paths


def copy_built(built: tuple[Path, Path], dest: Path) -> tuple[Path, Path]:
    project, bundle = built
    shutil.copytree(project, dest / project.name)
    return dest / project.name, dest / project.name / bundle.relative_to(project)


def test_build_writes_a_self_contained_page_showing_every_asset(
    built_sample: tuple[Path, Path],
) -> None:
    project, bundle = built_sample
    manifest = json.loads((bundle / "manifest.json").read_text())
    raw = (bundle / "report.html").read_text("utf-8")
    page = Page(raw)
    # no script (readable without JavaScript), nothing fetched from elsewhere
    assert "script" not in page.tags and "<script" not in raw.lower()
    assert "link" not in page.tags and "@import" not in raw and "url(" not in raw
    srcs = [str(i["src"]) for i in page.images]
    for s in srcs:
        assert s.startswith("data:image/jpeg;base64,") or (bundle / s).is_file(), s
    assert bundle_images(manifest) <= set(srcs)
    # the icon at full size, at phone-list sizes and under both masks
    icon = manifest["icon"]["path"]
    icon_sizes = {(i["width"], i["height"]) for i in page.images if i["src"] == icon}
    assert {("1024", "1024"), ("48", "48"), ("96", "96"), ("192", "192")} <= icon_sizes
    assert 'class="mask circle"' in raw and 'class="mask rounded"' in raw
    # alt text on every image, and a label on every placeholder
    assert all(i.get("alt") for i in page.images)
    assert all(r.get("aria-label") for r in page.role_imgs)
    # en's thumbnails in slot order, each with bytes, format, encoder settings and score
    en = manifest["languages"]["en"]["thumbnails"]
    positions = [raw.index(f'src="{t["path"]}" width="360"') for t in en]
    assert positions == sorted(positions)
    for t in en:
        assert f"{t['bytes']:,} bytes" in page.plain
        assert f"quality={t['encoder']['quality']}" in raw if "quality" in t["encoder"] else True
        assert f"ssim {t['quality']['ssim']}" in page.plain
    # pt-BR inherits from en: said, and shown with en's files
    assert "No thumbnails of its own: the portal shows en's" in page.plain
    # every dropped candidate, beside what it duplicates, with its distances and a preview
    for d in manifest["dropped"]:
        anchor = (
            f"dropped-{d['language']}-"
            + d["source"].replace("/", "-").replace("_", "-").replace(".", "-").lower()
        )
        assert anchor in page.ids
    dup = next(d for d in manifest["dropped"] if d["reason"] == "duplicate")
    assert dup["duplicate_of"] in page.plain and "kept as slot 2" in page.plain
    for name, value in dup["distances"].items():
        assert f'<th scope="row">{name}</th><td class="num' in raw and f">{value}</td>" in raw
    previews = [s for s in srcs if s.startswith("data:")]
    assert len(previews) == len(manifest["dropped"])
    # warnings: each has an anchor, links to its asset, and the asset links back
    for i, w in enumerate(manifest["warnings"], 1):
        assert f"warning-{i}" in page.ids
        assert f"#warning-{i}" in page.hrefs
        assert w["message"] in page.plain
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids, f"dangling link {href}"
        else:
            assert (bundle / href).is_file(), href
    assert len(raw.encode()) < 200_000  # embedded previews stay small


def test_page_and_bundle_are_byte_identical_across_builds(
    built_sample: tuple[Path, Path], tmp_path: Path
) -> None:
    project, bundle = built_sample
    out = tmp_path / "again"
    build(
        project, out=out, jobs=1, cache_dir=project.parent / "cache"
    )  # other jobs and OUT, warm cache: same bytes
    first = {p.relative_to(bundle): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    again = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert Path("report.html") in first
    assert first == again


def test_report_command_regenerates_the_bytes_build_wrote(
    built_sample: tuple[Path, Path], tmp_path: Path
) -> None:
    project, bundle = copy_built(built_sample, tmp_path)
    written = (bundle / "report.html").read_bytes()
    (bundle / "report.html").unlink()
    # the default OUT lies in the project: `report` finds the sources by itself
    res = CliRunner().invoke(main, ["report", str(bundle)])
    assert res.exit_code == 0, res.output
    assert (bundle / "report.html").read_bytes() == written
    # a bundle elsewhere needs --project for the previews of dropped candidates
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(bundle, elsewhere)
    res = CliRunner().invoke(main, ["report", str(elsewhere), "--project", str(project)])
    assert res.exit_code == 0, res.output
    assert (elsewhere / "report.html").read_bytes() == written
    # without it: placeholders naming the source, everything else still there
    res = CliRunner().invoke(main, ["report", str(elsewhere)])
    assert res.exit_code == 0 and "--project" in res.output
    page = Page((elsewhere / "report.html").read_text())
    assert not [i for i in page.images if str(i["src"]).startswith("data:")]
    assert len(page.role_imgs) == 3 and "no preview: regenerate with --project" in page.plain
    assert "thumbnails/en/03_gameplay_copy.jpg" in page.plain and "dhash" in page.plain
    assert bundle_images(json.loads((elsewhere / "manifest.json").read_text())) <= {
        str(i["src"]) for i in page.images
    }
    # a project that does not hold the sources gives placeholders too, not an error
    res = CliRunner().invoke(main, ["report", str(elsewhere), "--project", str(tmp_path)])
    assert (
        res.exit_code == 0
        and "source preview not available" in (elsewhere / "report.html").read_text()
    )


def test_no_report_and_check_agree(built_sample: tuple[Path, Path], tmp_path: Path) -> None:
    project, bundle = copy_built(built_sample, tmp_path)
    cache = ["--cache-dir", str(built_sample[0].parent / "cache")]
    res = CliRunner().invoke(main, ["build", str(project), "--check", *cache])
    assert res.exit_code == 0, res.output  # the page is part of what a build writes
    res = CliRunner().invoke(main, ["build", str(project), "--no-report", *cache])
    assert res.exit_code == 0, res.output
    assert not (bundle / "report.html").exists() and (bundle / "manifest.json").is_file()
    res = CliRunner().invoke(main, ["build", str(project), "--check", *cache])
    assert res.exit_code == 1 and "report.html: missing" in res.output
    res = CliRunner().invoke(main, ["build", str(project), "--check", "--no-report", *cache])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["check", str(bundle)])
    assert res.exit_code == 0, res.output


def test_everything_from_the_manifest_is_escaped(built_sample: tuple[Path, Path]) -> None:
    _project, bundle = built_sample
    manifest = json.loads((bundle / "manifest.json").read_text())
    evil = '<img src=x onerror="alert(1)">&"\'.png'
    manifest["warnings"].append(
        {"code": "<b>code</b>", "source": evil, "message": "<script>alert(2)</script>"}
    )
    manifest["dropped"].append(
        {"source": evil, "language": "en", "reason": "unreadable", "message": "<i>bad</i>"}
    )
    manifest["listing"]["name"] = "Star</title><script>x()</script>"
    raw = render_report(manifest).decode()
    page = Page(raw)
    assert "script" not in page.tags and "<b>code</b>" not in raw and "<i>bad</i>" not in raw
    assert all(str(i["src"]) != "x" for i in page.images)
    assert evil in page.plain and "<script>alert(2)</script>" in page.plain


def test_own_icon_per_language_gets_its_own_review(make_project, tmp_path: Path) -> None:
    root = make_project(
        icon=gradient(400, 400, seed=3),
        thumbnails={
            "en": {"a.png": gradient(400, 400, seed=4)},
            "ja": {"b.png": gradient(400, 400, seed=5)},
        },
        toml='preset = "fast"\n',  # no quality search: this test is about the page
    )
    (root / "icons").mkdir()
    gradient(400, 400, seed=6, mode="RGBA").save(root / "icons" / "ja.png")
    out = tmp_path / "out"
    build(root, out=out, jobs=1)
    manifest = json.loads((out / "manifest.json").read_text())
    ja_icon = manifest["languages"]["ja"]["icon"]["path"]
    raw = (out / "report.html").read_text()
    page = Page(raw)
    ja_sizes = {(i["width"], i["alt"]) for i in page.images if i["src"] == ja_icon}
    assert ("1024", "Japanese icon at full size, 1024 by 1024 px") in ja_sizes
    assert any("circle mask" in str(alt) for _w, alt in ja_sizes)
    assert "No icon of its own" not in page.plain  # both languages have their own icon


def _tile_at(sheet: Image.Image, col: int, row_top: int) -> np.ndarray:
    x = cs.MARGIN + col * (cs.TILE + cs.GAP)
    return np.asarray(
        sheet.crop((x, row_top, x + cs.TILE, row_top + cs.TILE)).convert("RGB"), dtype=np.float32
    )


def test_contact_sheet_is_a_deterministic_png_grid(
    built_sample: tuple[Path, Path], tmp_path: Path
) -> None:
    project, bundle = copy_built(built_sample, tmp_path)
    sheet_path = tmp_path / "sheet.png"
    res = CliRunner().invoke(main, ["report", str(bundle), "--contact-sheet", str(sheet_path)])
    assert res.exit_code == 0, res.output
    data = sheet_path.read_bytes()
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert contact_sheet(manifest, bundle, project=project) == data  # same input, same bytes
    with Image.open(io.BytesIO(data)) as sheet:
        assert sheet.format == "PNG"
        sheet.load()
        # en: icon, circle, rounded square, 3 thumbnails, 3 dropped; ja: icon + 2; pt-BR: icon + 3
        cell_h = cs.TILE + 6 + cs.CAPTION_LINES * cs.LINE + cs.GAP
        assert sheet.size == (
            2 * cs.MARGIN + 9 * (cs.TILE + cs.GAP) - cs.GAP,
            64 + 3 * (28 + cell_h) + cs.MARGIN,
        )
        # the en row shows the bundle's thumbnails in slot order
        row_top = 64 + 28
        for slot, rec in enumerate(manifest["languages"]["en"]["thumbnails"]):
            with Image.open(bundle / rec["path"]) as im:
                want = np.asarray(cs._square(im), dtype=np.float32)
            got = _tile_at(sheet, 3 + slot, row_top)
            assert np.abs(got - want).mean() < 1.0, f"slot {slot + 1}"
        # the circle mask leaves the corners to the background
        circle = _tile_at(sheet, 1, row_top)
        assert (
            tuple(circle[2, 2].astype(int)) == cs.BG and tuple(circle[80, 80].astype(int)) != cs.BG
        )
    # inside the bundle it would be an unlisted file: refused
    res = CliRunner().invoke(
        main, ["report", str(bundle), "--contact-sheet", str(bundle / "sheet.png")]
    )
    assert res.exit_code == 2 and "outside the bundle" in res.output


def test_report_on_something_that_is_not_a_bundle(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "bundle folder not found" in res.output
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 1 and "manifest.json: missing" in res.output
    (tmp_path / "manifest.json").write_text("{not json")
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 1 and "not valid JSON" in res.output
    (tmp_path / "manifest.json").write_text("{}")
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 1 and "manifest schema" in res.output
    assert "Traceback" not in res.output


def test_a_contact_sheet_path_under_a_file_is_one_line(tmp_path: Path) -> None:
    """The failed write's own clean-up raised NotADirectoryError: an internal error."""
    from asset_pipeline.errors import OutputError
    from asset_pipeline.report_cli import _write_atomic

    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="sheet.png: cannot write"):
        _write_atomic(blocker / "sheet.png", b"png bytes")

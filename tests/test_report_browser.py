"""report.html in a real browser: headless Chromium loads it, every image decodes, no console error.

Set ASSET_PIPELINE_REPORT_SCREENSHOT=/some/file.png to keep the full-page screenshot of the
sample project's report for a person to look at.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from headless import Browser, find_chromium
from PIL import Image

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian package `chromium`; .ci/run installs it where it can)",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


def test_sample_report_renders_cleanly(
    browser: Browser, built_sample: tuple[Path, Path], tmp_path: Path
) -> None:
    _project, bundle = built_sample
    page = bundle / "report.html"
    run = browser.load(page.as_uri(), width=1280, height=900, pdf=True)
    assert run.console_errors == []
    assert len(run.images) > 20
    broken = [i for i in run.images if not (i["complete"] and i["naturalWidth"] > 0)]
    assert broken == []
    assert all(i["alt"] for i in run.images)
    # nothing but the page's own folder and embedded data was asked for
    for url in run.requests:
        assert url.startswith((bundle.as_uri() + "/", "data:")), url
    # the screenshot is of the whole page, as a person scrolling would see it
    shot = tmp_path / "report.png"
    shot.write_bytes(run.screenshot)
    with Image.open(io.BytesIO(run.screenshot)) as im:
        assert im.format == "PNG" and im.width == 1280 and im.height > 2000
        # not a blank page: the header band is dark, the body light
        assert sum(im.getpixel((5, 5))[:3]) < 150 and sum(im.getpixel((5, im.height - 5))[:3]) > 600
    keep = os.environ.get("ASSET_PIPELINE_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)
    print(f"screenshot: {keep or shot}")
    assert run.pdf.startswith(b"%PDF")  # printing works too


def test_the_harness_sees_broken_images_and_console_errors(
    browser: Browser, tmp_path: Path
) -> None:
    """The checks above can fail: a missing image and a console error are caught."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="missing.png" alt="gone">'
        '<script>console.error("boom")</script></body></html>'
    )
    run = browser.load(page.as_uri(), screenshot=False)
    assert run.images[0]["naturalWidth"] == 0
    assert any("missing.png" in e for e in run.console_errors)
    assert "boom" in run.console_errors

"""Shared fixtures: an isolated cache and log folder per test, and small real source projects."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "starfall"
SCHEMA = json.loads((REPO / "asset_pipeline" / "schema" / "manifest.schema.json").read_text())


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real cache or log folder."""
    base = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("ASSET_PIPELINE_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ASSET_PIPELINE_LOG_DIR", str(base / "log"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def gradient(w: int, h: int, *, seed: int = 0, mode: str = "RGB") -> Image.Image:
    """A smooth but structured test image (distinct per seed)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    fx, fy = rng.uniform(2, 9, size=2)
    r = 127 + 120 * np.sin(x / w * fx * np.pi + seed)
    g = 127 + 120 * np.cos(y / h * fy * np.pi + seed * 0.7)
    b = 127 + 120 * np.sin((x + y) / (w + h) * 5 * np.pi + seed * 1.3)
    arr = np.stack([r, g, b], axis=-1).clip(0, 255).astype(np.uint8)
    im = Image.fromarray(arr, "RGB")
    if mode == "RGBA":
        alpha = np.zeros((h, w), np.uint8)
        cy, cx = h / 2, w / 2
        inside = ((x - cx) / (w * 0.4)) ** 2 + ((y - cy) / (h * 0.4)) ** 2 <= 1
        alpha[inside] = 255
        im.putalpha(Image.fromarray(alpha, "L"))
    return im


def validate_manifest(data: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A private copy of the shipped sample project."""
    dest = tmp_path / "starfall"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("dist"))
    return dest


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project: `make_project(icon=Image, thumbnails={"en": {"a.png": Image}}, toml="...")`."""

    def make(*, icon: Image.Image | None = None, icon_name: str = "icon.png",
             thumbnails: dict[str, dict[str, Image.Image | bytes]] | None = None,
             toml: str | None = None, name: str = "proj", save_kwargs: dict | None = None) -> Path:
        root = tmp_path / name
        root.mkdir()
        (icon or gradient(1400, 1100, seed=1)).save(root / icon_name, **(save_kwargs or {}))
        for lang, files in (thumbnails or {}).items():
            d = root / "thumbnails" / lang
            d.mkdir(parents=True)
            for fname, img in files.items():
                if isinstance(img, bytes):
                    (d / fname).write_bytes(img)
                else:
                    img.save(d / fname)
        if toml is not None:
            (root / "assets.toml").write_text(toml)
        return root

    return make


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample project built once per test session (per xdist worker): (project, bundle).

    Read-only for tests: copy it before changing anything.
    """
    from asset_pipeline.pipeline import build

    base = tmp_path_factory.mktemp("built_sample")
    project = base / "starfall"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("dist"))
    with pytest.MonkeyPatch.context() as mp:  # session scope: the per-test isolation is not in place yet
        mp.setenv("ASSET_PIPELINE_CACHE_DIR", str(base / "cache"))
        mp.setenv("ASSET_PIPELINE_LOG_DIR", str(base / "log"))
        build(project, jobs=2)  # into project/dist, the default OUT
    return project, project / "dist"

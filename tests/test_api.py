"""The curated public API: complete, sorted, and every name resolves."""

from __future__ import annotations

import asset_pipeline


def test_every_exported_name_resolves() -> None:
    assert asset_pipeline.__all__ == sorted(asset_pipeline.__all__)
    for name in asset_pipeline.__all__:
        assert getattr(asset_pipeline, name) is not None


def test_build_is_callable_from_python(make_project, tmp_path) -> None:
    root = make_project()
    result = asset_pipeline.build(root, out=tmp_path / "out", jobs=1)
    assert result.return_code == 0 and (tmp_path / "out" / "manifest.json").is_file()

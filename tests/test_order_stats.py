"""order_stats against numpy itself: the same values to the bit, on the dtypes the callers use."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from asset_pipeline.order_stats import median, percentile


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8])
def test_median_equals_numpy(dtype: type) -> None:
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 4, 7, 64, 101, 1000):
        flat = (rng.normal(0, 1e3, n) if np.dtype(dtype).kind == "f" else rng.integers(0, 200, n)).astype(dtype)
        assert median(flat) == np.median(flat), n
        grid = rng.integers(0, 255, (n, 3)).astype(dtype)
        assert np.array_equal(median(grid, axis=0), np.median(grid, axis=0)), n
        assert median(grid, axis=0).dtype == np.median(grid, axis=0).dtype


@pytest.mark.parametrize("q", [0.0, 10.0, 50.0, 90.0, 99.5, 100.0])
def test_percentile_equals_numpy(q: float) -> None:
    rng = np.random.default_rng(int(q))
    for n in (1, 2, 3, 10, 57, 1000, 12345):
        for values in (rng.random(n, dtype=np.float32), rng.integers(0, 9, n).astype(np.float32) / 7):
            assert percentile(values, q) == float(np.percentile(values, q)), (n, q)


def test_empty_input_is_refused() -> None:
    with pytest.raises(ValueError):
        median(np.array([], np.float32))
    with pytest.raises(ValueError):
        percentile(np.array([], np.float32), 90)


def test_a_build_never_imports_numpy_ma(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """numpy.ma was 20 ms of every start-up: numpy's NaN checks in median and percentile."""
    script = f"""
import sys
from pathlib import Path
from PIL import Image
from asset_pipeline.pipeline import build
root = Path({str(tmp_path)!r}) / "p"
(root / "thumbnails" / "en").mkdir(parents=True)
Image.radial_gradient("L").convert("RGB").resize((700, 500)).save(root / "icon.png")
Image.linear_gradient("L").convert("RGBA").resize((600, 400)).save(root / "thumbnails" / "en" / "a.png")
build(root, out=root / "dist", jobs=1, use_cache=False)
print("numpy.ma" in sys.modules)
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"

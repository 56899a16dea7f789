"""`asset-pipeline bench`: real encodes of a tiny corpus, JSON against its schema, CSV, chart."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from asset_pipeline.bench import pareto
from asset_pipeline.cli import main

from conftest import gradient

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "asset_pipeline" / "schema" / "bench.schema.json").read_text())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "art"
    (root / "flat").mkdir(parents=True)
    rng = np.random.default_rng(2)
    base = np.asarray(gradient(120, 90, seed=2), dtype=np.float32)
    photo = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(photo, "RGB").save(root / "photo.jpg", quality=95)
    logo = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((10, 10, 90, 90), fill=(230, 60, 40, 255))
    logo.save(root / "flat" / "logo.png")
    (root / ".DS_Store").write_bytes(b"\0\0")  # hidden: ignored
    return root


@pytest.fixture
def my_preset(tmp_path: Path) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text('format = "jpeg"\n[jpeg]\nquality = 60\nsubsampling = "4:2:0"\n')
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["bench", *args])
    return result.exit_code, result.stdout, result.stderr


def test_bench_json_validates_against_its_schema(corpus: Path, my_preset: Path) -> None:
    code, out, _ = _invoke(str(corpus), "--preset", "balanced", "--preset", "fast", "--preset", str(my_preset),
                           "--size", "64", "--baseline", "--json")
    assert code == 0
    data = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert [p["name"] for p in data["presets"]] == ["balanced", "fast", "mine", "pillow-q90"]
    assert [im["path"] for im in data["images"]] == [f"{corpus.as_posix()}/flat/logo.png", f"{corpus.as_posix()}/photo.jpg"]
    logo, photo = data["images"]
    assert logo["alpha"] and logo["results"]["balanced"]["format"] == "PNG"
    assert photo["results"]["mine"]["format"] == "JPEG"
    assert photo["results"]["mine"]["settings"]["quality"] == 60
    for name, total in data["totals"].items():
        assert total["bytes"] == sum(im["results"][name]["bytes"] for im in data["images"])
        assert total["images"] == 2 and total["failed"] == 0
    assert any(t["pareto"] for t in data["totals"].values())


def test_schema_rejects_a_wrong_shape(corpus: Path) -> None:
    code, out, _ = _invoke(str(corpus), "--preset", "fast", "--size", "32", "--json")
    data = json.loads(out)
    data["images"][0]["results"]["fast"]["bytes"] = "12 kB"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(data)


def test_bench_csv_has_a_row_per_image_and_preset(corpus: Path) -> None:
    code, out, _ = _invoke(str(corpus), "--preset", "fast", "--preset", "lossless", "--size", "48", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4
    assert {r["preset"] for r in rows} == {"fast", "lossless"}
    assert all(int(r["bytes"]) > 0 and 0 < float(r["score"]) <= 1 for r in rows)


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_bench_chart_marks_the_pareto_front(corpus: Path, tmp_path: Path, suffix: str) -> None:
    chart = tmp_path / f"chart{suffix}"
    code, out, err = _invoke(str(corpus), "--preset", "fast", "--preset", "lossless", "--size", "48", "--chart", str(chart))
    assert code == 0
    text = chart.read_text()
    svg = text[text.index("<svg"): text.index("</svg>") + 6]
    root = ET.fromstring(svg)  # well-formed, self-contained
    assert root.tag.endswith("svg")
    assert "Pareto front" in text and "lossless (Pareto)" in text
    assert "fast" in out and "lossless" in out  # the tables


def test_pareto_front() -> None:
    points = {"a": (100.0, 0.95), "b": (200.0, 0.99), "c": (150.0, 0.94), "d": (300.0, 1.0)}
    assert pareto(points) == {"a", "b", "d"}  # c has more bytes than a and a lower score


def test_bench_reports_unreadable_files_and_exits_1(corpus: Path) -> None:
    (corpus / "broken.png").write_bytes(b"not a png")
    code, out, err = _invoke(str(corpus), "--preset", "fast", "--size", "32", "--json")
    assert code == 1
    data = json.loads(out)
    assert [e["source"].rsplit("/", 1)[-1] for e in data["errors"]] == ["broken.png"]
    assert len(data["images"]) == 2
    assert "broken.png" in err


def test_bench_unknown_preset_is_a_usage_error(corpus: Path) -> None:
    code, _, err = _invoke(str(corpus), "--preset", "balancd")
    assert code == 2
    assert "did you mean 'balanced'" in err


def test_bench_help_documents_its_options() -> None:
    code, out, _ = _invoke("--help")
    assert code == 0
    for option in ("--preset", "--size", "--baseline", "--json", "--csv", "--chart"):
        assert option in out


def test_bench_html_is_a_report_in_the_review_page_style(corpus: Path, tmp_path: Path) -> None:
    from asset_pipeline.html_report import CSS

    chart = tmp_path / "bench.html"
    code, _, _ = _invoke(str(corpus), "--preset", "fast", "--preset", "lossless", "--size", "48", "--chart", str(chart))
    assert code == 0
    text = chart.read_text()
    assert CSS.strip()[:60] in text  # the review page's stylesheet, embedded
    assert "Content-Security-Policy" in text and "<script" not in text and "http://" not in text.replace("http://www.w3.org", "")
    assert "<h2>Per preset</h2>" in text and "<h2>Per image</h2>" in text
    assert text.count("<tr>") >= 1 + 2 + 1 + 4  # header + 2 presets, header + 2 images x 2 presets

"""End to end: `build` on real images, checked independently of the code under test."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from asset_pipeline.errors import BuildFailed, ConfigError
from asset_pipeline.pipeline import build
from bundle_checks import verify_bundle
from conftest import gradient


def test_sample_project_builds_a_valid_bundle(sample_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(sample_project, out=out, jobs=2)
    assert result.return_code == 0
    m = verify_bundle(out)
    langs = m["languages"]
    assert set(langs) == {"en", "ja", "pt-BR"}
    assert langs["pt-BR"]["inherited_from"] == "en"
    assert langs["pt-BR"]["thumbnails"] == langs["en"]["thumbnails"]
    assert not (out / "thumbnails" / "pt-BR").exists()
    assert langs["ja"]["inherited_from"] is None and len(langs["ja"]["thumbnails"]) == 2
    # the near-duplicate is dropped in favour of the larger original, then the cap applies
    dropped = {d["source"]: d for d in m["dropped"]}
    dup = dropped["thumbnails/en/03_gameplay_copy.jpg"]
    assert dup["reason"] == "duplicate" and dup["duplicate_of"] == "thumbnails/en/02_gameplay.jpg"
    assert [d["reason"] for d in m["dropped"] if d["reason"] == "over_limit"] == ["over_limit", "over_limit"]
    assert [t["source"]["path"] for t in langs["en"]["thumbnails"]] == [
        "thumbnails/en/01_title.png", "thumbnails/en/02_gameplay.jpg", "thumbnails/en/04_boss.png"]
    # the boss has real transparency: kept as PNG with alpha
    boss = langs["en"]["thumbnails"][2]
    assert boss["format"] == "PNG"
    with Image.open(out / boss["path"]) as im:
        assert im.mode in ("RGBA", "P", "LA") and im.convert("RGBA").getextrema()[3][0] < 255


def test_build_twice_is_byte_identical(sample_project: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    build(sample_project, out=a, jobs=1, use_cache=False)
    build(sample_project, out=b, jobs=2, use_cache=False)
    files_a = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    assert files_a == files_b


def _exif_rotated_jpeg() -> bytes:
    """Upright: red left half, blue right half, 1200x800. Stored rotated, Orientation 6."""
    upright = Image.new("RGB", (1200, 800), (220, 30, 30))
    upright.paste((30, 30, 220), (600, 0, 1200, 800))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone writes for orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def test_exif_rotated_jpeg_comes_out_upright(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"phone.jpg": _exif_rotated_jpeg()}})
    out = tmp_path / "out"
    build(root, out=out, jobs=1)
    m = verify_bundle(out)
    path = out / m["languages"]["en"]["thumbnails"][0]["path"]
    with Image.open(path) as im:
        rgb = im.convert("RGB")
        left, right = rgb.getpixel((20, 180)), rgb.getpixel((340, 180))
    assert left[0] > 150 and left[2] < 100, left
    assert right[2] > 150 and right[0] < 100, right


def test_non_square_source_is_cover_cropped_from_the_centre(make_project, tmp_path: Path) -> None:
    wide = Image.new("RGB", (3000, 1000), (0, 200, 0))
    wide.paste((250, 250, 250), (1000, 0, 2000, 1000))  # the centre square is white
    root = make_project(icon=wide)
    out = tmp_path / "out"
    result = build(root, out=out, jobs=1)
    verify_bundle(out)
    with Image.open(out / result.manifest["icon"]["path"]) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.int32)
    assert arr[10:-10, 10:-10].min() > 230  # nothing of the green sides survived
    assert any(f.code == "cover_crop" for f in result.findings)


def test_rgba_source_is_flattened_onto_the_background_for_jpeg(make_project, tmp_path: Path) -> None:
    rgba = gradient(1200, 1200, seed=3, mode="RGBA")
    toml = 'preset = "fast"\n[icon]\nbackground = "#ff00ff"\n'
    preset = tmp_path / "jpeg.toml"
    preset.write_text('format = "jpeg"\n[jpeg]\nquality = 90\n')
    root = make_project(icon=rgba, toml=toml)
    out = tmp_path / "out"
    result = build(root, out=out, preset=str(preset), jobs=1)
    m = verify_bundle(out)
    assert m["icon"]["format"] == "JPEG"
    with Image.open(out / "icon.jpg") as im:
        corner = im.convert("RGB").getpixel((5, 5))
    assert corner[0] > 235 and corner[1] < 25 and corner[2] > 235, corner  # magenta, not black
    assert any(f.code == "alpha_flattened" for f in result.findings)


def test_more_than_three_candidates_are_capped_in_order(make_project, tmp_path: Path) -> None:
    thumbs = {f"{i:02d}.png": gradient(500, 500, seed=10 + i * 7) for i in range(1, 6)}
    root = make_project(thumbnails={"en": thumbs})
    out = tmp_path / "out"
    result = build(root, out=out, jobs=2)
    m = verify_bundle(out)
    kept = [t["source"]["path"] for t in m["languages"]["en"]["thumbnails"]]
    assert kept == ["thumbnails/en/01.png", "thumbnails/en/02.png", "thumbnails/en/03.png"]
    over = sorted(d["source"] for d in m["dropped"] if d["reason"] == "over_limit")
    assert over == ["thumbnails/en/04.png", "thumbnails/en/05.png"]
    assert result.return_code == 0


def test_language_without_thumbnails_inherits_en(make_project, tmp_path: Path) -> None:
    # a complete listing (an incomplete one fails the build); ja is declared by its URLs only
    toml = ('[listing]\nname = "G"\ncategory = "Puzzle"\ndescription = "D"\nregions = ["US"]\n'
            'apple_team_id = "ABCDE12345"\nemail = "a@e.com"\n'
            '[listing.urls.en]\nterms = "https://e.com/t"\nprivacy = "https://e.com/p"\n'
            '[listing.urls.ja]\nterms = "https://e.com/t"\nprivacy = "https://e.com/p"\n')
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}}, toml=toml)
    out = tmp_path / "out"
    m = build(root, out=out, jobs=1).manifest
    assert m["languages"]["ja"]["inherited_from"] == "en"
    assert m["languages"]["ja"]["thumbnails"] == m["languages"]["en"]["thumbnails"]
    assert not (out / "thumbnails" / "ja").exists()


def test_corrupt_source_fails_the_build_and_leaves_out_untouched(make_project, tmp_path: Path) -> None:
    good = make_project(name="good", thumbnails={"en": {"a.png": gradient(400, 400)}})
    out = tmp_path / "out"
    build(good, out=out, jobs=1)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = make_project(name="bad", thumbnails={"en": {"a.png": gradient(400, 400), "broken.png": b"\x89PNG\r\n\x1a\nnot really"}})
    with pytest.raises(BuildFailed) as info:
        build(bad, out=out, jobs=1)
    assert any("broken.png" in e.source for e in info.value.errors)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_keep_going_writes_the_bundle_and_records_the_unreadable_source(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400), "b.png": b""}})
    out = tmp_path / "out"
    result = build(root, out=out, jobs=1, keep_going=True)
    assert result.return_code == 1 and result.written
    m = verify_bundle(out)
    assert {"source": "thumbnails/en/b.png", "language": "en", "reason": "unreadable", "message": "empty file (0 bytes)"} in m["dropped"]


def test_a_bug_met_while_preparing_one_source_fails_that_source_only(make_project, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An error that is no AssetError in the decode/fingerprint/render stage (there was one
    under a profiler) ended the whole build with "internal error"; now it is that source's
    failure, named, and --keep-going writes the rest (the traceback goes to the log: `_unexpected`,
    as test_process.py checks for an encode)."""
    from asset_pipeline import work

    real = work._load

    def load(source, plan, preset):  # type: ignore[no-untyped-def]
        if source.rel.endswith("b.png"):
            raise RuntimeError("simulated bug")
        return real(source, plan, preset)

    monkeypatch.setattr(work, "_load", load)
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400), "b.png": gradient(400, 400, seed=9)}})
    with pytest.raises(BuildFailed) as info:
        build(root, out=tmp_path / "out", jobs=1, use_cache=False)
    assert [(e.source, e.reason) for e in info.value.errors] == [
        ("thumbnails/en/b.png", "internal error: RuntimeError: simulated bug")]
    result = build(root, out=tmp_path / "out", jobs=1, use_cache=False, keep_going=True)
    assert result.return_code == 1 and result.written
    m = verify_bundle(tmp_path / "out")
    assert [t["source"]["path"] for t in m["languages"]["en"]["thumbnails"]] == ["thumbnails/en/a.png"]


def test_missing_project_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        build(tmp_path / "nope", out=tmp_path / "out")


def test_out_inside_a_thumbnails_folder_is_refused(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400)}})
    with pytest.raises(ConfigError, match="source folder"):
        build(root, out=root / "thumbnails" / "en" / "out")
    with pytest.raises(ConfigError, match="project"):
        build(root, out=root)


def test_out_under_a_file_is_refused_before_any_work(make_project, tmp_path: Path) -> None:
    """`-o notes.txt/dist`: a usage error (exit 2) named at once, not an internal error after
    every source was decoded and encoded (it was FileExistsError from the lock's mkdir)."""
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400)}})
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError, match="notes.txt is a file"):
        build(root, out=blocker / "dist" / "deeper", cache_dir=cache)
    assert not list(cache.rglob("*.bin"))  # nothing was encoded


def test_a_bundle_folder_that_cannot_be_made_is_an_output_error(tmp_path: Path) -> None:
    """The library's own guards, for callers that skip check_out_dir: one-line OutputErrors."""
    from asset_pipeline.bundle import locked, write_bundle
    from asset_pipeline.errors import OutputError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create lock file"), locked(blocker / "a" / "out"):
        pass
    with pytest.raises(OutputError, match="cannot write the bundle"):
        write_bundle(blocker / "a" / "out", {"manifest.json": b"{}"})


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads which file an fd is through /proc")
def test_every_bundle_file_is_synced_before_the_swap_and_a_failed_sync_keeps_the_old_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    from asset_pipeline import bundle
    from asset_pipeline.errors import OutputError

    out = tmp_path / "out"
    bundle.write_bundle(out, {"manifest.json": b"old"})
    files = {f"thumbnails/l{i}/1.jpg": bytes([i]) * 1000 for i in range(20)} | {"manifest.json": b"new"}
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        assert (out / "manifest.json").read_bytes() == b"old"  # OUT is swapped only once all are on disk
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    bundle.write_bundle(out, files)
    assert sorted(p.split(".out.new-", 1)[1].split("/", 1)[1] for p in synced) == sorted(files)  # each once
    assert bundle.read_tree(out) == files

    def failing(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("l7/1.jpg"):
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OutputError, match="cannot write the bundle: Input/output error"):
        bundle.write_bundle(out, {k: b"x" + v for k, v in files.items()})
    assert bundle.read_tree(out) == files  # the previous bundle, exactly
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # and no temporary folder left


def test_manifest_has_no_absolute_paths_or_timestamps(sample_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(sample_project, out=out, jobs=2)
    text = (out / "manifest.json").read_text()
    assert str(tmp_path) not in text
    data = json.loads(text)
    assert data["generator"]["name"] == "asset-pipeline"
    assert len(data["preset"]["sha256"]) == 64


def test_decodes_are_ordered_by_their_cost_and_16_bit_counts_double(tmp_path: Path) -> None:
    """Largest first keeps the last task short; a 16-bit PNG inflates twice the bytes of an 8-bit one."""
    from asset_pipeline.records import SourceFile
    from asset_pipeline.scheduler import _decode_cost

    def src(name: str, im: Image.Image) -> SourceFile:
        path = tmp_path / name
        im.save(path)
        return SourceFile(path=path, rel=name, sha256="", size=path.stat().st_size)

    eight = src("rgb8.png", Image.new("RGB", (300, 200)))
    deep = src("grey16.png", Image.fromarray(np.full((200, 300), 40000, np.uint16)))
    jpeg = src("photo.jpg", Image.new("RGB", (300, 200)))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert _decode_cost(eight) == _decode_cost(jpeg) == 300 * 200
    assert _decode_cost(deep) == 2 * 300 * 200
    assert _decode_cost(SourceFile(path=bad, rel="bad.png", sha256="", size=9)) == 0


def test_held_pixels_follow_the_jpeg_scaling_and_the_reduce_from_the_header(tmp_path: Path) -> None:
    from asset_pipeline.load import held_pixels

    Image.new("RGB", (3000, 2000)).save(tmp_path / "a.jpg")
    Image.new("RGB", (3000, 2000)).save(tmp_path / "a.png")
    assert held_pixels(tmp_path / "a.jpg", ("short", 1383)) == 3000 * 2000  # 1.45x: kept whole
    assert held_pixels(tmp_path / "a.jpg", ("short", 900)) == 1500 * 1000  # DCT scaled by 1/2
    assert held_pixels(tmp_path / "a.jpg", ("short", 200)) == 375 * 250  # 1/8, then reduced by 1
    assert held_pixels(tmp_path / "a.png", ("short", 900)) == 1500 * 1000  # reduced by 2
    assert held_pixels(tmp_path / "a.png", ("long", 1000)) == 1000 * 667  # reduced by 3
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert held_pixels(tmp_path / "bad.png", ("short", 900)) == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_one_job_decodes_what_holds_most_first_two_what_costs_most(jobs: int, make_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # with one job the order costs no time and the process holds more with every result: the
    # decode held largest runs while it holds least; with two, the longest decode starts first
    from asset_pipeline import scheduler

    wide = gradient(2200, 1500, seed=3)  # 1500 short side: kept whole for 1024 (held 3.3 MP)
    big = gradient(3400, 3000, seed=4)  # reduced by 2 for the icon (held 2.6 MP), 10 MP to decode
    root = make_project(icon=wide, thumbnails={"en": {"a.png": big}})
    order: list[str] = []
    real = scheduler.Pool.submit

    def recording(self, fn, arg):  # type: ignore[no-untyped-def]
        if fn is scheduler.prepare:
            order.append(arg.source.rel)
        return real(self, fn, arg)

    monkeypatch.setattr(scheduler.Pool, "submit", recording)
    build(root, jobs=jobs, use_cache=False, preset="balanced")
    assert order == (["icon.png", "thumbnails/en/a.png"] if jobs == 1 else ["thumbnails/en/a.png", "icon.png"])


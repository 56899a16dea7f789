"""The listing lint: one failing and one passing case per rule, and its place in build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import gradient

from asset_pipeline.cli import main
from asset_pipeline.config import load_profile, presets_dir
from asset_pipeline.errors import BuildFailed
from asset_pipeline.listing import check_listing, check_url
from asset_pipeline.pipeline import build

OLD = load_profile("tiktok-minis")
NEW = load_profile("tiktok-minis-2026")


def good(**changes: Any) -> dict[str, Any]:
    listing: dict[str, Any] = {
        "name": "Starfall", "category": "Puzzle", "subcategory": "Match-3",
        "description": "Match falling stars before dawn.", "regions": ["US", "JP"],
        "apple_team_id": "ABCDE12345", "email": "support@example.com", "scopes": ["user.info.basic"],
        "urls": {"en": {"terms": "https://example.com/t", "privacy": "https://example.com/p"},
                 "ja": {"terms": "https://example.com/ja/t", "privacy": "https://example.com/ja/p"}},
    }
    for key, value in changes.items():
        if value is None:
            listing.pop(key, None)
        else:
            listing[key] = value
    return listing


def errors(listing: Any, profile=OLD, languages=("en", "ja")) -> list[str]:  # type: ignore[no-untyped-def]
    return list(check_listing(listing, profile, list(languages)).errors)


def warnings(listing: Any, profile=OLD, languages=("en", "ja")) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.code for f in check_listing(listing, profile, list(languages)).warnings]


def test_a_good_listing_passes_on_both_profiles() -> None:
    assert errors(good()) == [] and warnings(good()) == []
    assert errors(good(), NEW) == []


@pytest.mark.parametrize("key", ["name", "category", "description", "regions", "apple_team_id", "email"])
def test_required_fields(key: str) -> None:
    assert any(f"{key}: required" in e for e in errors(good(**{key: None})))


def test_unknown_key_gets_a_hint() -> None:
    (err,) = errors({**good(), "catgory": "Puzzle"})
    assert "catgory" in err and "did you mean 'category'" in err


def test_category_must_be_in_the_profile_list() -> None:
    (err,) = errors(good(category="Puzzles"))
    assert "'Puzzles' is not one of" in err and "did you mean 'Puzzle'" in err
    assert errors(good(category="RPG")) == []
    assert "did you mean 'RPG'" in errors(good(category="rpg"))[0]


def test_subcategory_is_optional_but_not_empty() -> None:
    assert errors(good(subcategory=None)) == []
    assert "subcategory: is empty" in errors(good(subcategory=" "))[0]


def test_name_and_description_lengths_where_the_profile_has_limits() -> None:
    assert errors(good(name="N" * 80)) == []  # the old pages state no limit
    (err,) = errors(good(name="N" * 51), NEW)
    assert "51 characters, over the profile's limit of 50" in err
    assert errors(good(name="N" * 50), NEW) == [] and "listing_length" in warnings(good(name="N" * 50), NEW)
    assert errors(good(name="ゲーム" * 16), NEW) == []  # code points, not bytes
    assert "listing_length" in warnings(good(name="🌟" * 30), NEW)  # 60 UTF-16 units
    assert "over the profile's limit of 500" in errors(good(description="d" * 501), NEW)[0]
    assert errors(good(description="d" * 500), NEW) == []


@pytest.mark.parametrize("url, ok", [
    ("https://example.com/terms", True),
    ("https://sub.example.co.jp/a?b=c#d", True),
    ("http://example.com/terms", False),
    ("example.com/terms", False),
    ("https://localhost/terms", False),
    ("https://exa mple.com/", False),
    ("https://user:pw@example.com/", False),
    ("ftp://example.com/x", False),
    ("", False),
])
def test_urls_must_be_well_formed_https(url: str, ok: bool) -> None:
    assert (check_url(url) is None) is ok


def test_every_language_needs_terms_and_privacy() -> None:
    bad = good(urls={"en": {"terms": "https://e.com/t", "privacy": "http://e.com/p"}})
    errs = errors(bad)
    assert any("urls.en.privacy" in e and "must use https" in e for e in errs)
    assert any("urls.ja: missing" in e for e in errs)
    assert any("urls.en.tos: unknown key" in e for e in errors(good(urls={**good()["urls"], "en": {"tos": "https://e.com/t", "privacy": "https://e.com/p"}})))
    same = good(urls={**good()["urls"], "en": {"terms": "https://e.com/x", "privacy": "https://e.com/x"}})
    assert errors(same) == [] and "listing_url" in warnings(same)


def test_regions_must_be_in_the_profile_list_with_their_language() -> None:
    assert "'BR' is not a launch region of tiktok-minis" in errors(good(regions=["US", "BR"]))[0]
    assert "did you mean 'US'" in errors(good(regions=["us"]))[0]
    # the old pages want ToS/PP per launch region: JP without ja is an error there ...
    (err,) = errors(good(regions=["US", "JP"], urls={"en": good()["urls"]["en"]}), languages=("en",))
    assert "JP needs the ja listing" in err
    # ... the newer pages localize per language only: a warning
    listing = good(regions=["US", "BR"], urls={"en": good()["urls"]["en"]})
    assert errors(listing, NEW, ("en",)) == []
    assert "listing_region_language" in warnings(listing, NEW, ("en",))


def test_apple_team_id_shape_is_only_a_warning() -> None:
    assert errors(good(apple_team_id="abc-123")) == []
    assert "listing_apple_team_id" in warnings(good(apple_team_id="abc-123"))
    assert "listing_apple_team_id" not in warnings(good(apple_team_id="A1B2C3D4E5"))


@pytest.mark.parametrize("email, ok", [("support@example.com", True), ("a.b+c@sub.example.org", True),
                                        ("support@", False), ("support example.com", False), ("a@b", False)])
def test_email(email: str, ok: bool) -> None:
    assert (errors(good(email=email)) == []) is ok


def test_scopes_basic_always_added_display_optional_others_refused() -> None:
    assert check_listing(good(scopes=None), OLD, ["en", "ja"]).listing["scopes"] == ["user.info.basic"]  # type: ignore[index]
    kept = check_listing(good(scopes=["user.settings.display"]), OLD, ["en", "ja"]).listing
    assert kept["scopes"] == ["user.info.basic", "user.settings.display"]  # type: ignore[index]
    (err,) = errors(good(scopes=["user.info.basic", "video.upload"]))
    assert "'video.upload' is not a scope" in err


def test_localized_text_and_what_each_language_inherits() -> None:
    listing = good(localized={"ja": {"name": "スターフォール"}})
    checked = check_listing(listing, NEW, ["en", "ja"]).listing
    assert checked is not None
    ja = checked["languages"]["ja"]
    assert ja["name"] == "スターフォール" and ja["description"] == listing["description"]
    assert ja["inherited_from_en"] == ["description"] and ja["portal_name"] == "Japanese"
    assert checked["languages"]["en"]["inherited_from_en"] == []
    assert "localized.ja.name" in errors(good(localized={"ja": {"name": "N" * 51}}), NEW)[0]
    assert "localized.ko: not a language of this project" in errors(good(localized={"ko": {"name": "x"}}))[0]


def test_a_language_the_portal_does_not_offer_is_an_error_with_a_hint() -> None:
    (err,) = errors(None, languages=("en", "jp"))
    assert "language 'jp'" in err and "did you mean 'ja'" in err


def test_no_listing_is_a_warning_only() -> None:
    assert errors(None) == [] and warnings(None) == ["listing_missing"]


# --- in the build -------------------------------------------------------------------------

LISTING_TOML = '''
[listing]
name = "Starfall"
category = "{category}"
description = "Match falling stars."
regions = ["US"]
apple_team_id = "ABCDE12345"
email = "support@example.com"
scopes = ["user.settings.display"]

[listing.urls.en]
terms = "https://example.com/terms"
privacy = "https://example.com/privacy"
'''


def test_build_puts_the_checked_listing_in_the_manifest(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}}, toml=LISTING_TOML.format(category="Puzzle"))
    m = build(root, out=tmp_path / "out", jobs=1).manifest
    assert m["listing"]["scopes"] == ["user.info.basic", "user.settings.display"]
    assert m["listing"]["languages"]["en"]["terms"] == "https://example.com/terms"


def test_a_listing_error_fails_the_build_with_exit_1(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}}, toml=LISTING_TOML.format(category="Shooter"))
    with pytest.raises(BuildFailed) as exc:
        build(root, out=tmp_path / "out", jobs=1)
    assert any("category" in e.reason for e in exc.value.errors)
    assert not (tmp_path / "out").exists()
    r = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out"), "--json", "-j", "1"])
    assert r.exit_code == 1
    assert any("'Shooter' is not one of" in e["reason"] for e in json.loads(r.stdout)["errors"])


def test_a_rule_change_is_a_data_change(make_project, tmp_path: Path) -> None:
    """A copy of the profile with a shorter name limit fails a build the shipped one passes."""
    profile = tmp_path / "stricter.toml"
    shutil.copy(presets_dir() / "platforms" / "tiktok-minis.toml", profile)
    profile.write_text(profile.read_text().replace("[listing]\n", "[listing]\nname_max = 5\n"))
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}}, toml=LISTING_TOML.format(category="Puzzle"))
    with pytest.raises(BuildFailed) as exc:
        build(root, out=tmp_path / "out", jobs=1, platform=str(profile))
    assert any("over the profile's limit of 5" in e.reason for e in exc.value.errors)

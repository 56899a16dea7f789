"""Language tags (BCP 47), the portal's language table, per-language icons and inheritance."""

from __future__ import annotations

from pathlib import Path

import pytest
from bundle_checks import verify_bundle
from conftest import gradient

from asset_pipeline import languages as lt
from asset_pipeline.errors import BuildFailed
from asset_pipeline.pipeline import build


@pytest.mark.parametrize("tag", ["en", "ja", "pt-BR", "zh-Hant", "es-419", "sr-Latn-RS", "de-CH-1996", "fil", "zh-yue",
                                 "en-US-u-ca-gregory", "PT-br"])
def test_well_formed(tag: str) -> None:
    assert lt.is_well_formed(tag)


@pytest.mark.parametrize("tag", ["englishman", "e", "pt_BR", "en-", "123", "x-private", "i-klingon", "en--US",
                                 "zh-Hant-Hans", "en-x-foo", "ja jp", ""])
def test_not_well_formed(tag: str) -> None:
    assert not lt.is_well_formed(tag)


def test_canonical_case_and_aliases() -> None:
    assert lt.canonical("pt-br") == "pt-BR"
    assert lt.canonical("ZH-hant") == "zh-Hant"
    assert lt.canonical("zh-cn") == "zh-Hans"
    assert lt.canonical("sr-latn-rs") == "sr-Latn-RS"


def test_the_portal_table() -> None:
    assert lt.PORTAL_LANGUAGES["en"] == "English (default)"
    assert len(lt.PORTAL_LANGUAGES) == 56  # the default English plus the Localization page's 55 entries
    for tag in lt.PORTAL_LANGUAGES:
        assert lt.is_well_formed(tag) and lt.canonical(tag) == tag
    assert lt.portal_name("pt-br") == "Portuguese (Brazil)"
    assert lt.portal_name("en-AU") is None
    assert lt.is_well_formed("english") and lt.portal_name("english") is None  # 5-8 letters: well-formed, unknown


@pytest.mark.parametrize("tag, hint", [("jp", "ja"), ("cn", "zh-Hans"), ("es-MX", "es"), ("en-AU", "en"), ("kr", "ko")])
def test_suggestions(tag: str, hint: str) -> None:
    assert lt.suggest(tag) == hint


def test_a_country_code_as_a_folder_fails_the_build_with_a_hint(make_project, tmp_path: Path) -> None:
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}, "jp": {"a.png": gradient(400, 400, seed=3)}})
    with pytest.raises(BuildFailed) as exc:
        build(root, out=tmp_path / "out", jobs=1)
    assert any("'jp'" in e.reason and "did you mean 'ja'" in e.reason for e in exc.value.errors)


def test_per_language_icons_and_what_each_language_inherits(make_project, tmp_path: Path) -> None:
    toml = ('[icons]\npt-BR = "art/icon_br.png"\n\n[listing]\nname = "G"\ncategory = "Puzzle"\ndescription = "D"\n'
            'regions = ["US", "JP"]\napple_team_id = "ABCDE12345"\nemail = "a@e.com"\n\n'
            '[listing.localized.ja]\nname = "ジー"\n'
            + "".join(f'\n[listing.urls.{t}]\nterms = "https://e.com/{t}/t"\nprivacy = "https://e.com/{t}/p"\n'
                      for t in ("en", "ja", "pt-BR", "fr")))
    root = make_project(thumbnails={"en": {"a.png": gradient(400, 400, seed=2)}, "ja": {"j.png": gradient(400, 400, seed=5)}},
                        toml=toml)
    (root / "icons").mkdir()
    gradient(1100, 1100, seed=6).save(root / "icons" / "ja.png")
    (root / "art").mkdir()
    gradient(1100, 1100, seed=7).save(root / "art" / "icon_br.png")
    out = tmp_path / "out"
    m = build(root, out=out, jobs=1).manifest
    verify_bundle(out)
    langs = m["languages"]
    assert set(langs) == {"en", "ja", "pt-BR", "fr"}
    assert langs["ja"]["icon"]["path"].startswith("icons/ja.") and langs["ja"]["icon_inherited_from"] is None
    assert langs["ja"]["icon"]["source"]["path"] == "icons/ja.png"
    assert langs["pt-BR"]["icon"]["source"]["path"] == "art/icon_br.png"
    assert langs["fr"]["icon"] is None and langs["fr"]["icon_inherited_from"] == "en"
    assert langs["ja"]["inherited_from"] is None and langs["fr"]["inherited_from"] == "en"
    assert langs["fr"]["thumbnails"] == langs["en"]["thumbnails"] and not (out / "thumbnails" / "fr").exists()
    assert langs["fr"]["name"] == "French"
    text = m["listing"]["languages"]
    assert text["ja"]["name"] == "ジー" and text["ja"]["inherited_from_en"] == ["description"]
    assert text["fr"]["inherited_from_en"] == ["name", "description"]
    assert (out / langs["ja"]["icon"]["path"]).is_file()

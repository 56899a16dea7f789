"""Lint the listing (`[listing]` of assets.toml: the portal's Basic information) against a profile.

Errors fail the build (exit 1): the portal would refuse the value or it is plainly wrong
(a category not in the profile's list, a plain-http URL, an unknown scope, a missing
required field, a malformed e-mail address). Warnings do not: rules we infer rather than
read on a portal page. The Apple Team ID shape is one of those: no TikTok page states a
format; third-party docs say 10 upper-case letters or digits, so a mismatch is a warning
(shared reference platform-rules.md, section 1.8).

| rule | severity |
| --- | --- |
| unknown key, wrong type, required field missing or empty | error |
| category not in the profile's list | error |
| name / description longer than the profile's limit (code points) | error |
| ... within 10 % of the limit, or over it when counted in UTF-16 units | warning |
| ToS or Privacy URL missing for a language, not https, no host | error |
| ToS and Privacy URL the same | warning (the portal wants two documents) |
| region not in the profile's list | error |
| a launch region's language missing | error where the profile wants URLs per region, else warning |
| Apple Team ID not shaped like ^[A-Z0-9]{10}$ (profile's pattern) | warning |
| e-mail address malformed | error |
| scope other than the profile's required or optional ones | error |
| a language the portal does not offer (not in our table) | error |

The checked listing keeps the input's keys (scopes normalized: the required ones first,
always present) and adds `languages`: per language, the portal's name for it, the name,
description and URLs the portal will show, and which of them fall back to en.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import languages as lang_tags
from .config import Profile
from .records import Finding

if TYPE_CHECKING:
    from .project import Project

KNOWN_KEYS = ("name", "category", "subcategory", "description", "regions", "apple_team_id", "email", "scopes",
              "urls", "localized")
URL_KEYS = ("terms", "privacy")
LOCALIZED_KEYS = ("name", "description")
REQUIRED = ("name", "category", "description", "regions", "apple_team_id", "email")
# Deliberately plain: one @, no spaces, a dotted domain of letters, digits and hyphens.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
NEAR_LIMIT = 0.9


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingCheck:
    """The checked listing (normalized, for the manifest), its errors and its warnings."""

    listing: dict[str, Any] | None
    errors: tuple[str, ...]
    warnings: tuple[Finding, ...]


class _Report:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []
        self.warnings: list[Finding] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(f"[listing] {field}: {message}")

    def warn(self, code: str, field: str, message: str) -> None:
        self.warnings.append(Finding(code=code, source=self.source, message=f"[listing] {field}: {message}"))


def _hint(value: str, choices: Sequence[str]) -> str:
    lower = {c.lower(): c for c in choices}
    if value.lower() in lower:
        return f" (did you mean {lower[value.lower()]!r}?)"
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _text(r: _Report, field: str, value: Any, limit: int | None) -> str | None:
    if not isinstance(value, str):
        r.error(field, f"expected a string, got {value!r}")
        return None
    text = value.strip()
    if not text:
        r.error(field, "is empty")
        return None
    if limit is not None:
        points = len(text)
        utf16 = len(text.encode("utf-16-le")) // 2
        if points > limit:
            r.error(field, f"{points} characters, over the profile's limit of {limit}")
        elif utf16 > limit:
            r.warn("listing_length", field, f"{points} characters but {utf16} UTF-16 units, over {limit} if the portal counts those")
        elif points >= NEAR_LIMIT * limit:
            r.warn("listing_length", field, f"{points} characters, near the limit of {limit} (the portal's counting is not documented)")
    return text


def check_url(value: Any) -> str | None:
    """Why `value` is not an https URL the portal can link to (None when it is fine)."""
    if not isinstance(value, str) or not value.strip():
        return f"expected an https URL, got {value!r}"
    if value != value.strip() or any(c.isspace() for c in value):
        return f"{value!r} contains spaces"
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"{value!r} is not a well-formed URL ({exc})"
    if parts.scheme.lower() != "https":
        return f"{value!r} must use https"
    if not host or not _HOST.match(host):
        return f"{value!r} has no valid host name"
    if parts.username or parts.password:
        return f"{value!r} must not carry a user name or password"
    return None


def _languages(r: _Report, tags: Sequence[str]) -> None:
    for tag in tags:
        if lang_tags.portal_name(tag) is None:
            hint = lang_tags.suggest(tag)
            r.errors.append(f"language {tag!r}: not one of the portal's languages{f' (did you mean {hint!r}?)' if hint else ''}")


def check_listing(listing: Any, profile: Profile, languages: Sequence[str], *, source: str = "assets.toml") -> ListingCheck:
    """Check `listing` (the [listing] table, or None) for a project with `languages`."""
    r = _Report(source)
    _languages(r, languages)
    if listing is None:
        r.warn("listing_missing", "(all)", "no [listing] in assets.toml: the Basic information is not checked")
        return ListingCheck(listing=None, errors=tuple(r.errors), warnings=tuple(r.warnings))
    if not isinstance(listing, dict):
        r.error("(all)", "expected a table")
        return ListingCheck(listing=None, errors=tuple(r.errors), warnings=tuple(r.warnings))
    rules = profile.listing
    for key in sorted(set(listing) - set(KNOWN_KEYS)):
        r.error(key, f"unknown key{_hint(key, KNOWN_KEYS)}; known: {', '.join(KNOWN_KEYS)}")
    for key in REQUIRED:
        if key not in listing:
            r.error(key, "required, missing")
    out: dict[str, Any] = {}
    if "name" in listing:
        out["name"] = _text(r, "name", listing["name"], rules.name_max)
    if "description" in listing:
        out["description"] = _text(r, "description", listing["description"], rules.description_max)
    if "category" in listing:
        category = _text(r, "category", listing["category"], None)
        if category is not None and rules.categories and category not in rules.categories:
            r.error("category", f"{category!r} is not one of {', '.join(rules.categories)}{_hint(category, rules.categories)}")
        out["category"] = category
    subcategory = listing.get("subcategory")
    out["subcategory"] = _text(r, "subcategory", subcategory, None) if subcategory is not None else None
    out["regions"] = _regions(r, listing.get("regions"), profile, languages) if "regions" in listing else []
    if "apple_team_id" in listing:
        team = _text(r, "apple_team_id", listing["apple_team_id"], None)
        if team is not None and rules.apple_team_id_pattern and not re.fullmatch(rules.apple_team_id_pattern, team):
            r.warn("listing_apple_team_id", "apple_team_id",
                   f"{team!r} does not look like an Apple Team ID (10 upper-case letters or digits, e.g. ABCDE12345)")
        out["apple_team_id"] = team
    if "email" in listing:
        email = _text(r, "email", listing["email"], None)
        if email is not None and not _EMAIL.match(email):
            r.error("email", f"{email!r} is not an e-mail address")
        out["email"] = email
    out["scopes"] = _scopes(r, listing.get("scopes", []), profile)
    out["urls"] = _urls(r, listing.get("urls", {}), profile, languages)
    out["localized"] = _localized(r, listing.get("localized", {}), profile, languages)
    out["languages"] = _effective(out, languages)
    return ListingCheck(listing=out, errors=tuple(r.errors), warnings=tuple(r.warnings))


def _regions(r: _Report, value: Any, profile: Profile, languages: Sequence[str]) -> list[str]:
    rules = profile.listing
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        r.error("regions", f"expected a list of region codes like [\"US\"], got {value!r}")
        return []
    regions: list[str] = []
    for code in value:
        if code in regions:
            r.warn("listing_region", "regions", f"{code!r} listed twice")
            continue
        regions.append(code)
        if rules.regions and code not in rules.regions:
            r.error("regions", f"{code!r} is not a launch region of {profile.name} ({', '.join(rules.regions)}){_hint(code, rules.regions)}")
            continue
        lang = rules.region_languages.get(code)
        if isinstance(lang, str) and lang_tags.canonical(lang) not in languages:
            message = f"launching in {code} needs the {lang} listing (URLs and art), and the project has no {lang!r} language"
            if rules.urls_per_region:
                r.error("regions", message)
            else:
                r.warn("listing_region_language", "regions", message + "; users there see en")
    return regions


def _scopes(r: _Report, value: Any, profile: Profile) -> list[str]:
    rules = profile.listing
    known = list(rules.scopes_required) + list(rules.scopes_optional)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        r.error("scopes", f"expected a list of scope names, got {value!r}")
        return list(rules.scopes_required)
    for scope in value:
        if scope not in known:
            r.error("scopes", f"{scope!r} is not a scope of {profile.name} ({', '.join(known)}){_hint(scope, known)}")
    # the required ones are always there (the portal adds user.info.basic itself)
    return list(rules.scopes_required) + [s for s in rules.scopes_optional if s in value]


def _urls(r: _Report, value: Any, profile: Profile, languages: Sequence[str]) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        r.error("urls", "expected one table per language, like [listing.urls.en]")
        return {}
    out: dict[str, dict[str, str]] = {}
    given = {}
    for key, table in value.items():
        tag = lang_tags.canonical(key) if lang_tags.is_well_formed(key) else key
        given[tag] = table
    for tag in languages:
        field = f"urls.{tag}"
        table = given.get(tag)
        if table is None:
            r.error(field, "missing: every language needs its Terms of Service and Privacy Policy URLs (terms, privacy)")
            continue
        if not isinstance(table, dict):
            r.error(field, "expected a table with terms and privacy")
            continue
        for key in sorted(set(table) - set(URL_KEYS)):
            r.error(f"{field}.{key}", f"unknown key{_hint(key, URL_KEYS)}; expected terms, privacy")
        entry = {}
        for key in URL_KEYS:
            if key not in table:
                r.error(f"{field}.{key}", "required, missing")
                continue
            problem = check_url(table[key])
            if problem:
                r.error(f"{field}.{key}", problem)
            else:
                entry[key] = table[key]
        if entry.get("terms") and entry.get("terms") == entry.get("privacy"):
            r.warn("listing_url", field, "terms and privacy are the same URL; the portal expects two separate documents")
        out[tag] = entry
    for tag in sorted(set(given) - set(languages)):
        r.error(f"urls.{tag}", "not a language of this project")
    return out


def _localized(r: _Report, value: Any, profile: Profile, languages: Sequence[str]) -> dict[str, dict[str, str | None]]:
    """Per-language name and description ([listing.localized.<lang>]), checked like en's."""
    if not isinstance(value, dict):
        r.error("localized", "expected one table per language, like [listing.localized.ja]")
        return {}
    out: dict[str, dict[str, str | None]] = {}
    for key, table in value.items():
        tag = lang_tags.canonical(key) if lang_tags.is_well_formed(key) else key
        field = f"localized.{tag}"
        if tag not in languages:
            r.error(field, "not a language of this project")
            continue
        if not isinstance(table, dict):
            r.error(field, "expected a table with name and/or description")
            continue
        for k in sorted(set(table) - set(LOCALIZED_KEYS)):
            r.error(f"{field}.{k}", f"unknown key{_hint(k, LOCALIZED_KEYS)}; expected name, description")
        limits = {"name": profile.listing.name_max, "description": profile.listing.description_max}
        out[tag] = {k: _text(r, f"{field}.{k}", table[k], limits[k]) for k in LOCALIZED_KEYS if k in table}
    return out


def _effective(out: dict[str, Any], languages: Sequence[str]) -> dict[str, Any]:
    """What the portal shows per language, and which fields fall back to en (derived, for the manifest)."""
    eff: dict[str, Any] = {}
    for tag in languages:
        own = out["localized"].get(tag, {})
        inherited = [k for k in LOCALIZED_KEYS if k not in own and tag != "en"]
        eff[tag] = {
            "portal_name": lang_tags.portal_name(tag),
            "name": own.get("name", out.get("name")),
            "description": own.get("description", out.get("description")),
            **out["urls"].get(tag, {}),
            "inherited_from_en": inherited,
        }
    return eff


def check_project_listing(project: Project, profile: Profile) -> ListingCheck:
    """The listing of a discovered project, checked for its languages."""
    return check_listing(project.listing, profile, project.languages)

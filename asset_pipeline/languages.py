"""Language tags: a strict BCP 47 well-formedness check and our table of the portal's language names."""

from __future__ import annotations

import re

# RFC 5646 "langtag" production (well-formed, not registry-checked); private-use and
# grandfathered tags are refused on purpose: the portal has no such languages.
_LANGTAG = re.compile(
    r"""^
    (?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})   # language (+ extlang)
    (?:-[a-z]{4})?                                        # script
    (?:-(?:[a-z]{2}|[0-9]{3}))?                           # region
    (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*              # variants
    (?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*                  # extensions
    $""",
    re.IGNORECASE | re.VERBOSE,
)

# Our BCP 47 tags for the languages the portal's Localization page offers (its spellings
# kept, typos fixed). English ("en") is the default slot, distinct from en-GB and en-US.
PORTAL_LANGUAGES: dict[str, str] = {
    "en": "English (default)",
    "sq": "Albanian", "ar": "Arabic", "az": "Azerbaijani", "bn": "Bengali", "bg": "Bulgarian",
    "my": "Burmese", "ca": "Catalan", "ceb": "Cebuano", "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)", "hr": "Croatian", "cs": "Czech", "da": "Danish",
    "nl": "Dutch", "en-GB": "English (UK)", "en-US": "English (US)", "et": "Estonian",
    "fil": "Filipino", "fi": "Finnish", "fr": "French", "fr-CA": "French (Canada)",
    "de": "German", "el": "Greek", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "is": "Icelandic", "id": "Indonesian", "ga": "Irish", "it": "Italian", "ja": "Japanese",
    "jv": "Javanese", "kk": "Kazakh", "km": "Khmer", "ko": "Korean", "lv": "Latvian",
    "lt": "Lithuanian", "ms": "Malay", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese",
    "pt-BR": "Portuguese (Brazil)", "ro": "Romanian", "ru": "Russian", "sl": "Slovenian",
    "es": "Spanish", "es-419": "Spanish (Latin America)", "sw": "Swahili", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek",
    "vi": "Vietnamese",
}
_ALIASES = {"zh-cn": "zh-Hans", "zh-tw": "zh-Hant", "nb": "no", "tl": "fil", "iw": "he", "in": "id"}
_CANONICAL = {k.lower(): k for k in PORTAL_LANGUAGES}


def is_well_formed(tag: str) -> bool:
    return bool(_LANGTAG.match(tag))


def canonical(tag: str) -> str:
    """Case-normalized tag: language lower, script title, region upper (`pt-br` -> `pt-BR`)."""
    low = tag.lower()
    if low in _ALIASES:
        return _ALIASES[low]
    if low in _CANONICAL:
        return _CANONICAL[low]
    parts = tag.split("-")
    out = [parts[0].lower()]
    for p in parts[1:]:
        if len(p) == 4 and p.isalpha():
            out.append(p.title())
        elif len(p) == 2 and p.isalpha() or len(p) == 3 and p.isdigit():
            out.append(p.upper())
        else:
            out.append(p.lower())
    return "-".join(out)


def portal_name(tag: str) -> str | None:
    """The portal's name for `tag` (None: the portal offers no such language)."""
    return PORTAL_LANGUAGES.get(canonical(tag))


# Country codes written where a language code belongs, the commonest slip in folder names.
_COUNTRY_SLIPS = {"jp": "ja", "kr": "ko", "cn": "zh-Hans", "tw": "zh-Hant", "br": "pt-BR", "gr": "el", "dk": "da",
                  "se": "sv", "cz": "cs", "ua": "uk", "vn": "vi", "il": "he", "ee": "et", "si": "sl", "gb": "en-GB",
                  "us": "en-US", "mx": "es-419", "kz": "kk", "sa": "ar", "pk": "ur", "ph": "fil", "my": "ms"}


def suggest(tag: str) -> str | None:
    """A portal language `tag` was probably meant to be (None when nothing is close)."""
    low = tag.lower()
    if low in _COUNTRY_SLIPS and low not in _CANONICAL:
        return _COUNTRY_SLIPS[low]
    base = low.split("-")[0]
    if base in _CANONICAL:  # es-MX -> es, en-AU -> en
        return _CANONICAL[base]
    same_language = [k for k in PORTAL_LANGUAGES if k.lower().split("-")[0] == base]
    if same_language:
        return same_language[0]
    import difflib

    close = difflib.get_close_matches(low, list(_CANONICAL), n=1, cutoff=0.6)
    return _CANONICAL[close[0]] if close else None

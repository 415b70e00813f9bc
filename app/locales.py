"""The languages the call center speaks, and the one a customer gets by default."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from babel import Locale

from app.errors import InvalidInput
from app.phones import REGIONS, calling_code

SUPPORTED_LOCALES = ("en", "it", "pl", "zh")
#: The Babel locale each language is formatted in (dates, amounts).
BABEL_LOCALES = {"en": "en_GB", "it": "it_IT", "pl": "pl_PL", "zh": "zh_Hans_CN"}


def babel_locale(locale: str) -> str:
    return BABEL_LOCALES.get(locale, "en_GB")


# Regions whose people expect a language other than English from us.
_REGION_LOCALES = {
    "IT": "it",
    "SM": "it",
    "VA": "it",
    "PL": "pl",
    "CN": "zh",
    "TW": "zh",
    "HK": "zh",
    "MO": "zh",
    "SG": "zh",
}


#: The country a language suggests when the browser names none (a number typed without its
#: country code is read there first).
LANGUAGE_REGIONS = {"en": "GB", "it": "IT", "pl": "PL", "zh": "CN"}


def language_region(locale: str, accept_languages: Iterable[str] = ()) -> str:
    """The country a person's language suggests: the browser's own for that language (en-US ->
    US, zh-Hant-TW -> TW), else the language's home (en -> GB, it -> IT, pl -> PL, zh -> CN)."""
    for tag in accept_languages:
        language, *subtags = tag.replace("_", "-").split("-")
        if language.lower() != locale:
            continue
        for subtag in subtags:
            if len(subtag) == 2 and subtag.isalpha() and subtag.upper() in REGIONS:
                return subtag.upper()
    return LANGUAGE_REGIONS.get(locale, "GB")


def locale_for_region(region: str | None) -> str:
    return _REGION_LOCALES.get((region or "").upper(), "en")


#: Country calling codes whose callers we greet in English without asking (+44, +1).
_ENGLISH_CALLING_CODES = {44, 1}


def settled_locale(region: str | None) -> str | None:
    """The language a caller's country settles (+39 Italian, +48 Polish, +86 Chinese, +44 and
    +1 English), or None: the caller is asked to choose."""
    region = (region or "").upper()
    if region in _REGION_LOCALES:
        return _REGION_LOCALES[region]
    if region in REGIONS and calling_code(region) in _ENGLISH_CALLING_CODES:
        return "en"
    return None


def normalize_locale(value: object, *, field: str = "locale") -> str:
    """Accept 'it', 'it-IT', 'zh_Hans_CN' and the like; answer the supported language."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{field}: give a language, one of {', '.join(SUPPORTED_LOCALES)}", field=field
        )
    language = value.strip().replace("_", "-").split("-")[0].lower()
    if language not in SUPPORTED_LOCALES:
        raise InvalidInput(
            f"{field}: {value!r} is not supported; use one of {', '.join(SUPPORTED_LOCALES)}",
            field=field,
            code="unsupported_locale",
        )
    return language


def page_locale() -> str:
    """A public page's language: ?lang= (or the form's lang), else the browser's, else English."""
    from flask import request

    lang = (request.values.get("lang") or "").strip().lower()
    if lang in SUPPORTED_LOCALES:
        return lang
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def suggested_region(locale: str) -> str:
    """The country the request's language suggests (its Accept-Language, then the language)."""
    from flask import request

    return language_region(locale, (value for value, _ in request.accept_languages))


def _sort_key(name: str, locale: str) -> tuple[str, ...]:
    """Dictionary order of a country's name: pinyin for Chinese (as Chinese lists are sorted),
    letters without their accents for the others (Ł with L), then the name itself."""
    if locale == "zh":
        # Imported on first use, without its phrase dictionary (55 MB, half a second): country
        # names sort as well by the pinyin of each character (the library's documented switch).
        os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
        from pypinyin import lazy_pinyin

        return (" ".join(lazy_pinyin(name)), name)
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    return (plain.casefold().replace("ł", "l"), name)


@lru_cache(maxsize=len(SUPPORTED_LOCALES))
def country_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """Every country phone numbers know, as (code, "Italia (+39)") in the language's own names
    and order, for the pages' country choosers."""
    names = Locale.parse(babel_locale(locale)).territories
    choices = [
        (region, f"{names.get(region, region)} (+{calling_code(region)})") for region in REGIONS
    ]
    return tuple(sorted(choices, key=lambda choice: _sort_key(choice[1], locale)))


def page_region(locale: str) -> str:
    """A public page's country: the one picked on its form, else the one the language suggests."""
    from flask import request

    region = (request.values.get("region") or "").strip().upper()
    return region if region in REGIONS else suggested_region(locale)

"""The languages the call center speaks, and the one a customer gets by default."""

from __future__ import annotations

from app.errors import InvalidInput

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


def locale_for_region(region: str | None) -> str:
    return _REGION_LOCALES.get((region or "").upper(), "en")


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

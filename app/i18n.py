"""Translations of the pages and the console (Flask-Babel and gettext catalogs).

The catalogs are `app/translations/<lang>/LC_MESSAGES/messages.po`, compiled to `.mo` beside
them (both committed; `scripts/translations` extracts, updates, compiles and checks them).

- A console page is in its staff member's language (`staff_users.language`) and shows times in
  their zone (`staff_users.time_zone`, else `CONSOLE_TIME_ZONE`), with the zone named.
- Anyone else (the sign-in page, the public pages) gets `?lang=`, else their browser's language.

Pages say `_("...")` in templates and `gettext` / `lazy_gettext` in Python; a value the system
keeps (a status, a skill, a flow) is shown through the `label` filter, never as itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from babel import dates as babel_dates
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, LazyString, get_locale, get_timezone

from app.errors import PROGRAM_PATHS
from app.locales import SUPPORTED_LOCALES, babel_locale, page_locale

TRANSLATIONS = Path(__file__).parent / "translations"
babel = Babel()

#: The human label of each value the system keeps, by enum and value (filled by the faces, e.g.
#: `app.console.labels`). Each label is a lazy string, translated when shown. Keyed by the enum's
#: class too: two StrEnums' members with one value ("queued") are equal as dictionary keys.
LABELS: dict[tuple[type[Enum], object], Any] = {}


def register_labels(labels: Iterable[tuple[Enum, Any]]) -> None:
    LABELS.update({(type(member), member.value): text for member, text in labels})


def has_label(member: Enum) -> bool:
    return (type(member), member.value) in LABELS


def label(value: object) -> str:
    """A kept value in the reader's words: an enum member's label, else the text as it is.

    An enum member with no label is a bug: tests fail on it; a running app shows the value with
    its underscores turned into spaces, which is better than an error page.
    """
    if value is None:
        return ""
    if isinstance(value, Enum):
        found = LABELS.get((type(value), value.value))
        if found is None:
            if has_app_context() and current_app.config.get("TESTING"):
                raise KeyError(f"no label for {type(value).__name__}.{value.name}")
            return str(value.value).replace("_", " ").capitalize()
        return str(found)
    return str(value)


def lazy_label(value: Enum) -> LazyString:
    """`label`, read when shown: for a refusal raised before anyone reads it. A program (the
    API, Twilio's webhooks) reads the value it sends and gets back."""

    def words() -> str:
        if not has_app_context() or _program_asks():
            return str(value.value)
        return label(value)

    return LazyString(words)


def choices(members: Iterable[Enum]) -> LazyString:
    """The values a field accepts, for a refusal ("one of %(choices)s"), read when shown: their
    labels for a person ("Available, Away"), the values themselves for a program that sends
    them (the API, Twilio's webhooks) or when no app is running."""
    kept = list(members)

    def words() -> str:
        if not has_app_context() or _program_asks():
            return ", ".join(str(member.value) for member in kept)
        return ", ".join(label(member) for member in kept)

    return LazyString(words)


def _program_asks() -> bool:
    return has_request_context() and request.path.startswith(PROGRAM_PATHS)


def when(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment in the reader's zone and words, the zone named: "1 Jul 2026, 13:30 BST"."""
    if moment is None:
        return ""
    return f"{_day(moment)}, {time_of_day(moment, seconds=seconds)}"


def _locale() -> str:
    """The Babel locale that formats for the reader's language (en is British English)."""
    return babel_locale(str(get_locale() or "en"))


def _day(moment: datetime) -> str:
    locale = _locale()
    local = moment.astimezone(get_timezone())
    return babel_dates.format_date(local.date(), "medium", locale=locale)


def time_of_day(moment: datetime | None, *, seconds: bool = False) -> str:
    """The hour and minute in the reader's zone, the zone named: "13:30 BST"."""
    if moment is None:
        return ""
    locale = _locale()
    zone = get_timezone()
    text = babel_dates.format_time(
        moment, "HH:mm:ss" if seconds else "HH:mm", tzinfo=zone, locale=locale
    )
    name = babel_dates.format_datetime(moment, "z", tzinfo=zone, locale=locale)
    if name[:1] in "+-":  # no short name in this language: "GMT+08:00"
        name = babel_dates.get_timezone_gmt(moment.astimezone(zone), "long", locale=locale)
    return f"{text} {name}"


def valid_zone(name: str) -> bool:
    return name in _zones()


_ZONES: frozenset[str] = frozenset()


def common_zones() -> list[str]:
    """The zones a person picks from: every IANA zone under a continent or ocean, sorted."""
    regions = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/",
               "Europe/", "Indian/", "Pacific/")  # fmt: skip
    return [*sorted(zone for zone in _zones() if zone.startswith(regions)), "UTC"]


def _zones() -> frozenset[str]:
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def _staff() -> Any:
    """The console's signed-in staff member, once the view's own check has found them (that check
    decides whether the request counts as activity, so it is never made here)."""
    if not has_request_context() or not request.path.startswith("/console"):
        return None
    return g.get("staff")


def _select_locale() -> str:
    staff = _staff()
    if staff is not None and staff.language in SUPPORTED_LOCALES:
        return str(staff.language)
    if not has_request_context():  # the worker, a command: what it writes down is English
        return "en"
    return page_locale()


def _select_zone() -> str:
    staff = _staff()
    if staff is not None and staff.time_zone and valid_zone(staff.time_zone):
        return str(staff.time_zone)
    return str(current_app.config.get("CONSOLE_TIME_ZONE") or "UTC")


def init_i18n(app: Flask) -> None:
    ZoneInfo(app.config["CONSOLE_TIME_ZONE"])  # a wrong zone stops the app here
    babel.init_app(
        app,
        locale_selector=_select_locale,
        timezone_selector=_select_zone,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["time_of_day"] = time_of_day

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"page_language": str(get_locale() or "en"), "languages": LANGUAGE_NAMES}


#: Each language in its own words, for the language choosers.
LANGUAGE_NAMES = {"en": "English", "it": "Italiano", "pl": "Polski", "zh": "中文"}

"""The values prompts speak, rendered for the callee's language with Babel."""

from __future__ import annotations

import contextlib
import string
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from app.locales import babel_locale as babel_locale_of

# Spoken dates: day, month name and time; Babel localizes the month and the order.
_DATE_PATTERNS = {
    "en": "d MMMM 'at' HH:mm",
    "it": "d MMMM 'alle' HH:mm",
    "pl": "d MMMM 'o' HH:mm",
    "zh": "M月d日 HH:mm",
}


class _Blank(dict[str, str]):
    """A missing value renders as nothing rather than failing a live call."""

    def __missing__(self, key: str) -> str:
        return ""


def spoken_fields(template: str) -> set[str]:
    """The variables a prompt's text speaks ("{reference}" -> {"reference"})."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def spoken_digits(digits: str) -> str:
    """'482197' -> '4 8 2 1 9 7', so that text-to-speech reads digit by digit."""
    return " ".join(ch for ch in digits if ch.isdigit() or ch == "+").replace("+ ", "+")


def render(template: str, locale: str, values: dict[str, Any], *, time_zone: str | None) -> str:
    text = template.format_map(_Blank(localize(values, locale, time_zone=time_zone)))
    # Babel separates "249,90 €" with no-break spaces; speech and transcripts want plain ones.
    return text.replace("\xa0", " ").replace("\u202f", " ")


def localize(values: dict[str, Any], locale: str, *, time_zone: str | None) -> dict[str, str]:
    babel_locale = babel_locale_of(locale)
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, dict):  # a value in each language: {"en": "a payment", ...}
            value = value.get(locale, value.get("en", ""))
        out[key] = str(value)
    if "amount" in values and values.get("amount") is not None:
        try:
            amount = Decimal(str(values["amount"]))
            out["amount"] = format_currency(
                amount, str(values.get("currency") or "EUR"), locale=babel_locale
            )
        except (InvalidOperation, ValueError):
            out["amount"] = str(values["amount"])
    if values.get("time"):
        try:
            moment = datetime.fromisoformat(str(values["time"]))
            zone = ZoneInfo(time_zone) if time_zone else None
            if zone is not None and moment.tzinfo is not None:
                moment = moment.astimezone(zone)
            out["time"] = format_datetime(
                moment, _DATE_PATTERNS.get(locale, _DATE_PATTERNS["en"]), locale=babel_locale
            )
        except ValueError:
            out["time"] = str(values["time"])
    if values.get("call_back_at"):  # a time we offer: in its own offset (the customer's zone)
        with contextlib.suppress(ValueError):
            out["call_back_at"] = format_datetime(
                datetime.fromisoformat(str(values["call_back_at"])),
                _DATE_PATTERNS.get(locale, _DATE_PATTERNS["en"]),
                tzinfo=datetime.fromisoformat(str(values["call_back_at"])).tzinfo,
                locale=babel_locale,
            )
    for key in ("reference", "callback_number", "checked_number"):
        if values.get(key):
            out[key] = spoken_digits(str(values[key]))
    if values.get("until"):  # a date: "23 November 2026"
        with contextlib.suppress(ValueError):
            out["until"] = format_date(
                date.fromisoformat(str(values["until"])[:10]), "long", locale=babel_locale
            )
    if values.get("complaint_reference"):  # C-7K3Q-2M: one character at a time
        out["complaint_reference"] = " ".join(
            ch for ch in str(values["complaint_reference"]) if ch.isalnum()
        )
    if values.get("report_reference"):  # RPT-7K2M-9QXP: read one character at a time
        out["report_reference"] = " ".join(
            ch for ch in str(values["report_reference"]) if ch.isalnum()
        )
    return out

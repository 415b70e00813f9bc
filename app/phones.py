"""Phone numbers, parsed once at the edge into E.164 with the time zones of the callee."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from app.errors import InvalidInput

_ALLOWED = re.compile(r"^[0-9+()\-.\s/]+$")
_MAX_LENGTH = 32  # generous for "+39 (0)333 123-45-67"; E.164 itself is at most 15 digits
_MAX_DIGITS = 17  # E.164 has at most 15; allow a trunk 0 and an international prefix
_UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    region: str | None
    time_zones: tuple[str, ...]

    @property
    def time_zone(self) -> str | None:
        """The callee's zone when the number tells it unambiguously, else None."""
        return single_time_zone(self.time_zones)


def parse_phone(raw: object, *, region: str | None = None, field: str = "phone") -> PhoneNumber:
    """Parse what a person or system sent into a valid number, or refuse it naming the field."""
    number, text = _parse(raw, region=region, field=field)
    if number is None:
        raise InvalidInput(
            f"{field}: {text} is not a valid phone number", field=field, code="invalid_phone"
        )
    return number


def read_phone(
    raw: object, *, region: str | None = None, field: str = "number"
) -> tuple[str, PhoneNumber | None]:
    """For numbers people saw on a screen: refuse what is not a phone number at all (letters,
    too many digits, nothing), but answer (digits, None) for one that no country uses, which a
    spoofer may well display."""
    number, text = _parse(raw, region=region, field=field)
    if number is not None:
        return number.e164, number
    digits = "".join(ch for ch in text if ch.isdigit())
    return ("+" if text.startswith("+") else "") + digits, None


def _parse(raw: object, *, region: str | None, field: str) -> tuple[PhoneNumber | None, str]:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field}: give a phone number", field=field, code="required")
    text = raw.strip()
    if len(text) > _MAX_LENGTH or not _ALLOWED.match(text):
        raise InvalidInput(
            f"{field}: a phone number has only digits, spaces and + ( ) - . /",
            field=field,
            code="invalid_phone",
        )
    if sum(ch.isdigit() for ch in text) > _MAX_DIGITS:
        raise InvalidInput(
            f"{field}: a phone number has at most 15 digits (with its country code)",
            field=field,
            code="invalid_phone",
        )
    hint = region.upper() if region else None
    if not text.startswith("+") and not text.startswith("00") and hint is None:
        raise InvalidInput(
            f"{field}: give the number with its country code (e.g. +39...) or send a region",
            field=field,
            code="invalid_phone",
        )
    if text.startswith("00") and hint is None:
        # 00 is the international prefix of most of the world (Europe, China); without a region
        # to say otherwise, read it as "+".
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, hint)
    except phonenumbers.NumberParseException:
        return None, text
    if not phonenumbers.is_valid_number(parsed):
        return None, text
    zones = tuple(z for z in phone_timezone.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)
    number = PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(parsed),
        time_zones=zones,
    )
    return number, text


def time_zones_of(e164: str) -> tuple[str, ...]:
    """The zones a stored E.164 number may ring in."""
    parsed = phonenumbers.parse(e164)
    return tuple(z for z in phone_timezone.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)


def single_time_zone(zones: tuple[str, ...]) -> str | None:
    """One zone if all candidates keep the same clock (Rome and the Vatican), else None."""
    if not zones:
        return None
    if len(zones) == 1:
        return zones[0]
    year = datetime.now(UTC).year
    probes = [datetime(year, 1, 15, 12, tzinfo=UTC), datetime(year, 7, 15, 12, tzinfo=UTC)]
    offsets = {tuple(p.astimezone(ZoneInfo(z)).utcoffset() for p in probes) for z in zones}
    return zones[0] if len(offsets) == 1 else None


def check_time_zone(name: object, *, field: str = "time_zone") -> str:
    """An IANA zone name, or refuse it naming the field."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{field}: give an IANA time zone such as Europe/Rome", field=field)
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{field}: {name!r} is not an IANA time zone (e.g. Europe/Warsaw)", field=field
        ) from None
    return name.strip()

"""Phone numbers: parsed once at the edge into E.164 with the time zones of the callee, and read
as people type them (every number a typed one can be, in the countries it may be from)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from flask_babel import lazy_gettext as _l
from phonenumbers import timezone as phone_timezone

from app.errors import InvalidInput

_ALLOWED = re.compile(r"^[0-9+()\-.\s/]+$")
_MAX_LENGTH = 32  # generous for "+39 (0)333 123-45-67"; E.164 itself is at most 15 digits
_MAX_DIGITS = 17  # E.164 has at most 15; allow a trunk 0 and an international prefix
_UNKNOWN_ZONE = "Etc/Unknown"
#: Every country phonenumbers knows (two-letter codes), for reading and for the pages' choosers.
REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


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
            _l("%(field)s: %(text)s is not a valid phone number", field=field, text=text),
            field=field,
            code="invalid_phone",
        )
    return number


def _typed_text(raw: object, *, field: str) -> str:
    """What was typed, stripped; refuse what is no number at all (letters, nothing, too long)."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(
            _l("%(field)s: give a phone number", field=field), field=field, code="required"
        )
    text = raw.strip()
    if len(text) > _MAX_LENGTH or not _ALLOWED.match(text):
        raise InvalidInput(
            _l("%(field)s: a phone number has only digits, spaces and + ( ) - . /", field=field),
            field=field,
            code="invalid_phone",
        )
    if not any(ch.isdigit() for ch in text):
        raise InvalidInput(
            _l("%(field)s: give a phone number", field=field), field=field, code="invalid_phone"
        )
    if sum(ch.isdigit() for ch in text) > _MAX_DIGITS:
        raise InvalidInput(
            _l(
                "%(field)s: a phone number has at most 15 digits (with its country code)",
                field=field,
            ),
            field=field,
            code="invalid_phone",
        )
    return text


def _valid(text: str, region: str | None) -> PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    zones = tuple(z for z in phone_timezone.time_zones_for_number(parsed) if z != _UNKNOWN_ZONE)
    return PhoneNumber(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(parsed),
        time_zones=zones,
    )


def _parse(raw: object, *, region: str | None, field: str) -> tuple[PhoneNumber | None, str]:
    text = _typed_text(raw, field=field)
    hint = region.upper() if region else None
    if not text.startswith("+") and not text.startswith("00") and hint is None:
        raise InvalidInput(
            _l(
                "%(field)s: give the number with its country code (e.g. +39...) or send a region",
                field=field,
            ),
            field=field,
            code="invalid_phone",
        )
    if text.startswith("00") and hint is None:
        # 00 is the international prefix of most of the world (Europe, China); without a region
        # to say otherwise, read it as "+".
        text = "+" + text[2:]
    return _valid(text, hint), text


@dataclass(frozen=True)
class TypedNumber:
    """A number as a person typed it, and every valid number it can be in the countries tried."""

    typed: str
    readings: tuple[PhoneNumber, ...]
    #: The countries it was read in, the person's own first (for an example in their format).
    regions: tuple[str, ...] = ()

    @property
    def digits(self) -> str:
        """The digits as typed, with the '+' if there was one (what a number no one uses shows)."""
        return ("+" if self.typed.startswith("+") else "") + "".join(
            ch for ch in self.typed if ch.isdigit()
        )

    @property
    def single(self) -> PhoneNumber | None:
        """The one number it can be, or None when it can be none or several."""
        return self.readings[0] if len(self.readings) == 1 else None

    @property
    def key(self) -> str:
        """One key per number, for counting (rate limits): the E.164 when it is settled."""
        return self.single.e164 if self.single else (self.digits[:20] or "-")


def read_typed_number(
    raw: object, *, regions: Iterable[str | None], field: str = "number", keypad: bool = False
) -> TypedNumber:
    """Every valid number what a person typed can be, read in each of the regions (most likely
    first) with that region's international prefixes; refuse what is no phone number at all.
    keypad: the digits may also start with a country code, since a keypad has no '+'."""
    text = _typed_text(raw, field=field)
    tried = tuple(dict.fromkeys(r.upper() for r in regions if r and r.upper() in REGIONS))
    attempts: list[tuple[str, str | None]] = [(text, region) for region in tried]
    if text.startswith("+"):
        attempts = [(text, None)]  # the country code is given: no region changes it
    elif text.startswith("00"):
        # 00 is the international prefix of most of the world, though not of every region tried
        # (North America dials 011): a number typed so is read as international too.
        attempts.append(("+" + text[2:], None))
    elif keypad:
        attempts.append(("+" + text, None))
    readings: dict[str, PhoneNumber] = {}
    for candidate, region in attempts:
        number = _valid(candidate, region)
        if number is not None:
            readings.setdefault(number.e164, number)
    return TypedNumber(typed=text, readings=tuple(readings.values()), regions=tried)


#: What a person is told when their own number cannot be read ({example}: one in their format).
NEEDS_COUNTRY_CODE = {
    "en": "We could not read this phone number. Please type it with its country code "
    "(for example {example}).",
    "it": "Non riusciamo a leggere questo numero di telefono. Lo scriva con il prefisso del paese "
    "(per esempio {example}).",
    "pl": "Nie udało nam się odczytać tego numeru telefonu. Prosimy wpisać go z numerem "
    "kierunkowym kraju (na przykład {example}).",
    "zh": "我们无法识别这个电话号码。请连同国家区号一起输入（例如 {example}）。",
}


def needs_country_code(locale: str, region: str | None) -> str:
    """'Please type it with its country code', in the person's language, with an example."""
    text = NEEDS_COUNTRY_CODE.get(locale) or NEEDS_COUNTRY_CODE["en"]
    return text.format(example=example_number(region))


def read_own_number(
    raw: object, *, regions: Iterable[str | None], field: str, locale: str = "en"
) -> PhoneNumber:
    """A person's own number: the first region it is valid in wins (their choice, then their
    language's); when it is valid in none, refuse it, asking for the country code."""
    typed = read_typed_number(raw, regions=regions, field=field)
    if not typed.readings:
        region = typed.regions[0] if typed.regions else None
        raise InvalidInput(
            f"{field}: {needs_country_code(locale, region)}", field=field, code="unreadable_phone"
        )
    return typed.readings[0]


def regions_of(e164_numbers: Iterable[str]) -> list[str]:
    """The countries of stored E.164 numbers, each once, in order."""
    regions: dict[str, None] = {}
    for e164 in e164_numbers:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
        except phonenumbers.NumberParseException:
            continue
        if region in REGIONS:
            regions.setdefault(region)
    return list(regions)


def international(e164: str) -> str:
    """How a stored number is written for people abroad: +1 415-555-0100."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def example_number(region: str | None) -> str:
    """A real-looking number of the region, written with its country code, to show the format."""
    example = phonenumbers.example_number((region or "").upper()) if region else None
    return (
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if example is not None
        else "+44 20 7946 0000"
    )


def calling_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


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
        raise InvalidInput(
            _l("%(field)s: give an IANA time zone such as Europe/Rome", field=field), field=field
        )
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _l(
                "%(field)s: '%(name)s' is not an IANA time zone (e.g. Europe/Warsaw)",
                field=field,
                name=name,
            ),
            field=field,
        ) from None
    return name.strip()

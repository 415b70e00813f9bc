"""Numbers as people type them: every valid number a typed one can be, in the countries tried."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.locales import country_choices, language_region
from app.phones import read_own_number, read_typed_number


def readings(raw: str, regions: list[str | None], **options) -> list[str]:
    return [n.e164 for n in read_typed_number(raw, regions=regions, **options).readings]


@pytest.mark.parametrize(
    ("typed", "regions", "expected"),
    [
        ("(415) 555-0100", ["GB", "US"], ["+14155550100"]),  # valid in the US only
        ("415 555 0100", ["US"], ["+14155550100"]),
        ("06 1234 5678", ["GB", "US", "IT"], ["+390612345678"]),
        ("06 12 34 56 78", ["IT", "FR"], ["+390612345678", "+33612345678"]),  # both are valid
        ("+39 06 1234 5678", ["FR", "US"], ["+390612345678"]),  # a country code settles it
        ("0039 06 1234 5678", ["IT"], ["+390612345678"]),  # Italy's international prefix
        ("0039 06 1234 5678", ["US"], ["+390612345678"]),  # 00, though the US dials 011
        ("011 39 06 1234 5678", ["US"], ["+390612345678"]),  # the US's international prefix
        ("+39 12", ["IT"], []),  # no country uses it
        ("12 34", ["GB", "US", "IT"], []),
        ("06 1234 5678", [None, "it", "XX", "IT"], ["+390612345678"]),  # unknown ones skipped
    ],
)
def test_a_typed_number_is_read_in_each_country_tried(typed, regions, expected):
    assert readings(typed, regions) == expected


def test_a_keypad_number_may_start_with_its_country_code():
    assert readings("390612345678", ["GB"]) == []
    assert readings("390612345678", ["GB"], keypad=True) == ["+390612345678"]
    assert readings("0612345678", ["IT"], keypad=True) == ["+390612345678"]


def test_what_it_was_typed_as_and_the_key_it_is_counted_by():
    single = read_typed_number("(415) 555-0100", regions=["US"])
    several = read_typed_number("06 12 34 56 78", regions=["IT", "FR"])
    none = read_typed_number(" +39 12 ", regions=["IT"])

    assert (single.typed, single.key) == ("(415) 555-0100", "+14155550100")
    assert (several.single, several.key) == (None, "0612345678")
    assert (none.typed, none.digits, none.key) == ("+39 12", "+3912", "+3912")


@pytest.mark.parametrize("typed", ["call me", "", "   ", "+" + "1" * 30, "( ) -", "+"])
def test_what_is_no_number_at_all_is_refused(typed):
    with pytest.raises(InvalidInput) as refused:
        read_typed_number(typed, regions=["GB"], field="number")

    assert refused.value.field == "number"


def test_ones_own_number_is_read_in_the_chosen_country_before_the_languages():
    assert read_own_number("333 123 4567", regions=["IT", "GB"], field="phone").e164 == (
        "+393331234567"
    )
    assert read_own_number("333 123 4567", regions=["GB", "IT"], field="phone").e164 == (
        "+443331234567"
    )


def test_ones_own_number_that_cannot_be_read_asks_for_the_country_code_in_ones_language():
    with pytest.raises(InvalidInput) as refused:
        read_own_number("12 34", regions=["IT"], field="phone", locale="it")

    assert (refused.value.field, refused.value.code) == ("phone", "unreadable_phone")
    assert "con il prefisso del paese (per esempio +39 02 1234 5678)" in refused.value.message


@pytest.mark.parametrize(
    ("locale", "accepted", "region"),
    [
        ("en", ["en-US", "en"], "US"),
        ("en", ["en"], "GB"),
        ("en", [], "GB"),
        ("it", ["en-US", "it"], "IT"),  # the browser names no country for Italian
        ("it", ["it-CH"], "CH"),
        ("zh", ["zh-Hant-TW"], "TW"),
        ("zh", ["zh"], "CN"),
        ("pl", ["pl-PL"], "PL"),
        ("en", ["en-419"], "GB"),  # a region that is no country
    ],
)
def test_the_language_suggests_a_country(locale, accepted, region):
    assert language_region(locale, accepted) == region


def test_every_country_is_offered_in_the_pages_language_and_its_order():
    italian = dict(country_choices("it"))
    chinese = [name for _, name in country_choices("zh")]
    polish = [name for _, name in country_choices("pl")]

    assert italian["IT"] == "Italia (+39)" and italian["US"] == "Stati Uniti (+1)"
    assert len(italian) > 200
    assert chinese.index("阿富汗 (+93)") < chinese.index("中国 (+86)")  # a, then z in pinyin
    assert polish.index("Węgry (+36)") < polish.index("Wyspy Owcze (+298)")  # ę as e
    assert polish.index("Łotwa (+371)") < polish.index("Madagaskar (+261)")  # Ł with L

"""References a person can read out, and the business-day clocks (FCA DISP 1.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.complaints import references
from app.complaints.policy import load_complaints_policy

POLICY = load_complaints_policy()


def test_references_are_readable_unique_and_carry_a_valid_check_character():
    made = {references.new_reference() for _ in range(2000)}

    # 30**5 bodies: 2,000 draws collide about once in twelve runs (the database's unique index
    # and a retry make each stored reference unique), so a few repeats are chance, many a fault.
    assert len(made) >= 1995
    for reference in made:
        assert references.normalize(reference) == reference
        assert reference[0:2] == "C-" and len(reference) == 9
        assert not set(reference[2:].replace("-", "")) & set("01ILOU")


def test_a_mistyped_or_swapped_character_fails_the_check():
    reference = "C-7K3Q-2" + references.check_character("7K3Q2")
    body = reference.replace("C-", "").replace("-", "")
    mistyped = "C-7K3R-2" + body[5]
    swapped = "C-K73Q-2" + body[5]

    assert references.normalize(reference) == reference
    assert references.normalize(reference.lower().replace("-", " ")) == reference
    assert references.normalize(mistyped) is None
    assert references.normalize(swapped) is None


def test_a_reference_is_keyed_as_the_digits_under_its_letters():
    assert references.keypad_digits("C-7K3Q-2M") == "753726"  # K is 5, Q is 7, M is 6


def london(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.parametrize(
    ("received", "first_due"),
    [
        # Monday morning: Thursday at close of business.
        (london(2026, 11, 23, 10, 0), london(2026, 11, 26, 17, 0)),
        # Friday evening, after close: it counts from Monday, so Thursday.
        (london(2026, 11, 20, 18, 30), london(2026, 11, 26, 17, 0)),
        # Friday before close: counts from Friday, so Wednesday.
        (london(2026, 11, 20, 16, 59), london(2026, 11, 25, 17, 0)),
        # Saturday: counts from Monday.
        (london(2026, 11, 21, 11, 0), london(2026, 11, 26, 17, 0)),
        # Christmas Eve 2026 (Thu): 25 and 28 December are bank holidays, 26-27 a weekend.
        (london(2026, 12, 24, 9, 0), london(2026, 12, 31, 17, 0)),
        # The late-August bank holiday (Mon 31 Aug 2026), received on Friday evening.
        (london(2026, 8, 28, 20, 0), london(2026, 9, 4, 17, 0)),
    ],
)
def test_the_first_response_is_due_three_business_days_after_receipt(received, first_due):
    assert POLICY.first_response_due(received.astimezone(UTC)) == first_due


def test_the_final_response_is_due_eight_weeks_after_receipt():
    received = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)

    assert POLICY.final_response_due(received) == received + timedelta(weeks=8)


@pytest.mark.parametrize(
    ("category", "text", "department", "because"),
    [
        ("cards", "My card was swallowed by the ATM", "cards", "category cards"),
        ("payments", "Qualcuno mi ha truffato al telefono", "fraud", "'truffa'"),
        (None, "Nie mogę się zalogować do aplikacji", "account_access", "'zalogować'"),
        ("other", "我的银行卡被吞了", "cards", "'银行卡'"),
        (None, "Nothing that we know", "customer_care", "no category"),
        ("verification_calls", "You called me three times", "verification_calls", "category"),
    ],
)
def test_routing_by_category_and_words_in_four_languages_keeps_its_reason(
    category, text, department, because
):
    routing = POLICY.route(category, text)

    assert routing.department == department
    assert because in routing.reason

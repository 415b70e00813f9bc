"""The complaints policy (config/complaints.yaml): routing, the business-day calendar, clocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.policy import (
    PolicyError,
    clock,
    duration,
    load,
    mapping,
    only_keys,
    setting,
    whole_number,
)

DEFAULT_FILE = Path(__file__).resolve().parent.parent.parent / "config" / "complaints.yaml"
CATEGORIES = ("payments", "cards", "account_access", "verification_calls", "fraud_scam", "other")


@dataclass(frozen=True)
class KeywordRule:
    department: str
    words: tuple[str, ...]
    override: bool
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Routing:
    department: str
    reason: str


def _names(value: Any, where: str) -> dict[str, str]:
    return {key: str(name) for key, name in mapping(value, where).items()}


def _categories(value: Any, where: str) -> dict[str, str]:
    categories = _names(value, where)
    if set(categories) != set(CATEGORIES):
        raise PolicyError(f"{where}: must be exactly {', '.join(CATEGORIES)}")
    return categories


def _keyword_rules(value: Any, where: str) -> tuple[KeywordRule, ...]:
    rules = []
    for index, item in enumerate(value or []):
        rule = only_keys(item, f"{where}[{index}]", {"department", "words"}, {"override"})
        words = tuple(str(w).lower() for w in rule["words"])
        # Latin words match at a word start ("card" in "cards", not in "discard"); CJK anywhere.
        alternatives = "|".join(
            (re.escape(w) if not w.isascii() else r"(?<![a-z])" + re.escape(w))
            for w in sorted(words, key=len, reverse=True)
        )
        rules.append(
            KeywordRule(
                str(rule["department"]),
                words,
                bool(rule.get("override")),
                re.compile(alternatives, re.IGNORECASE),
            )
        )
    return tuple(rules)


def _zone(value: Any, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ValueError, ZoneInfoNotFoundError):
        raise PolicyError(f"{where}: {value!r} is not a time zone like Europe/London") from None


def _holidays(value: Any, where: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(str(day)) for day in value or [])


def _weeks(value: Any, where: str) -> timedelta:
    return timedelta(weeks=whole_number(1)(value, where))


@dataclass(frozen=True)
class ComplaintsPolicy:
    version: int
    #: Each department's name for staff, by its key.
    departments: dict[str, str] = field(metadata=setting("departments", _names))
    #: The department of each category a complainant can choose.
    categories: dict[str, str] = field(metadata=setting("categories", _categories))
    zone: ZoneInfo = field(metadata=setting("calendar.time_zone", _zone))
    close_of_business: time = field(metadata=setting("calendar.close_of_business", clock))
    #: The first response is due at close of business this many business days after receipt.
    first_response_days: int = field(
        metadata=setting("clocks.first_response_business_days", whole_number(1))
    )
    #: The final response is due this long after receipt.
    final_response: timedelta = field(metadata=setting("clocks.final_response_weeks", _weeks))
    #: A supervisor is alerted this long before a deadline.
    escalate_before: timedelta = field(metadata=setting("clocks.escalate_before", duration))
    #: Words in the text that route a complaint, tried in order.
    rules: tuple[KeywordRule, ...] = field(
        default=(), metadata=setting("keyword_rules", _keyword_rules)
    )
    holidays: frozenset[date] = field(
        default=frozenset(), metadata=setting("calendar.holidays", _holidays)
    )

    def __post_init__(self) -> None:
        for category, department in self.categories.items():
            if department not in self.departments:
                raise PolicyError(
                    f"categories.{category}: department {department!r} is not in departments"
                )
        for index, rule in enumerate(self.rules):
            if rule.department not in self.departments:
                raise PolicyError(
                    f"keyword_rules[{index}].department: {rule.department!r} is not in departments"
                )

    # ----- routing -----

    def route(self, category: str | None, text: str) -> Routing:
        """The department for a complaint, and why (kept on the complaint)."""
        for rule in self.rules:
            if rule.override and (match := rule.pattern.search(text)):
                return Routing(
                    rule.department, f"the text mentions {match.group(0)!r}: {self.name(rule)}"
                )
        if category and category != "other":
            department = self.categories[category]
            return Routing(department, f"category {category}: {self.departments[department]}")
        for rule in self.rules:
            if match := rule.pattern.search(text):
                return Routing(
                    rule.department, f"the text mentions {match.group(0)!r}: {self.name(rule)}"
                )
        department = self.categories["other"]
        return Routing(
            department, f"no category and no known words: {self.departments[department]}"
        )

    def name(self, rule: KeywordRule) -> str:
        return self.departments[rule.department]

    # ----- business days -----

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def receipt_day(self, received_at: datetime) -> date:
        """The business day a complaint counts from: after close of business, the next one."""
        local = received_at.astimezone(self.zone)
        day = local.date()
        if not self.is_business_day(day) or local.time() >= self.close_of_business:
            day = self.next_business_day(day)
        return day

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def first_response_due(self, received_at: datetime) -> datetime:
        """Close of business on the Nth business day after the day of receipt."""
        day = self.receipt_day(received_at)
        for _ in range(self.first_response_days):
            day = self.next_business_day(day)
        return datetime.combine(day, self.close_of_business, self.zone)

    def final_response_due(self, received_at: datetime) -> datetime:
        return received_at + self.final_response


def load_complaints_policy(path: Path | str | None = None) -> ComplaintsPolicy:
    return load(ComplaintsPolicy, path or DEFAULT_FILE)

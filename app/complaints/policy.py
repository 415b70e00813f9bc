"""The complaints policy (config/complaints.yaml): routing, the business-day calendar, clocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from app.callbacks.policy import PolicyError, duration

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


@dataclass(frozen=True)
class ComplaintsPolicy:
    version: int
    departments: dict[str, str]
    categories: dict[str, str]
    rules: tuple[KeywordRule, ...]
    zone: ZoneInfo
    close_of_business: time
    holidays: frozenset[date]
    first_response_days: int
    final_response: timedelta
    escalate_before: timedelta

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
    source = Path(path) if path else DEFAULT_FILE
    try:
        data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{source}: cannot be read: {exc}") from None
    try:
        departments = {str(k): str(v) for k, v in data["departments"].items()}
        categories = {str(k): str(v) for k, v in data["categories"].items()}
        if set(categories) != set(CATEGORIES):
            raise PolicyError(f"categories must be exactly {', '.join(CATEGORIES)}")
        for department in [*categories.values()]:
            if department not in departments:
                raise PolicyError(f"department {department!r} is not in departments")
        rules = []
        for index, rule in enumerate(data.get("keyword_rules") or []):
            if rule["department"] not in departments:
                raise PolicyError(f"keyword_rules[{index}]: unknown department")
            words = tuple(str(w).lower() for w in rule["words"])
            # Latin words match at a word start ("card" in "cards", not in "discard"); CJK anywhere.
            alternatives = "|".join(
                (re.escape(w) if not w.isascii() else r"(?<![a-z])" + re.escape(w))
                for w in sorted(words, key=len, reverse=True)
            )
            rules.append(
                KeywordRule(
                    rule["department"],
                    words,
                    bool(rule.get("override")),
                    re.compile(alternatives, re.IGNORECASE),
                )
            )
        calendar, clocks = data["calendar"], data["clocks"]
        hours, minutes = str(calendar["close_of_business"]).split(":")
        return ComplaintsPolicy(
            version=int(data["version"]),
            departments=departments,
            categories=categories,
            rules=tuple(rules),
            zone=ZoneInfo(calendar["time_zone"]),
            close_of_business=time(int(hours), int(minutes)),
            holidays=frozenset(date.fromisoformat(str(d)) for d in calendar.get("holidays") or []),
            first_response_days=int(clocks["first_response_business_days"]),
            final_response=timedelta(weeks=int(clocks["final_response_weeks"])),
            escalate_before=duration(clocks["escalate_before"], "clocks.escalate_before"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{source}: {exc}") from None

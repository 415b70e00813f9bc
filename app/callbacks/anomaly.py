"""Whether a transaction needs a call: robust per-customer statistics, rules from the policy file.

Each rule that fires adds its weight to the score and a reason a person can read
("amount 14x this customer's median", "first payment from PL", "6 payments in 10 minutes").
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callbacks.models import Event, EventType, Priority
from app.callbacks.policy import Policy

# What each rule says when it fires (kept with the callback in English; the console shows each in
# its reader's words by these same texts, the `{ratio}`-like parts as they are).
ABOVE_MEDIAN = "amount {ratio}x this customer's median"
ABOVE_USUAL = "amount {deviations} robust deviations above usual"
ABOVE_FLOOR = "amount {amount} is above the review floor"
VELOCITY = "{count} payments in {minutes} minutes"
NEW_COUNTRY = "first payment from {country}"
NEW_DEVICE = "new device"
NEW_BENEFICIARY = "new beneficiary"

MAD_TO_SIGMA = 1.4826  # scales the median absolute deviation to a normal's standard deviation


@dataclass
class Assessment:
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    anomalous: bool = False
    priority: Priority | None = None

    def add(self, weight: float, reason: str) -> None:
        self.score += weight
        self.reasons.append(reason)


@dataclass(frozen=True)
class Past:
    """What we know of one earlier transaction of the customer."""

    occurred_at: datetime
    amount: Decimal | None
    country: str | None
    device: str | None
    beneficiary: str | None


def history(
    session: Session, policy: Policy, customer_id: uuid.UUID, before: datetime
) -> list[Past]:
    """The customer's recent transactions, newest first."""
    since = before - timedelta(days=policy.history_days)
    rows = session.execute(
        select(Event.occurred_at, Event.data)
        .where(
            Event.customer_id == customer_id,
            Event.type == EventType.TRANSACTION,
            Event.occurred_at >= since,
            Event.occurred_at <= before,
        )
        .order_by(Event.occurred_at.desc())
        .limit(policy.history_max)
    ).all()
    return [past_of(occurred_at, data) for occurred_at, data in rows]


def past_of(occurred_at: datetime, data: dict[str, Any]) -> Past:
    return Past(
        occurred_at,
        _amount(data.get("amount")),
        data.get("country"),
        data.get("device"),
        data.get("beneficiary"),
    )


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def assess_transaction(
    policy: Policy, data: dict[str, Any], occurred_at: datetime, past: list[Past]
) -> Assessment:
    """Score one transaction against the customer's own history."""
    result = Assessment()
    amount = _amount(data.get("amount"))
    enough = len(past) >= policy.min_history
    amounts = [p.amount for p in past if p.amount is not None]
    if amount is not None and enough and amounts:
        median = statistics.median(amounts)
        rule = policy.rule("amount_vs_median")
        if rule and median > 0 and amount >= Decimal(str(rule["ratio"])) * median:
            result.add(rule["weight"], ABOVE_MEDIAN.format(ratio=f"{amount / median:.0f}"))
        rule = policy.rule("amount_robust_z")
        mad = statistics.median([abs(a - median) for a in amounts])
        if rule and mad > 0:
            z = float(amount - median) / (MAD_TO_SIGMA * float(mad))
            if z >= float(rule["z"]):
                result.add(rule["weight"], ABOVE_USUAL.format(deviations=f"{z:.0f}"))
    rule = policy.rule("large_amount")
    if rule and amount is not None and amount >= Decimal(str(rule["amount"])):
        currency = f" {data['currency']}" if data.get("currency") else ""
        result.add(rule["weight"], ABOVE_FLOOR.format(amount=f"{amount:,.2f}{currency}"))
    rule = policy.rule("velocity")
    if rule:
        window_start = occurred_at - policy.velocity_window
        recent = 1 + sum(1 for p in past if window_start <= p.occurred_at <= occurred_at)
        if recent >= int(rule["count"]):
            minutes = int(policy.velocity_window.total_seconds() // 60)
            result.add(rule["weight"], VELOCITY.format(count=recent, minutes=minutes))
    if enough:
        for name, key, reason in (
            ("new_country", "country", NEW_COUNTRY),
            ("new_device", "device", NEW_DEVICE),
            ("new_beneficiary", "beneficiary", NEW_BENEFICIARY),
        ):
            rule = policy.rule(name)
            value = data.get(key)
            if rule and value and value not in {getattr(p, key) for p in past}:
                result.add(rule["weight"], reason.format(country=value))
    result.anomalous = result.score >= policy.call_at
    if result.anomalous:
        bands = policy.priority_bands
        result.priority = (
            Priority.HIGH
            if result.score >= bands["high"]
            else Priority.MEDIUM
            if result.score >= bands["medium"]
            else Priority.LOW
        )
    return result

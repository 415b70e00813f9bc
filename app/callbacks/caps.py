"""The frequency cap: how often one customer may be called, across callbacks and campaigns.

One owner for the rule, used at dial time (rules.at_dial_time, over the starts already read) and by
a campaign's pre-flight (as SQL over its whole audience). The caps themselves are in the policy
file (`caps`), read through `Policy.frequency_caps`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from app.callbacks.matters import CARRIED_WORKER
from app.callbacks.models import AttemptStatus, CallbackAttempt
from app.callbacks.policy import Policy

# Attempts that count towards the caps (a refused one placed nothing).
COUNTED = (AttemptStatus.DIALING, AttemptStatus.PLACED, AttemptStatus.UNKNOWN, AttemptStatus.ENDED)


def counted() -> ColumnElement[bool]:
    """SQL: an attempt that counts towards the caps (a matter carried by another's call rang
    nobody again: that call is counted once)."""
    return and_(CallbackAttempt.status.in_(COUNTED), CallbackAttempt.worker != CARRIED_WORKER)


@dataclass(frozen=True)
class FrequencyCap:
    """At most `limit` counted attempts to a customer within each `period`."""

    limits: tuple[tuple[timedelta, int], ...]

    @classmethod
    def of(cls, policy: Policy) -> FrequencyCap:
        return cls(policy.frequency_caps)

    @property
    def longest(self) -> timedelta:
        """How far back attempts matter."""
        return max((period for period, _ in self.limits), default=timedelta(0))

    def lifts_at(self, starts: Iterable[datetime], now: datetime) -> datetime | None:
        """When the customer may be called again, if a cap forbids it now (else None)."""
        recent = sorted((s for s in starts if s > now - self.longest), reverse=True)
        lifts = []
        for period, limit in self.limits:
            inside = [s for s in recent if s > now - period]
            if len(inside) >= limit:
                lifts.append(inside[limit - 1] + period)
        return max(lifts) if lifts else None

    def reached(self, customer_id: Any, now: datetime) -> ColumnElement[bool]:
        """SQL: whether a cap forbids calling this customer (a column or value) now."""
        clauses = []
        for period, limit in self.limits:
            count = (
                select(func.count())
                .select_from(CallbackAttempt)
                .where(
                    CallbackAttempt.customer_id == customer_id,
                    counted(),
                    CallbackAttempt.started_at > now - period,
                )
                .scalar_subquery()
            )
            clauses.append(count >= limit)
        return or_(*clauses) if clauses else false()

"""Which planned dialing moments (slots) a worker may still use. At a real rate (1 to 50 calls a
second) a slot may be used half an interval late, else it is dropped and new ones are taken from
the shared pacing row. Above 1,000 calls a second (faster than any carrier takes creates one at a
time) a slot may be used up to 50 ms late: else every call of a batch found its slot passed and
took the shared row again in a transaction of its own (the dispatch benchmark fell to a third)."""

from __future__ import annotations

import dataclasses
from collections import deque
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.callbacks.dialer import Dispatcher
from app.callbacks.models import DialPacing
from app.calls.service import CallUrls
from app.carriers.recording import RecordingTelephony
from app.extensions import db
from app.flows.registry import flows

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def dispatcher(app, rate: float) -> Dispatcher:
    return Dispatcher(
        session=db.session,
        policy=dataclasses.replace(app.extensions["callback_policy"], calls_per_second=rate),
        telephony=RecordingTelephony(),
        urls=CallUrls(app),
        flows=flows(),
        worker="w1",
        now=lambda: NOW,
    )


def row_moment() -> datetime | None:
    """The shared row's next free moment (None before any worker took a slot)."""
    return db.session.scalar(sa.select(DialPacing.next_slot_at))


@pytest.mark.parametrize(
    ("rate", "late", "kept"),
    [
        (50.0, timedelta(milliseconds=9), True),  # within half its 20 ms interval
        (50.0, timedelta(milliseconds=11), False),  # past it: dropped, new slots taken
        (1000.0, timedelta(milliseconds=1), False),  # 1,000/s is still paced to the slot
        (1e6, timedelta(milliseconds=40), True),  # unlimited: kept up to 50 ms late
        (1e6, timedelta(milliseconds=60), False),
    ],
)
def test_a_slot_is_kept_while_it_is_late_by_less_than_the_rate_allows(app, rate, late, kept):
    with app.app_context():
        worker = dispatcher(app, rate)
        before = row_moment()
        planned = NOW - late
        plan = deque([planned, planned + timedelta(microseconds=1)])

        slot = worker._slot(SimpleNamespace(group=None), plan, later=2)

        took_new_slots = row_moment() != before
        assert (slot == planned) is kept
        assert took_new_slots is not kept  # a dropped plan takes new slots from the shared row
        if not kept:
            assert slot >= NOW  # never a moment already past
        db.session.remove()

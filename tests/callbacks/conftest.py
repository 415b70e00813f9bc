"""A call center with lines, a fixed clock, the scripted simulator and a permissive policy."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.callbacks.dispatch import Dispatcher
from app.callbacks.models import Callback
from app.extensions import db
from app.flows.registry import flows
from app.telephony.calls import CallUrls
from app.telephony.service import telephony_for

# 10:00 UTC: 11:00 in Rome, 11:00 in Warsaw, inside calling hours.
MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self.current = moment


@pytest.fixture
def clock(app):
    fixed = Clock(MORNING)
    app.extensions["clock"] = fixed
    return fixed


@pytest.fixture
def dispatcher(app, clock, simulator):
    """A dispatcher for one worker; the caller may change its policy (pacing, caps)."""

    def make(worker: str = "w1", **policy_changes) -> Dispatcher:
        policy = dataclasses.replace(app.extensions["callback_policy"], **policy_changes)
        return Dispatcher(
            session=db.session,
            policy=policy,
            telephony=telephony_for(app),
            urls=CallUrls(app),
            flows=flows(),
            worker=worker,
            now=clock,
            sleep=clock.advance,
        )

    return make


def callback_of(app, callback_id: str) -> Callback:
    with app.app_context():
        callback = db.session.get_one(Callback, uuid.UUID(callback_id))
        db.session.expunge(callback)
        return callback

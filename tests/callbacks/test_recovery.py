"""Recovery with a carrier that answers late, answers 500, hangs, or reports a call's end before
its create answers: nothing is stuck, nothing is adopted wrongly, nothing is dialed twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.callbacks.models import AttemptStatus, CallbackAttempt, CallbackStatus
from app.calls.models import Call, CallStatus
from app.carriers.signatures import signing_token
from app.carriers.simulator import WsgiTransport
from app.extensions import db
from tests.callbacks.test_dispatch import register, registration_callback
from tests.carriers.double import CarrierDouble, Create
from tests.engine_fixtures import MORNING, callback_of

pytestmark = pytest.mark.usefixtures("lines")

NUMBER = "+393331234567"


@pytest.fixture
def carrier(app, clock, simulator):
    """The carrier double as the app's carrier (the dispatcher and reaper fixtures use it)."""
    double = CarrierDouble(
        transport=WsgiTransport(app),
        auth_token=signing_token(app.config),
        now=clock,
        advance=clock.advance,
    )
    app.extensions["telephony"] = double
    return double


def attempts_of(app, callback_id: str) -> list[tuple[AttemptStatus, str | None]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(CallbackAttempt)
            .where(CallbackAttempt.callback_id == uuid.UUID(callback_id))
            .order_by(CallbackAttempt.number)
        )
        return [(row.status, row.result) for row in rows]


def calls_of(app, callback_id: str) -> list[tuple[CallStatus, str | None]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Call)
            .where(Call.callback_id == uuid.UUID(callback_id))
            .order_by(Call.created_at)
        )
        return [(row.status, row.sid) for row in rows]


def dispatch(app, dispatcher, worker: str = "w1", **policy) -> int:
    with app.app_context():
        return dispatcher(worker, **policy).dispatch()


def reap(app, reaper, worker: str = "w1") -> int:
    with app.app_context():
        return reaper(worker).reap()


def test_a_call_that_ended_before_its_create_answered_gets_its_retry_and_frees_its_slot(
    api, app, clock, dispatcher, reaper, carrier
):
    register(api, "it", "+39 333 123 4567")
    register(api, "pl", "+48 601 234 567")
    stuck = registration_callback(api, clock, "it")
    # The line is busy, and Twilio's reply times out after the busy status has come.
    carrier.script(NUMBER, Create(answer="timeout", report_first=("busy",)))

    assert dispatch(app, dispatcher, max_concurrent_calls=1) == 0
    clock.advance(3 * 60)  # past the lease: the reaper looks at the attempt
    reap(app, reaper)

    callback = callback_of(app, stuck)
    assert callback.status is CallbackStatus.QUEUED  # waiting for its first retry, not "in call"
    assert callback.next_attempt_at == MORNING + timedelta(minutes=10)
    assert attempts_of(app, stuck) == [(AttemptStatus.ENDED, "busy")]
    assert [status for status, _ in calls_of(app, stuck)] == [CallStatus.BUSY]

    # Its slot is free: with one concurrent call allowed, the next customer is called.
    registration_callback(api, clock, "pl")
    assert dispatch(app, dispatcher, max_concurrent_calls=1) == 1
    # And the retry comes when it is due.
    clock.set(MORNING + timedelta(minutes=10))
    carrier.script(NUMBER, Create(answer="sid"))
    assert dispatch(app, dispatcher, max_concurrent_calls=5) == 1
    assert carrier.requests == [NUMBER, "+48601234567", NUMBER]

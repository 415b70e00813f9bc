"""Recovery with a carrier that answers late, answers 500, hangs, or reports a call's end before
its create answers: nothing is stuck, nothing is adopted wrongly, nothing is dialed twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.service import Actor
from app.callbacks.models import AttemptStatus, CallbackAttempt, CallbackStatus
from app.calls.models import Call, CallStatus
from app.calls.service import CallUrls, start_outbound_call
from app.carriers.signatures import signing_token
from app.carriers.simulator import WsgiTransport
from app.customers.service import find_by_external_id
from app.extensions import db
from app.flows.registry import flows
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


def alert_call_to(app, carrier, external_id: str) -> str:
    """A transaction alert placed to the customer's number (not a callback's call): its sid."""
    with app.app_context():
        call = start_outbound_call(
            db.session,
            telephony=carrier,
            urls=CallUrls(app),
            customer=find_by_external_id(db.session, external_id),
            flow=flows()["transaction_alert"],
            actor=Actor("test"),
            variables={
                "amount": "80",
                "currency": "EUR",
                "merchant": "Caffè Roma",
                "time": "2026-11-23T09:30:00+00:00",
            },
        )
        assert call.sid is not None
        return call.sid


def test_a_lost_create_is_reconciled_by_its_own_call_never_by_another_call_to_the_number(
    api, app, clock, dispatcher, reaper, carrier
):
    register(api, "it", "+39 333 123 4567")
    register(api, "pl", "+48 601 234 567")
    first = registration_callback(api, clock, "it")
    other = registration_callback(api, clock, "pl")
    # Both creates answer 500 and place nothing; then another call rings the first number.
    carrier.script(NUMBER, Create(answer="refused-500"))
    carrier.script("+48601234567", Create(answer="refused-500"))
    assert dispatch(app, dispatcher, calls_per_second=50) == 0
    alert = alert_call_to(app, carrier, "it")

    clock.advance(3 * 60)
    reap(app, reaper)

    # Neither took the alert's call: both are queued to be dialed again, the attempt not counted.
    for callback_id in (first, other):
        callback = callback_of(app, callback_id)
        assert (callback.status, callback.attempts) == (CallbackStatus.QUEUED, 0)
        assert attempts_of(app, callback_id) == [(AttemptStatus.FAILED, None)]
        assert [sid for _, sid in calls_of(app, callback_id)] == [None]
    with app.app_context():
        assert db.session.scalar(sa.select(Call.callback_id).where(Call.sid == alert)) is None


def test_one_callback_that_cannot_be_reaped_never_blocks_the_others(
    api, app, clock, dispatcher, reaper, carrier, monkeypatch
):
    register(api, "it", "+39 333 123 4567")
    register(api, "pl", "+48 601 234 567")
    broken = registration_callback(api, clock, "it")
    fine = registration_callback(api, clock, "pl")
    carrier.script(NUMBER, Create(answer="refused-500"))
    carrier.script("+48601234567", Create(answer="refused-500"))
    assert dispatch(app, dispatcher, calls_per_second=50) == 0
    alert = alert_call_to(app, carrier, "it")
    # A carrier (or a bug) names, for the first, a call that another row of ours already holds.
    wrong = {NUMBER: alert}
    monkeypatch.setattr(carrier, "find_call", lambda *, to, since, key: wrong.get(to))

    clock.advance(3 * 60)
    reap(app, reaper)
    reap(app, reaper)  # and again: every run does what it can

    assert callback_of(app, fine).status is CallbackStatus.QUEUED
    assert attempts_of(app, fine) == [(AttemptStatus.FAILED, None)]
    assert attempts_of(app, broken) == [(AttemptStatus.UNKNOWN, None)]  # left for a person
    with app.app_context():
        assert db.session.scalar(sa.select(Call.callback_id).where(Call.sid == alert)) is None


def test_a_batch_that_outlives_its_lease_is_never_dialed_twice(
    api, app, clock, dispatcher, reaper, carrier
):
    """Creates take 7 s: a batch of 20 outlives its 2-minute lease while the same worker's
    reaper (a parallel thread) and another worker run."""
    numbers = [f"+39 333 100 {i:04d}" for i in range(20)]
    for i, number in enumerate(numbers):
        register(api, f"c{i}", number)
        registration_callback(api, clock, f"c{i}")
    others = []

    def meanwhile() -> None:  # at the 19th create, 133 s into the batch: past the lease
        if len(carrier.requests) != 19:
            return
        with app.app_context():
            others.append(reaper("w1").reap())  # this worker's own reaper thread
            db.session.remove()
        with app.app_context():
            others.append(reaper("w2").reap())  # another worker's
            others.append(
                dispatcher("w2", calls_per_second=50, max_concurrent_calls=100).dispatch()
            )
            db.session.remove()

    for number in numbers:
        carrier.script(number.replace(" ", ""), Create(seconds=7, during=meanwhile))

    placed = dispatch(app, dispatcher, calls_per_second=50, max_concurrent_calls=100)

    assert others == [0, 0, 0]
    assert placed == 20
    assert sorted(carrier.requests) == sorted(n.replace(" ", "") for n in numbers)  # once each
    with app.app_context():
        statuses = db.session.scalars(sa.select(CallbackAttempt.status)).all()
    assert statuses == [AttemptStatus.PLACED] * 20


def test_an_attempt_that_never_reached_the_carrier_does_not_use_a_retry(
    api, app, clock, dispatcher, reaper, carrier
):
    register(api, "it", "+39 333 123 4567")
    callback_id = registration_callback(api, clock, "it")
    carrier.script(NUMBER, Create(answer="refused-500"))
    dispatch(app, dispatcher)
    clock.advance(3 * 60)
    reap(app, reaper)  # nothing reached the carrier: dialed again at once

    waits = []
    for _ in range(5):
        carrier.script(NUMBER, Create(report_first=("no-answer",)))
        before = clock()
        assert dispatch(app, dispatcher, cap_per_day=10) == 1
        callback = callback_of(app, callback_id)
        if callback.status is CallbackStatus.DONE:
            break
        waits.append(callback.next_attempt_at - before)
        clock.set(callback.next_attempt_at)

    # The default ladder, whole: four real calls, the first retry after 10 minutes.
    assert waits == [timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)]
    assert (callback.outcome.value, callback.attempts) == ("unreachable", 4)
    assert len(carrier.calls) == 4


def test_a_call_created_whose_answer_was_lost_is_adopted_by_its_own_id(
    api, app, clock, dispatcher, reaper, carrier
):
    register(api, "it", "+39 333 123 4567")
    callback_id = registration_callback(api, clock, "it")
    carrier.script(NUMBER, Create(answer="lost"))  # created, then a 500
    dispatch(app, dispatcher)
    alert = alert_call_to(app, carrier, "it")  # and another call to the same number

    clock.advance(3 * 60)
    reap(app, reaper)

    callback = callback_of(app, callback_id)
    assert (callback.status, callback.attempts) == (CallbackStatus.IN_CALL, 1)
    assert attempts_of(app, callback_id) == [(AttemptStatus.PLACED, None)]
    assert calls_of(app, callback_id) == [(CallStatus.QUEUED, carrier.calls[0].sid)]
    assert carrier.calls[0].sid != alert


def test_a_lost_create_is_adopted_even_when_another_process_writes_while_the_carrier_is_asked(
    api, app, clock, dispatcher, reaper, carrier, monkeypatch
):
    """The carrier is asked before any transaction is open: a slow answer, during which another
    process writes (a heartbeat, the web), never makes the reconciliation fail (on SQLite, a
    transaction that read before the request and wrote after it would be refused, every run)."""
    register(api, "slow", "+39 333 123 4567")
    callback_id = registration_callback(api, clock, "slow")
    carrier.script(NUMBER, Create(answer="lost"))
    dispatch(app, dispatcher)
    clock.advance(3 * 60)

    ask = carrier.find_call
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    open_while_asked: list[bool] = []

    def find_call_while_someone_writes(*, to, since, key):  # type: ignore[no-untyped-def]
        open_while_asked.append(db.session().in_nested_transaction())
        with other.begin() as connection:  # another process's write lands meanwhile
            connection.execute(sa.text("UPDATE calls SET direction = direction"))
        return ask(to=to, since=since, key=key)

    monkeypatch.setattr(carrier, "find_call", find_call_while_someone_writes)
    try:
        reap(app, reaper)
    finally:
        other.dispose()

    assert open_while_asked == [False]
    assert attempts_of(app, callback_id) == [(AttemptStatus.PLACED, None)]
    assert callback_of(app, callback_id).status == CallbackStatus.IN_CALL

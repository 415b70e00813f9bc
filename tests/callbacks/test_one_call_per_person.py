"""One live call per person: a number in a call with us, or just off one, is not rung again.

A customer with two open matters (a registration and an anomalous payment) gets one call at a
time, however many workers dispatch at once; the second matter waits until the first call ends
and the number's quiet period (`quiet_after_call` in config/callback_policy.yaml) has passed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.callbacks import lifecycle
from app.callbacks.dialer import Dispatcher
from app.callbacks.models import Callback, CallbackStatus
from app.calls.models import Call, CallDirection, CallStatus
from app.calls.service import CallUrls, record_status
from app.carriers.recording import RecordingTelephony
from app.extensions import db
from app.flows.registry import flows
from tests.conftest import make_app
from tests.engine_fixtures import MORNING, Clock
from tests.support import ApiClient
from tests.telephony_fixtures import register_lines

PHONE = "+393331234567"


def needs_postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers dispatch at once only on PostgreSQL (SQLite: one worker)")


def two_matters(api: ApiClient) -> tuple[str, str]:
    """A customer with an open registration check and an anomalous payment to confirm."""
    api.post("/api/v1/customers", json={"external_id": "it", "phone": "+39 333 123 4567"})
    for i in range(6):
        api.post(
            "/api/v1/events",
            json={
                "id": f"h{i}",
                "type": "transaction",
                "customer_external_id": "it",
                "occurred_at": (MORNING - timedelta(days=i + 1)).isoformat(),
                "data": {"amount": "40", "country": "IT", "device": "p1", "beneficiary": "b1"},
            },
        )
    registration = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "it",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()
    payment = api.post(
        "/api/v1/events",
        json={
            "id": "t-1",
            "type": "transaction",
            "customer_external_id": "it",
            "occurred_at": MORNING.isoformat(),
            "data": {
                "amount": "900",
                "currency": "EUR",
                "merchant": "Electro Shop",
                "country": "PL",
                "device": "p9",
                "beneficiary": "b7",
            },
        },
    ).get_json()
    assert registration["callback_id"] and payment["anomalous"] and payment["callback_id"]
    return registration["callback_id"], payment["callback_id"]


@pytest.fixture
def center(database_url):
    app = make_app(database_url)
    clock = Clock(MORNING)
    carrier = RecordingTelephony()
    app.extensions.update(clock=clock, telephony=carrier)
    api = ApiClient(app.test_client())
    register_lines(api)
    yield app, clock, carrier, api
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def dispatcher(app, clock, carrier, worker: str, **policy) -> Dispatcher:
    return Dispatcher(
        session=db.session,
        policy=dataclasses.replace(app.extensions["callback_policy"], **policy),
        telephony=carrier,
        urls=CallUrls(app),
        flows=flows(),
        worker=worker,
        now=clock,
        sleep=lambda seconds: None,
    )


def dispatch_at_once(app, clock, carrier, workers: int = 2, **policy) -> int:
    """Several workers, each on its own connection, dispatch at the same moment."""
    start = threading.Barrier(workers)
    placed: list[int] = []

    def work(name: str) -> None:
        with app.app_context():
            worker = dispatcher(app, clock, carrier, name, **policy)
            start.wait()
            placed.append(worker.dispatch())
            db.session.remove()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(placed) == workers  # no worker died on the way
    return sum(placed)


def end_calls(app, clock, outcome: str = "confirmed") -> None:
    """The carrier reports the end of every call still live (the flow decided `outcome`)."""
    with app.app_context():
        for call in db.session.scalars(sa.select(Call).where(Call.ended_at.is_(None))):
            call.outcome = outcome
            record_status(db.session, call=call, status="completed")
        db.session.commit()


def callbacks(app) -> dict[str, Callback]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Callback)).all()
        db.session.expunge_all()
        return {str(row.id): row for row in rows}


def test_two_matters_and_two_workers_get_one_call_and_the_second_waits_for_its_end(
    center, database_url
):
    needs_postgres(database_url)
    app, clock, carrier, api = center
    registration, payment = two_matters(api)

    placed = dispatch_at_once(app, clock, carrier, calls_per_second=50.0)

    assert (placed, carrier.placed) == (1, [PHONE])
    states = callbacks(app)
    assert sorted(cb.status for cb in states.values()) == [
        CallbackStatus.IN_CALL,
        CallbackStatus.QUEUED,
    ]
    # The payment (high priority, the nearer deadline) is the one being asked about.
    assert states[payment].status is CallbackStatus.IN_CALL

    clock.advance(90)  # the person is still on the line: nobody rings them
    assert dispatch_at_once(app, clock, carrier, calls_per_second=50.0) == 0

    end_calls(app, clock)
    ended_at = clock()
    quiet = app.extensions["callback_policy"].quiet_after_call
    assert quiet > timedelta(0)

    clock.advance(quiet.total_seconds() / 2)
    assert dispatch_at_once(app, clock, carrier, calls_per_second=50.0) == 0
    waiting = callbacks(app)[registration]
    assert waiting.status is CallbackStatus.QUEUED
    assert waiting.next_attempt_at == ended_at + quiet
    assert waiting.waiting_for == "the quiet period after a call"

    clock.set(ended_at + quiet)
    assert dispatch_at_once(app, clock, carrier, calls_per_second=50.0) == 1
    assert carrier.placed == [PHONE, PHONE]
    assert callbacks(app)[registration].status is CallbackStatus.IN_CALL


def test_one_worker_takes_one_matter_per_number_in_a_claim(center):
    """SQLite too: a single worker's claim never takes two callbacks for one number."""
    app, clock, carrier, api = center
    two_matters(api)

    with app.app_context():
        placed = dispatcher(app, clock, carrier, "w1", calls_per_second=50.0).dispatch()

    assert (placed, carrier.placed) == (1, [PHONE])


def test_the_database_refuses_a_second_live_callback_for_a_number(center, database_url):
    """The claim's own guard: two claims in flight at once, not serialized by the pacing row,
    each see the other's callback as still queued; the database lets only one of them through."""
    needs_postgres(database_url)
    app, _, _, api = center
    registration, _ = two_matters(api)
    later = MORNING + timedelta(minutes=1)
    with app.app_context():  # the first claim cannot see (nor lock) the registration: not due
        db.session.get_one(Callback, uuid.UUID(registration)).next_attempt_at = later
        db.session.commit()
    lease = app.extensions["callback_policy"].lease
    engine = sa.create_engine(database_url)
    first, second = Session(engine), Session(engine)
    claimed: dict[str, list] = {}
    try:
        claimed["first"] = list(
            first.scalars(lifecycle.claim_statement(worker="w1", now=MORNING, lease=lease, limit=1))
        )
        second_pid = second.scalar(sa.text("SELECT pg_backend_pid()"))

        def claim_second() -> None:
            try:
                claimed["second"] = list(
                    second.scalars(
                        lifecycle.claim_statement(worker="w2", now=later, lease=lease, limit=1)
                    )
                )
                second.commit()
            except IntegrityError:
                second.rollback()
                claimed["second"] = []

        racing = threading.Thread(target=claim_second)
        racing.start()
        watcher, waited = engine.connect(), False
        for _ in range(200):  # until the second claim waits for the first, or has finished
            waiting = watcher.scalar(
                sa.text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": second_pid},
            )
            watcher.rollback()
            waited = waited or bool(waiting)
            if waiting or not racing.is_alive():
                break
            time.sleep(0.02)
        watcher.close()
        first.commit()
        racing.join()
    finally:
        first.close()
        second.close()
        engine.dispose()

    assert waited  # the second claim took the other callback and met the first one's
    assert len(claimed["first"]) == 1
    assert claimed["second"] == []
    live = [cb for cb in callbacks(app).values() if cb.status is not CallbackStatus.QUEUED]
    assert [cb.id for cb in live] == claimed["first"]


def test_a_number_on_the_line_with_us_is_not_rung(center):
    """An inbound call from the customer (say, to our verification line) is a live call too;
    once it ends, our call goes at once (the quiet period follows only the calls we place)."""
    app, clock, carrier, api = center
    two_matters(api)
    with app.app_context():
        inbound = Call(
            id=uuid.uuid4(),
            sid="CA" + "1" * 32,
            direction=CallDirection.INBOUND,
            from_number=PHONE,
            to_number="+14155550100",
            flow="verify_caller_line",
            flow_version=1,
            locale="it",
            status=CallStatus.IN_PROGRESS,
        )
        db.session.add(inbound)
        db.session.commit()
        assert dispatcher(app, clock, carrier, "w1").dispatch() == 0

    end_calls(app, clock, outcome="hung_up")
    with app.app_context():
        assert dispatcher(app, clock, carrier, "w1").dispatch() == 1
    assert carrier.placed == [PHONE]


# ----- one call, several matters -----


@pytest.fixture
def two_matters_on_the_simulator(app, api, lines, clock, simulator):
    """The customer's two matters, and the simulator's callee who verifies and answers them."""
    registration, payment = two_matters(api)
    return registration, payment


def audit_actions(app, callback_id: str) -> list[str]:
    from app.audit.models import AuditEvent

    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject_id == callback_id)
                .order_by(AuditEvent.id)
            )
        )


def test_one_call_asks_about_both_matters_in_turn_each_keeping_its_own_outcome(
    app, api, dispatcher, simulator, two_matters_on_the_simulator
):
    from app.callbacks.models import CallbackAttempt
    from app.carriers.simulator import CalleeScript
    from tests.engine_fixtures import callback_of
    from tests.telephony_fixtures import VALID_CODE

    registration, payment = two_matters_on_the_simulator
    # One code, then "1" for the payment, then "1" for the registration: no second code.
    simulator.expect(PHONE, CalleeScript(keys=[VALID_CODE, "1", "1"]))

    with app.app_context():
        placed = dispatcher().dispatch()

    assert placed == 1 and len(simulator.calls) == 1
    heard = [line.text for line in next(iter(simulator.calls.values())).lines]
    several = [i for i, text in enumerate(heard) if "più di una questione" in text]
    payment_at = [i for i, text in enumerate(heard) if "900,00 €" in text]
    account_at = [i for i, text in enumerate(heard) if "nuovo conto" in text]
    assert several and payment_at and account_at, heard[5:]
    assert several[0] < payment_at[0] < account_at[0]  # said first, then each matter in turn
    assert sum("codice temporaneo" in text for text in heard) == 1  # verified once
    for callback_id in (payment, registration):
        callback = callback_of(app, callback_id)
        assert (callback.status, callback.outcome.value) == (CallbackStatus.DONE, "confirmed")
        assert callback.attempts == 1
    with app.app_context():
        attempts = db.session.scalars(sa.select(CallbackAttempt)).all()
        assert len(attempts) == 2 and len({a.call_id for a in attempts}) == 1
        assert {a.result for a in attempts} == {"completed"}
    assert audit_actions(app, payment)[-1] == "callback.done"
    assert audit_actions(app, registration)[-2:] == ["callback.carried_in_call", "callback.done"]


def test_a_matter_the_call_could_not_reach_waits_for_its_own_call(
    app, api, dispatcher, simulator, clock, two_matters_on_the_simulator
):
    """The first matter denied: the call ends with its own closing words; the other waits."""
    from app.carriers.simulator import CalleeScript
    from tests.engine_fixtures import callback_of
    from tests.telephony_fixtures import VALID_CODE

    registration, payment = two_matters_on_the_simulator
    simulator.expect(PHONE, CalleeScript(keys=[VALID_CODE, "2"]))

    with app.app_context():
        assert dispatcher().dispatch() == 1

    assert callback_of(app, payment).outcome.value == "denied"
    waiting = callback_of(app, registration)
    assert (waiting.status, waiting.attempts) == (CallbackStatus.QUEUED, 0)
    quiet = app.extensions["callback_policy"].quiet_after_call
    simulator.expect(PHONE, CalleeScript(keys=[VALID_CODE, "1"]))
    with app.app_context():
        assert dispatcher().dispatch() == 0  # the quiet period after the call
    clock.advance(quiet.total_seconds())
    with app.app_context():
        assert dispatcher().dispatch() == 1
    assert callback_of(app, registration).outcome.value == "confirmed"


def test_a_call_that_carried_two_matters_counts_once_towards_the_frequency_cap(
    app, api, dispatcher, simulator, clock, two_matters_on_the_simulator
):
    from app.carriers.simulator import CalleeScript
    from tests.engine_fixtures import callback_of
    from tests.telephony_fixtures import VALID_CODE

    simulator.expect(PHONE, CalleeScript(keys=[VALID_CODE, "1", "1"]))
    with app.app_context():
        assert dispatcher(cap_per_day=2).dispatch() == 1
    clock.advance(app.extensions["callback_policy"].quiet_after_call.total_seconds())
    withdrawal = api.post(
        "/api/v1/events",
        json={
            "id": "w-1",
            "type": "withdrawal_request",
            "customer_external_id": "it",
            "occurred_at": clock().isoformat(),
            "data": {"amount": "2500", "currency": "EUR", "account_has_open_problems": True},
        },
    ).get_json()
    simulator.expect(PHONE, CalleeScript(keys=[VALID_CODE, "1"]))

    with app.app_context():  # one call so far today: a second one is within a cap of two
        assert dispatcher(cap_per_day=2).dispatch() == 1

    assert callback_of(app, withdrawal["callback_id"]).outcome.value == "confirmed"

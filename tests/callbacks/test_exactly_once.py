"""Exactly once: a lost carrier answer is reconciled, never re-dialed; racing workers share work.

These run the dispatcher against the real twilio Client and a loopback Twilio that checks every
request against Twilio's OpenAPI description.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.callbacks.dialer import Dispatcher
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    DialPacing,
    Priority,
)
from app.callbacks.reaper import Reaper
from app.calls.service import CallUrls
from app.carriers.recording import RecordingTelephony
from app.carriers.service import telephony_for
from app.customers.models import Customer
from app.extensions import db
from app.flows.registry import flows
from tests.conftest import make_app
from tests.engine_fixtures import MORNING, Clock
from tests.support import ApiClient
from tests.telephony_fixtures import register_lines

ACCOUNT, TOKEN = "AC" + "c" * 32, "twilio-token-for-tests"


@pytest.fixture
def center(database_url, fake):
    """The call center on TELEPHONY=twilio, with lines, a customer and a registration to call."""
    app = make_app(
        database_url,
        TELEPHONY="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_API_BASE_URL=fake.url,
    )
    clock = Clock(MORNING)
    app.extensions["clock"] = clock
    api = ApiClient(app.test_client())
    register_lines(api)
    api.post("/api/v1/customers", json={"external_id": "it", "phone": "+39 333 123 4567"})
    decision = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "it",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()
    app.callback_id = uuid.UUID(decision["callback_id"])  # type: ignore[attr-defined]
    yield app, clock
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def dispatcher(app, clock, worker="w1") -> Dispatcher:
    return Dispatcher(
        session=db.session,
        policy=app.extensions["callback_policy"],
        telephony=telephony_for(app),
        urls=CallUrls(app),
        flows=flows(),
        worker=worker,
        now=clock,
        sleep=clock.advance,
    )


def reaper(app, clock, worker="w1") -> Reaper:
    return Reaper(
        session=db.session,
        policy=app.extensions["callback_policy"],
        telephony=telephony_for(app),
        worker=worker,
        now=clock,
    )


def state(app):
    with app.app_context():
        callback = db.session.get_one(Callback, app.callback_id)
        attempts = db.session.scalars(
            sa.select(CallbackAttempt).order_by(CallbackAttempt.number)
        ).all()
        db.session.expunge_all()
        return callback, attempts


def test_a_rate_limited_attempt_waits_and_slows_every_worker(center, fake):
    app, clock = center
    fake.failures.append((429, 20429, "Too Many Requests"))

    with app.app_context():
        assert dispatcher(app, clock).dispatch() == 0
        pacing = db.session.get_one(DialPacing, "outbound")
        assert pacing.next_slot_at >= MORNING + timedelta(seconds=30)

    callback, attempts = state(app)
    assert fake.created == []
    assert callback.status is CallbackStatus.QUEUED
    assert callback.next_attempt_at == MORNING + timedelta(seconds=30)
    assert callback.attempts == 0
    assert [a.status for a in attempts] == [AttemptStatus.FAILED]
    assert fake.violations == []


def test_an_invalid_number_fails_the_callback_for_good(center, fake):
    app, clock = center
    fake.failures.append((400, 21211, "The 'To' number is not a valid phone number."))

    with app.app_context():
        dispatcher(app, clock).dispatch()

    callback, _ = state(app)
    assert (callback.status, callback.outcome.value) == (CallbackStatus.DONE, "unreachable")


def test_a_lost_answer_is_reconciled_with_twilio_and_never_dialed_twice(center, fake):
    app, clock = center
    fake.lose_answers = 1

    with app.app_context():
        assert dispatcher(app, clock).dispatch() == 0
    callback, attempts = state(app)
    assert (callback.status, attempts[0].status) == (CallbackStatus.IN_CALL, AttemptStatus.UNKNOWN)

    with app.app_context():
        assert dispatcher(app, clock, "w2").dispatch() == 0  # nothing to claim: it is in a call
        clock.advance(180)
        reaper(app, clock, "w2").reap()

    callback, attempts = state(app)
    assert len(fake.calls_to("+393331234567")) == 1
    assert [a.status for a in attempts] == [AttemptStatus.PLACED]
    assert callback.status is CallbackStatus.IN_CALL
    assert fake.violations == []
    listed = [r for r in fake.received if r.method == "GET"]
    assert listed and listed[0].path.endswith("/Calls.json")


def test_an_attempt_that_never_reached_twilio_is_dialed_again_once(center, fake):
    app, clock = center
    with app.app_context():  # a worker committed its attempt, then died before asking Twilio
        callback = db.session.get_one(Callback, app.callback_id)
        callback.status, callback.lease_owner = CallbackStatus.CLAIMED, "dead-worker"
        callback.lease_expires_at, callback.attempts = MORNING + timedelta(minutes=2), 1
        db.session.add(
            CallbackAttempt(
                callback_id=callback.id,
                customer_id=callback.customer_id,
                number=1,
                status=AttemptStatus.DIALING,
                worker="dead-worker",
                started_at=MORNING,
            )
        )
        db.session.commit()
        clock.advance(180)
        reaper(app, clock).reap()
        assert dispatcher(app, clock).dispatch() == 1

    _, attempts = state(app)
    assert [a.status for a in attempts] == [AttemptStatus.FAILED, AttemptStatus.PLACED]
    assert len(fake.created) == 1


def test_a_call_whose_end_was_never_reported_is_asked_about_and_moves_on(center, fake):
    app, clock = center
    with app.app_context():
        assert dispatcher(app, clock).dispatch() == 1
    sid = fake.created[0]["sid"]
    fake.statuses[sid] = "no-answer"  # Twilio knows; its status callback never reached us

    with app.app_context():
        clock.advance(30 * 60)
        reaper(app, clock).reap()
    too_early, _ = state(app)
    with app.app_context():
        clock.advance(31 * 60)
        reaper(app, clock).reap()
    callback, attempts = state(app)

    assert too_early.status is CallbackStatus.IN_CALL
    assert callback.status is CallbackStatus.QUEUED  # the retry ladder takes over
    assert callback.waiting_for == "the next retry"
    assert [a.status for a in attempts] == [AttemptStatus.ENDED]
    fetched = [r for r in fake.received if r.method == "GET" and sid in r.path]
    assert fetched and fake.violations == []


def test_two_workers_racing_over_500_callbacks_place_each_exactly_once(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("on SQLite a single worker dispatches (the CONTRACT's several workers: PG)")
    app = make_app(database_url)
    clock = Clock(MORNING)
    carrier = RecordingTelephony()
    app.extensions.update(clock=clock, telephony=carrier)
    ApiClient(app.test_client()).post(
        "/api/v1/official-numbers",
        json={"phone": "+14155550100", "purpose": "outbound_verification", "label": "Calls"},
    )
    with app.app_context():
        policy = app.extensions["callback_policy"]
        customers = [
            Customer(
                id=uuid.uuid4(),
                external_id=f"c{i}",
                phone=f"+3933312{i:05d}",
                locale="it",
                time_zone="Europe/Rome",
            )
            for i in range(500)
        ]
        db.session.add_all(customers)
        db.session.flush()
        db.session.add_all(
            Callback(
                customer_id=customer.id,
                trigger="registration",
                flow="registration_check",
                to_number=customer.phone,
                priority=Priority.MEDIUM,
                due_by=MORNING + timedelta(hours=24),
                next_attempt_at=MORNING,
                policy_version=policy.version,
            )
            for customer in customers
        )
        db.session.commit()

    placed_by: dict[str, int] = {}

    def work(name: str) -> None:
        with app.app_context():
            import dataclasses

            racing = dataclasses.replace(
                policy, calls_per_second=100_000.0, max_concurrent_calls=100_000
            )
            worker = Dispatcher(
                session=db.session,
                policy=racing,
                telephony=carrier,
                urls=CallUrls(app),
                flows=flows(),
                worker=name,
                now=clock,
                sleep=lambda s: None,
                batch=25,
            )
            total = 0
            for _ in range(200):
                total += worker.dispatch()
                left = db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Callback)
                    .where(Callback.status == CallbackStatus.QUEUED)
                )
                db.session.commit()
                if not left:
                    break
            placed_by[name] = total
            db.session.remove()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(carrier.placed) == sorted(f"+3933312{i:05d}" for i in range(500))
    assert sorted(placed_by) == ["w0", "w1"]  # both workers finished (none died on the way)
    assert sum(placed_by.values()) == 500
    assert all(count > 0 for count in placed_by.values()), placed_by
    with app.app_context():
        attempts = db.session.scalar(sa.select(sa.func.count()).select_from(CallbackAttempt))
        assert attempts == 500
        db.session.remove()
        db.engine.dispose()

"""The dispatcher: calling hours, do-not-call, caps, pacing, retries, and the whole path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    DialPacing,
)
from app.carriers.simulator import CalleeScript
from app.extensions import db
from tests.engine_fixtures import MORNING, callback_of, send_outbox
from tests.support import count_rows
from tests.telephony_fixtures import VALID_CODE

pytestmark = pytest.mark.usefixtures("lines")


def register(api, external_id: str, phone: str, **extra) -> dict:
    response = api.post(
        "/api/v1/customers", json={"external_id": external_id, "phone": phone, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def registration_callback(api, clock, external_id: str) -> str:
    decision = api.post(
        "/api/v1/events",
        json={
            "id": f"reg-{external_id}-{uuid.uuid4().hex[:6]}",
            "type": "registration",
            "customer_external_id": external_id,
            "occurred_at": clock().isoformat(),
        },
    ).get_json()
    return decision["callback_id"]


def tick(app, dispatcher, **policy) -> int:
    with app.app_context():
        return dispatcher(**policy).dispatch()


def test_a_flagged_payment_becomes_a_call_and_its_outcome_is_on_the_callback(
    api, app, clock, dispatcher, simulator
):
    register(api, "cust-it", "+39 333 123 4567", name="Giulia Rossi")
    for i in range(6):
        api.post(
            "/api/v1/events",
            json={
                "id": f"h{i}",
                "type": "transaction",
                "customer_external_id": "cust-it",
                "occurred_at": (MORNING - timedelta(days=i + 1)).isoformat(),
                "data": {"amount": "40", "country": "IT", "device": "p1", "beneficiary": "b1"},
            },
        )
    decision = api.post(
        "/api/v1/events",
        json={
            "id": "t-1",
            "type": "transaction",
            "customer_external_id": "cust-it",
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
    assert decision["anomalous"] and decision["callback_id"]
    simulator.expect("+393331234567", CalleeScript(keys=[VALID_CODE, "1"]))

    placed = tick(app, dispatcher)

    callback = api.get(f"/api/v1/callbacks/{decision['callback_id']}").get_json()
    assert placed == 1
    assert callback["status"] == "done"
    assert callback["outcome"] == "confirmed"
    assert callback["attempts"] == 1
    assert callback["reference"] and len(callback["reference"]) == 6
    heard = [line.text for line in next(iter(simulator.calls.values())).lines]
    assert any("900,00 €" in text and "Electro Shop" in text for text in heard)
    with app.app_context():
        attempt = db.session.query(CallbackAttempt).one()
        assert (attempt.status, attempt.result) == (AttemptStatus.ENDED, "completed")


@pytest.mark.parametrize(
    ("moment", "placed", "next_attempt"),
    [
        # 1 Nov 2026: New York is back on EST (UTC-5): 12:30Z is 07:30, too early.
        (datetime(2026, 11, 1, 12, 30, tzinfo=UTC), 0, datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        # 8 Mar 2026: New York is on EDT (UTC-4) from 07:00Z: 12:30Z is 08:30, fine.
        (datetime(2026, 3, 8, 12, 30, tzinfo=UTC), 1, None),
        # 20:59 EST is still inside; 21:00 is not.
        (datetime(2026, 11, 24, 1, 59, tzinfo=UTC), 1, None),
        (datetime(2026, 11, 24, 2, 0, tzinfo=UTC), 0, datetime(2026, 11, 24, 13, 0, tzinfo=UTC)),
    ],
)
def test_calls_wait_for_calling_hours_in_the_callees_time_across_dst(
    api, app, clock, dispatcher, moment, placed, next_attempt
):
    register(api, "ny", "+1 212 555 1234")
    clock.set(moment)
    callback_id = registration_callback(api, clock, "ny")

    assert tick(app, dispatcher) == placed
    callback = callback_of(app, callback_id)
    if next_attempt:
        assert callback.status is CallbackStatus.QUEUED
        assert callback.next_attempt_at == next_attempt
        assert callback.waiting_for == "calling hours (08:00-21:00 local)"
        assert callback.attempts == 0


def test_a_number_spanning_zones_is_called_only_when_every_zone_is_inside(
    api, app, clock, dispatcher
):
    register(api, "ru", "+7 916 123 4567")
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # Moscow 18:00, Kamchatka 03:00
    callback_id = registration_callback(api, clock, "ru")

    assert tick(app, dispatcher) == 0
    # Bucharest opens at 06:00Z, when Kamchatka (UTC+12) is at 18:00.
    assert callback_of(app, callback_id).next_attempt_at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
    assert tick(app, dispatcher) == 1


def test_a_zone_set_by_the_integrator_is_the_one_that_counts(api, app, clock, dispatcher):
    register(api, "ru", "+7 916 123 4567", time_zone="Europe/Moscow")
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    registration_callback(api, clock, "ru")

    assert tick(app, dispatcher) == 1


def test_a_number_on_the_do_not_call_list_is_never_called(api, app, clock, dispatcher, simulator):
    register(api, "it", "+39 333 123 4567")
    api.post("/api/v1/do-not-call", json={"phone": "+39 333 123 4567", "reason": "asked us"})
    callback_id = registration_callback(api, clock, "it")

    assert tick(app, dispatcher) == 0
    assert simulator.calls == {}
    callback = callback_of(app, callback_id)
    assert (callback.status, callback.outcome.value) == (CallbackStatus.DONE, "cancelled")


def test_the_daily_cap_puts_a_call_off_until_it_lifts(api, app, clock, dispatcher, simulator):
    customer = register(api, "it", "+39 333 123 4567")
    callback_id = registration_callback(api, clock, "it")
    with app.app_context():
        callback = db.session.get_one(Callback, uuid.UUID(callback_id))
        for number, hours_ago in enumerate([20, 5, 1], start=1):
            db.session.add(
                CallbackAttempt(
                    callback_id=callback.id,
                    customer_id=uuid.UUID(customer["id"]),
                    number=number,
                    status=AttemptStatus.ENDED,
                    worker="earlier",
                    started_at=MORNING - timedelta(hours=hours_ago),
                )
            )
        db.session.commit()

    assert tick(app, dispatcher) == 0
    callback = callback_of(app, callback_id)
    assert callback.waiting_for == "frequency cap"
    assert callback.next_attempt_at == MORNING - timedelta(hours=20) + timedelta(days=1)
    assert simulator.calls == {}


def test_pacing_spreads_calls_and_is_shared_by_workers(api, app, clock, dispatcher, simulator):
    for i in range(5):
        register(api, f"c{i}", f"+39 333 123 450{i}")
        registration_callback(api, clock, f"c{i}")

    first = tick(app, dispatcher, calls_per_second=1)  # at T: slots T and T+1 (sleeps to T+1)
    second = tick(app, dispatcher, worker="w2", calls_per_second=1)  # at T+1: slot T+2 only

    assert (first, second) == (2, 1)
    assert clock() == MORNING + timedelta(seconds=2)  # each waited for its slot
    with app.app_context():
        pacing = db.session.get_one(DialPacing, "outbound")
        assert pacing.next_slot_at == MORNING + timedelta(seconds=3)
    assert len(simulator.calls) == 3


def test_the_concurrent_call_limit_holds(api, app, clock, dispatcher):
    register(api, "a", "+39 333 123 4501")
    register(api, "b", "+39 333 123 4502")
    busy = registration_callback(api, clock, "a")
    registration_callback(api, clock, "b")
    with app.app_context():
        db.session.get_one(Callback, uuid.UUID(busy)).status = CallbackStatus.IN_CALL
        db.session.commit()

    assert tick(app, dispatcher, max_concurrent_calls=1, calls_per_second=50) == 0
    assert tick(app, dispatcher, max_concurrent_calls=2, calls_per_second=50) == 1


def test_unanswered_calls_climb_the_retry_ladder_then_end_with_a_text(
    api, app, clock, dispatcher, simulator
):
    register(api, "it", "+39 333 123 4567")
    callback_id = registration_callback(api, clock, "it")
    waits = []
    for _ in range(4):
        simulator.expect("+393331234567", CalleeScript(answer="no-answer"))
        before = clock()
        assert tick(app, dispatcher, cap_per_day=10, calls_per_second=50) == 1
        callback = callback_of(app, callback_id)
        if callback.status is CallbackStatus.DONE:
            break
        waits.append(callback.next_attempt_at - before)
        clock.set(callback.next_attempt_at)

    assert waits == [timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)]
    assert (callback.outcome.value, callback.attempts, callback.notice_due) == (
        "unreachable",
        4,
        True,
    )
    sent = send_outbox(app, clock)
    again = send_outbox(app, clock)
    assert (sent, again) == (1, 0)
    text = simulator.messages[0]["body"]
    assert simulator.messages[0]["to"] == "+393331234567"
    assert "+14155550101" in text and "Non Le chiederemo mai password" in text


def test_an_answering_machine_is_tried_again_in_the_next_days_window(
    api, app, clock, dispatcher, simulator
):
    register(api, "it", "+39 333 123 4567")
    callback_id = registration_callback(api, clock, "it")
    simulator.expect("+393331234567", CalleeScript(answer="machine"))

    tick(app, dispatcher)

    callback = callback_of(app, callback_id)
    assert callback.status is CallbackStatus.QUEUED
    # 08:00 in Rome the next day.
    assert callback.next_attempt_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert callback.machine_retries == 1


def test_a_retry_never_goes_past_the_deadline(api, app, clock, dispatcher, simulator):
    register(api, "it", "+39 333 123 4567")
    api.post(
        "/api/v1/events",
        json={
            "id": "w1",
            "type": "withdrawal_request",
            "customer_external_id": "it",
            "occurred_at": MORNING.isoformat(),
            "data": {"amount": "5000", "account_has_open_problems": True},
        },
    )
    clock.advance(timedelta(hours=1, minutes=55).total_seconds())  # due within 2 h
    simulator.expect("+393331234567", CalleeScript(answer="busy"))

    tick(app, dispatcher)

    with app.app_context():
        callback = db.session.query(Callback).one()
        assert (callback.status, callback.outcome.value) == (CallbackStatus.DONE, "unreachable")


def test_escalation_raises_callbacks_near_their_deadline_and_counts_the_missed(
    api, app, clock, reaper
):
    register(api, "ny", "+1 212 555 1234")
    clock.set(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))  # 22:00 in New York: must wait
    callback_id = registration_callback(api, clock, "ny")

    clock.advance(timedelta(hours=23, minutes=50).total_seconds())
    with app.app_context():
        soon = reaper().escalate()
    clock.advance(timedelta(minutes=15).total_seconds())
    with app.app_context():
        missed = reaper().escalate()

    assert soon == (1, 0)
    assert missed == (0, 1)
    stats = api.get("/api/v1/callbacks/stats").get_json()
    assert (stats["deadline_missed"], stats["open_escalated"]) == (1, 1)
    assert stats["by_status"]["queued"] == 1
    callback = callback_of(app, callback_id)
    assert callback.priority.value == "high"
    assert callback.deadline_missed_at is not None


def test_two_workers_never_claim_the_same_callback(api, app, clock, dispatcher):
    for i in range(6):
        register(api, f"c{i}", f"+39 333 123 450{i}")
        registration_callback(api, clock, f"c{i}")

    with app.app_context():
        first = dispatcher("w1", calls_per_second=50).claim()
        second = dispatcher("w2", calls_per_second=50).claim()
        third = dispatcher("w3", calls_per_second=50).claim()

    assert len(first) == 6
    assert second == third == []
    assert count_rows(app, CallbackAttempt) == 0


def test_a_number_with_no_known_zone_is_called_only_in_its_stored_zone(api, app, clock, dispatcher):
    register(api, "free", "+800 1234 5678")  # international freephone: no zone of its own
    register(api, "free-rome", "+800 1234 5679", time_zone="Europe/Rome")
    unknown = registration_callback(api, clock, "free")
    known = registration_callback(api, clock, "free-rome")

    assert tick(app, dispatcher, calls_per_second=50) == 1

    assert callback_of(app, known).status is CallbackStatus.DONE  # called (and finished)
    not_called = callback_of(app, unknown)
    assert (not_called.status, not_called.outcome.value) == (CallbackStatus.DONE, "unreachable")
    assert not_called.attempts == 0


def test_slots_that_passed_during_a_late_answer_are_never_spent_in_a_burst(
    api, app, clock, dispatcher, simulator
):
    for i in range(6):
        register(api, f"c{i}", f"+39 333 123 450{i}")
        registration_callback(api, clock, f"c{i}")
    moments = []

    class LateCarrier:  # the first create is answered 3 s late: the next slots pass meanwhile
        def place_call(self, call):
            moments.append(clock())
            sid = simulator.place_call(call)
            if len(moments) == 1:
                clock.advance(3)
            return sid

    def paced(worker: str):
        made = dispatcher(worker=worker, calls_per_second=2)
        made.telephony = LateCarrier()
        return made

    with app.app_context():
        paced("w1").dispatch()
        paced("w2").dispatch()  # a second worker, at once

    busiest = max(
        sum(1 for m in moments if start <= m < start + timedelta(seconds=1)) for start in moments
    )
    assert busiest <= 2 + 1, [(m - MORNING).total_seconds() for m in moments]
    assert len(moments) == 5  # T, then the slots taken afresh: T+3, T+3.5, T+4, T+4.5

"""Wrap-up: the agent's disposition decides the caller's matter, notes never keep a secret,
and every step is in the audit log; figures for the supervisor's wall."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.agents import rules, service
from app.agents.models import Disposition, Presence, QueueState
from app.audit.service import Actor
from app.callbacks import lifecycle
from app.callbacks.after_call import call_ended
from app.callbacks.models import Callback, CallbackStatus
from app.callbacks.service import AGENT_CALL_DEADLINE
from app.calls.models import Call, CallStatus
from app.errors import Conflict, InvalidInput
from app.fraud.models import FraudCase
from app.outcomes import Outcome
from tests.agents.conftest import add_agent, audit, caller, later
from tests.engine_fixtures import MORNING

ANN = Actor("staff:ann")


@pytest.fixture
def matter(api, customer, clock) -> uuid.UUID:
    """The customer's open callback: a welcome call about their registration."""
    answer = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": customer["external_id"],
            "occurred_at": MORNING.isoformat(),
        },
    )
    assert answer.status_code == 202
    return uuid.UUID(answer.get_json()["callback_id"])


def talked(session, *, callback_id=None):
    """A caller about the matter, answered by Ann, who has just hung up."""
    ann = add_agent(session, "ann", available_since=later(-60))
    entry = caller(session, callback_id=callback_id, entered=later(0), verified_by="app_code")
    service.route(session, now=later(1))
    service.accept(session, ann, entry.id, now=later(4))
    service.hang_up(session, entry, now=later(184))
    assert ann.presence is Presence.WRAP_UP
    return ann, entry


@pytest.mark.parametrize(
    "notes",
    [
        "Customer read out card 4111 1111 1111 1111 by mistake",
        "card number 5500-0000-0000-0004",
        "gave CVV 123 before I could stop them",
        "said the code was 908172",
        "PIN 4821",
        "customer typed 908172 on the keypad",
        "Please tell me the code we sent you by SMS",
    ],
)
def test_notes_that_hold_a_card_number_a_cvv_or_a_code_are_refused(notes):
    assert rules.note_refusal(notes)


@pytest.mark.parametrize(
    "notes",
    [
        "Customer confirmed the 249.90 EUR payment at Electro Shop on 23 Nov.",
        "Called back at 10:32, all fine; reminded them we never ask for a PIN.",
        "",
    ],
)
def test_ordinary_notes_are_kept(notes):
    assert rules.note_refusal(notes) is None


def test_wrap_up_refuses_notes_with_a_card_number_and_keeps_nothing(matter, session):
    ann, entry = talked(session, callback_id=matter)
    with pytest.raises(InvalidInput) as refused:
        service.wrap_up(
            session,
            ann,
            entry,
            disposition="confirmed",
            notes="card 4111 1111 1111 1111",
            follow_up_at=None,
            actor=ANN,
            now=later(200),
        )
    assert refused.value.field == "notes" and "card number" in refused.value.message
    assert entry.wrapped_at is None and entry.notes is None
    assert session.get_one(Callback, matter).status is CallbackStatus.QUEUED
    assert ann.presence is Presence.WRAP_UP


def test_confirmed_sets_the_callbacks_outcome_and_the_audit_log(matter, session):
    ann, entry = talked(session, callback_id=matter)
    service.wrap_up(
        session,
        ann,
        entry,
        disposition="confirmed",
        notes="Customer confirmed the new account.",
        follow_up_at=None,
        actor=ANN,
        now=later(200),
    )
    callback = session.get_one(Callback, matter)
    assert (callback.status, callback.outcome) == (CallbackStatus.DONE, Outcome.CONFIRMED)
    [done] = [e for e in audit(session, "callback.done") if e.subject_id == str(matter)]
    assert done.actor == ANN.label and done.changes["outcome"] == "confirmed"
    [wrapped] = audit(session, "queue.wrapped_up")
    assert wrapped.changes["disposition"] == "confirmed"
    assert wrapped.changes["callback"] == "confirmed"
    assert wrapped.changes["notes"] == "Customer confirmed the new account."
    assert (entry.disposition, entry.wrapped_at) == (Disposition.CONFIRMED, later(200))
    assert ann.presence is Presence.AVAILABLE
    with pytest.raises(Conflict):  # once
        service.wrap_up(
            session,
            ann,
            entry,
            disposition="denied",
            notes=None,
            follow_up_at=None,
            actor=ANN,
            now=later(201),
        )


def test_denied_opens_a_fraud_case(matter, session):
    ann, entry = talked(session, callback_id=matter)
    service.wrap_up(
        session,
        ann,
        entry,
        disposition=Disposition.DENIED,
        notes="Customer says they never registered.",
        follow_up_at=None,
        actor=ANN,
        now=later(200),
    )
    assert session.get_one(Callback, matter).outcome is Outcome.DENIED
    assert session.scalar(select(FraudCase).where(FraudCase.callback_id == matter)) is not None


def agents_call(session) -> Callback:
    """Our call for the agent (the follow-up), queued."""
    return session.scalars(select(Callback).where(Callback.flow == "agent_callback")).one()


def test_a_follow_up_is_the_agents_call_at_the_agreed_time_and_the_matter_waits_for_it(
    matter, session
):
    ann, entry = talked(session, callback_id=matter)
    for bad in (None, later(200 + 60), later(200) + timedelta(days=31)):
        with pytest.raises(InvalidInput):
            service.wrap_up(
                session,
                ann,
                entry,
                disposition="follow_up",
                notes=None,
                follow_up_at=bad,
                actor=ANN,
                now=later(200),
            )
    tomorrow = MORNING + timedelta(days=1)
    service.wrap_up(
        session,
        ann,
        entry,
        disposition="follow_up",
        notes="Call back tomorrow morning, they are driving.",
        follow_up_at=tomorrow,
        actor=ANN,
        now=later(200),
    )
    calling = agents_call(session)
    assert (calling.status, calling.next_attempt_at) == (CallbackStatus.QUEUED, tomorrow)
    assert calling.priority.value == "high"
    assert calling.variables["agent_id"] == str(ann.staff_id)
    assert calling.variables["matter_id"] == str(matter)
    # The matter's own call only if ours does not reach the customer.
    callback = session.get_one(Callback, matter)
    assert callback.status is CallbackStatus.QUEUED and callback.waiting_for == lifecycle.FOLLOW_UP
    assert callback.next_attempt_at == tomorrow + AGENT_CALL_DEADLINE
    assert [e.subject_id for e in audit(session, "callback.follow_up")] == [str(matter)]
    assert audit(session, "agent.call_scheduled")[0].changes["at"] == tomorrow.isoformat()
    wrapped = audit(session, "queue.wrapped_up")[0]
    assert wrapped.changes["callback"] == f"follow_up {calling.id}"


def test_a_follow_up_on_a_decided_matter_queues_a_new_call_for_then(matter, session):
    ann, entry = talked(session, callback_id=matter)
    decided = session.get_one(Callback, matter)
    lifecycle.finish(session, decided, Outcome.CONFIRMED, later(100), actor=ANN, why="the flow")
    tomorrow = MORNING + timedelta(days=1)
    service.wrap_up(
        session,
        ann,
        entry,
        disposition="follow_up",
        notes=None,
        follow_up_at=tomorrow,
        actor=ANN,
        now=later(200),
    )
    assert decided.outcome is Outcome.CONFIRMED  # kept
    [again] = session.scalars(
        select(Callback).where(Callback.status == CallbackStatus.QUEUED)
    ).all()
    assert (again.customer_id, again.flow) == (decided.customer_id, "agent_callback")
    assert again.next_attempt_at == tomorrow
    [queued] = [e for e in audit(session, "callback.queued") if e.subject_id == str(again.id)]
    assert queued.changes["for"]["matter_id"] == str(matter)


def test_a_follow_up_needs_a_matter_to_call_back_about(session):
    ann, entry = talked(session)
    with pytest.raises(InvalidInput, match="has none"):
        service.wrap_up(
            session,
            ann,
            entry,
            disposition="follow_up",
            notes=None,
            follow_up_at=MORNING + timedelta(days=1),
            actor=ANN,
            now=later(200),
        )


def test_a_matter_decided_before_the_agent_keeps_its_outcome(matter, session):
    ann, entry = talked(session, callback_id=matter)
    callback = session.get_one(Callback, matter)
    lifecycle.finish(session, callback, Outcome.CONFIRMED, later(100), actor=ANN, why="the flow")
    service.wrap_up(
        session,
        ann,
        entry,
        disposition="resolved",
        notes=None,
        follow_up_at=None,
        actor=ANN,
        now=later(200),
    )
    assert callback.outcome is Outcome.CONFIRMED
    assert audit(session, "queue.wrapped_up")[0].changes["callback"] == "already confirmed"


def test_only_the_agent_who_took_the_call_wraps_it_up(session):
    ann, entry = talked(session)
    bob = add_agent(session, "bob")
    with pytest.raises(Conflict):
        service.wrap_up(
            session,
            bob,
            entry,
            disposition="resolved",
            notes=None,
            follow_up_at=None,
            actor=Actor("staff:bob"),
            now=later(200),
        )
    with pytest.raises(InvalidInput):
        service.wrap_up(
            session,
            ann,
            entry,
            disposition="done",
            notes=None,
            follow_up_at=None,
            actor=ANN,
            now=later(200),
        )


def test_figures_for_the_supervisors_wall(session):
    ann, answered = talked(session)  # answered 4 s after entering, handled until wrap-up
    service.wrap_up(
        session,
        ann,
        answered,
        disposition="resolved",
        notes=None,
        follow_up_at=None,
        actor=ANN,
        now=later(244),
    )
    gone = caller(session, skill="fraud", entered=later(10))
    service.abandon(session, gone.call_id, later(40))
    caller(session, skill="fraud", priority=3, entered=later(300))
    caller(session, skill="complaints", entered=later(350))
    on_hold = caller(session, entered=later(360))
    service.offer_virtual_hold(session, on_hold, now=later(370))

    figures = service.figures(session, since=MORNING, now=later(400))
    assert (figures.entered, figures.answered, figures.abandoned) == (5, 1, 1)
    # Every wait is decided: answered, abandoned, or longer than 20 s (virtual hold too).
    assert figures.service_level == pytest.approx(1 / 5)
    assert figures.abandonment_rate == pytest.approx(1 / 5)
    assert figures.average_handle_seconds == 240
    assert figures.waiting_by_skill == {
        "fraud": 1,
        "withdrawals": 0,
        "complaints": 1,
        "general": 0,
    }
    assert figures.virtual_hold == 1
    assert figures.longest_wait_seconds == 100
    assert figures.agents_by_presence["available"] == 1
    assert answered.state is QueueState.ENDED


def test_the_end_of_the_call_leaves_the_follow_up_as_agreed(app, matter, session):
    ann, entry = talked(session, callback_id=matter)
    call = session.get_one(Call, entry.call_id)
    call.callback_id = matter  # the matter's own call: the customer pressed 0 in it
    tomorrow = MORNING + timedelta(days=1)
    service.wrap_up(
        session,
        ann,
        entry,
        disposition="follow_up",
        notes=None,
        follow_up_at=tomorrow,
        actor=ANN,
        now=later(200),
    )
    # The carrier reports the call's end after the wrap-up: no retry moves the agreed time.
    call.status = CallStatus.COMPLETED
    call_ended(call, session=session, policy=app.extensions["callback_policy"], now=later(210))
    callback = session.get_one(Callback, matter)
    assert callback.status is CallbackStatus.QUEUED
    assert callback.next_attempt_at == tomorrow + AGENT_CALL_DEADLINE
    assert agents_call(session).next_attempt_at == tomorrow


def test_a_call_that_reached_an_agent_waits_for_the_wrap_up_not_a_retry(app, matter, session):
    """The customer pressed 0 in their verification call and talked with Ann: the call's end
    (before Ann wraps up) neither dials them again nor decides the matter; her wrap-up does."""
    ann = add_agent(session, "ann", available_since=later(-60))
    entry = caller(session, callback_id=matter, entered=later(0), verified_by="app_code")
    call = session.get_one(Call, entry.call_id)
    call.callback_id = matter
    service.route(session, now=later(1))
    service.accept(session, ann, entry.id, now=later(4))
    assert call.outcome == Outcome.TRANSFERRED

    service.hang_up(session, entry, now=later(184))
    call.status = CallStatus.COMPLETED
    call_ended(call, session=session, policy=app.extensions["callback_policy"], now=later(185))
    callback = session.get_one(Callback, matter)
    assert callback.status is CallbackStatus.QUEUED
    assert callback.next_attempt_at > later(185) + timedelta(hours=1)  # no retry in 10 minutes
    assert callback.waiting_for == lifecycle.WITH_AGENT

    service.wrap_up(
        session,
        ann,
        entry,
        disposition="confirmed",
        notes=None,
        follow_up_at=None,
        actor=ANN,
        now=later(200),
    )
    assert (callback.status, callback.outcome) == (CallbackStatus.DONE, Outcome.CONFIRMED)


def test_a_caller_who_left_before_any_agent_answered_is_left_to_the_usual_rules(
    app, matter, session
):
    entry = caller(session, callback_id=matter, entered=later(0), verified_by="app_code")
    call = session.get_one(Call, entry.call_id)
    call.callback_id = matter
    service.abandon(session, call.id, later(30))
    call.status = CallStatus.COMPLETED
    call_ended(call, session=session, policy=app.extensions["callback_policy"], now=later(31))
    assert call.outcome is None
    callback = session.get_one(Callback, matter)
    assert callback.waiting_for != lifecycle.WITH_AGENT  # the retries' rules decide, as ever

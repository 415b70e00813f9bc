"""Progressive dialing for people: an agent's "call now" (or a follow-up they agreed) has us call
the customer with the agent_callback flow; the customer is greeted, hears what we never ask for
and the call's reference, verifies with the app's code, and only then is the agent rung, in a
place kept for them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.agents import service
from app.agents.models import Agent, Presence, QueueEntry, QueueState
from app.audit.service import Actor
from app.callbacks.models import Callback, CallbackStatus, EventType, Priority
from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.errors import Conflict
from app.extensions import db
from app.flows.prompts import NEVER_ASK
from app.flows.registry import queueing_of
from app.ivr.waiting import offer_call_backs
from tests.agents.conftest import add_agent, audit, caller, later
from tests.agents.test_call_with_an_agent import (
    CUSTOMER_PHONE,
    an_agent,
    heard,
    matter,
    presence,
    prompt,
    ringing_for,
    route,
    the_entry,
)
from tests.engine_fixtures import callback_of
from tests.telephony_fixtures import VALID_CODE

__all__ = ["matter"]  # the customer's open callback, a fixture

pytestmark = pytest.mark.usefixtures("lines", "clock")


def call_now(app, clock, agent_id: uuid.UUID, matter_id: str, **more: Any) -> str:
    with app.app_context():
        agent = db.session.get_one(Agent, agent_id)
        matter = db.session.get_one(Callback, uuid.UUID(matter_id))
        calling = service.call_now(
            db.session, agent, matter, actor=Actor(f"staff:{agent_id}"), now=clock(), **more
        )
        db.session.commit()
        return str(calling.id)


def we_call(app, dispatcher, simulator, *keys: str) -> SimulatedCall:
    simulator.expect(CUSTOMER_PHONE, CalleeScript(keys=list(keys)))
    with app.app_context():
        assert dispatcher().dispatch() == 1
    return list(simulator.calls.values())[-1]


def calling_for(app, agent_id: uuid.UUID) -> list[str]:
    with app.app_context():
        agent = db.session.get_one(Agent, agent_id)
        return [str(callback.id) for callback in service.calling_for(db.session, agent)]


def test_call_now_verifies_the_customer_and_only_then_rings_the_agent_who_asked(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna", idle_since_seconds=60)
    an_agent(app, "marco", idle_since_seconds=600)  # idle longer, but the call is Anna's

    calling = call_now(app, clock, anna, matter)

    ours = callback_of(app, calling)
    assert (ours.flow, ours.priority, ours.trigger) == (
        "agent_callback",
        Priority.HIGH,
        EventType.AGENT,
    )
    assert calling_for(app, anna) == [calling]  # her desk: "calling the customer…"

    simulated = we_call(app, dispatcher, simulator, VALID_CODE)

    said = heard(simulated)
    assert said[0].startswith("Buongiorno")  # the greeting, in the customer's language
    assert NEVER_ASK["it"] in said
    assert any(line.startswith(prompt("reference", reference="")[:20]) for line in said)
    assert prompt("connect_agent") in said
    entry = the_entry(app)
    assert entry.state is QueueState.WAITING
    assert (entry.reserved_for, str(entry.callback_id)) == (anna, matter)
    assert entry.verified_by == "app_code" and entry.priority == 3

    route(app)

    ring = ringing_for(simulator, entry, anna)
    simulator.answer_participant(ring)
    assert (the_entry(app).state, the_entry(app).agent_id) == (QueueState.CONNECTED, anna)
    assert simulator.speak(ring, "Buongiorno, sono Anna.") == [simulated.sid]
    simulator.participant_hangs_up(ring)

    # Our call did what it was for: not dialed again; the matter waits for Anna's wrap-up.
    done = callback_of(app, calling)
    assert (done.status, done.outcome) == (CallbackStatus.DONE, "confirmed")
    assert callback_of(app, matter).status is not CallbackStatus.DONE
    assert calling_for(app, anna) == []
    with app.app_context():
        [asked] = audit(db.session, "agent.call_now")
        assert asked.changes["calling"] == calling
        [queued] = [e for e in audit(db.session, "callback.queued") if e.subject_id == calling]
        assert queued.changes["for"]["agent_id"] == str(anna)


def test_a_customer_who_fails_verification_never_reaches_the_agent(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")
    calling = call_now(app, clock, anna, matter)

    simulated = we_call(app, dispatcher, simulator, "111111", "222222", "333333")

    said = heard(simulated)
    assert said[-1] == prompt("verify_failed")
    assert prompt("connect_agent") not in said
    with app.app_context():
        assert db.session.scalars(select(QueueEntry)).all() == []
    route(app)
    assert presence(app, anna) is Presence.AVAILABLE
    assert [call.to for call in simulator.calls.values()] == [CUSTOMER_PHONE]  # nobody rang
    failed = callback_of(app, calling)
    assert (failed.status, failed.outcome) == (CallbackStatus.DONE, "verification_failed")
    assert callback_of(app, matter).status is not CallbackStatus.DONE


def test_a_caller_kept_for_an_agent_is_offered_to_them_not_to_the_agent_idle_longest(session):
    anna = add_agent(session, "anna", available_since=later(0))
    marco = add_agent(session, "marco", available_since=later(-600))  # idle longest
    kept = caller(session, entered=later(-120), reserved_for=anna.staff_id)  # first in line
    other = caller(session, entered=later(-60))  # kept for nobody

    offers = service.route(session, now=later(2))

    assert {(o.entry_id, o.agent_id) for o in offers} == {
        (kept.id, anna.staff_id),
        (other.id, marco.staff_id),
    }


def test_a_caller_kept_for_a_busy_agent_waits_for_them(session):
    anna = add_agent(session, "anna", available_since=later(0))
    first = caller(session, entered=later(-10))
    [offer] = service.route(session, now=later(1))
    assert offer.agent_id == anna.staff_id
    service.accept(session, anna, first.id, now=later(2))  # Anna on a call
    marco = add_agent(session, "marco", available_since=later(3))
    kept = caller(session, entered=later(4), reserved_for=anna.staff_id)

    assert service.route(session, now=later(5)) == []
    assert kept.state is QueueState.WAITING and marco.presence is Presence.AVAILABLE

    service.hang_up(session, first, now=later(6))
    service.wrap_up(
        session,
        anna,
        first,
        disposition="resolved",
        notes=None,
        follow_up_at=None,
        actor=Actor("staff:anna"),
        now=later(7),
    )
    [offer] = service.route(session, now=later(8))
    assert (offer.entry_id, offer.agent_id) == (kept.id, anna.staff_id)


def test_with_the_agent_away_the_caller_kept_for_them_goes_to_anyone_with_the_skill(session):
    anna = add_agent(session, "anna")  # away
    marco = add_agent(session, "marco", available_since=later(0))
    kept = caller(session, entered=later(1), reserved_for=anna.staff_id)

    assert service.can_take(session, "general", "en", reserved_for=anna.staff_id)
    [offer] = service.route(session, now=later(2))

    assert (offer.entry_id, offer.agent_id) == (kept.id, marco.staff_id)


def test_a_follow_up_agreed_with_the_customer_is_the_agents_call_at_that_time(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")
    simulator.expect(CUSTOMER_PHONE, CalleeScript(keys=[VALID_CODE, "0"]))
    with app.app_context():
        assert dispatcher().dispatch() == 1  # the matter's own call: they press 0
    route(app)
    entry = the_entry(app)
    ring = ringing_for(simulator, entry, anna)
    simulator.answer_participant(ring)
    simulator.participant_hangs_up(ring)
    agreed = clock() + timedelta(days=1)
    with app.app_context():
        service.wrap_up(
            db.session,
            db.session.get_one(Agent, anna),
            db.session.get_one(QueueEntry, entry.id),
            disposition="follow_up",
            notes="Call back tomorrow, same time.",
            follow_up_at=agreed,
            actor=Actor(f"staff:{anna}"),
            now=clock(),
        )
        db.session.commit()
    [calling] = calling_for(app, anna)

    clock.advance(timedelta(days=1).total_seconds())
    simulated = we_call(app, dispatcher, simulator, VALID_CODE)

    assert prompt("connect_agent") in heard(simulated)
    with app.app_context():
        kept = db.session.scalars(
            select(QueueEntry).where(QueueEntry.state == QueueState.WAITING)
        ).one()
        assert (kept.reserved_for, str(kept.callback_id)) == (anna, matter)
        assert db.session.get_one(Callback, uuid.UUID(calling)).status is not CallbackStatus.QUEUED
    route(app)
    assert ringing_for(simulator, kept, anna)


def on_virtual_hold(app, clock, dispatcher, simulator) -> QueueEntry:
    """The customer pressed 0 in our call about their matter, waited, and took the offer of a
    call back (press 1): they keep their place, off the line."""
    simulator.expect(CUSTOMER_PHONE, CalleeScript(keys=[VALID_CODE, "0", "1"]))
    with app.app_context():
        assert dispatcher().dispatch() == 1
        assert offer_call_backs(
            db.session(),
            queueing=queueing_of(app),
            telephony=simulator,
            urls=CallUrls(app),
            now=clock() + timedelta(minutes=30),
        )
    entry = the_entry(app)
    assert entry.state is QueueState.VIRTUAL_HOLD
    clock.advance(timedelta(minutes=10).total_seconds())  # the queue moves on meanwhile
    return entry


def test_virtual_hold_their_turn_we_call_back_they_verify_and_the_same_agent_rings(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna", idle_since_seconds=60)  # the route tick has not run yet
    entry = on_virtual_hold(app, clock, dispatcher, simulator)

    route(app)  # their turn: Anna is kept for them, and we call them back

    held = the_entry(app)
    assert (held.state, held.agent_id) == (QueueState.OFFERED, anna)
    assert presence(app, anna) is Presence.RINGING
    with app.app_context():
        agent = db.session.get_one(Agent, anna)
        with pytest.raises(Conflict, match="calling this customer back"):
            service.accept(db.session, agent, held.id, now=clock())
        db.session.rollback()
        [calling] = service.calling_for(db.session, db.session.get_one(Agent, anna))
        assert calling.variables["entry_id"] == str(entry.id)
        assert len(audit(db.session, "queue.calling_back")) == 1
    route(app)  # a second round places nothing more
    assert len(calling_for(app, anna)) == 1

    simulated = we_call(app, dispatcher, simulator, VALID_CODE)

    assert prompt("connect_agent") in heard(simulated)
    back = the_entry(app)
    assert back.id == entry.id and back.entered_at == entry.entered_at  # their place
    assert back.call_id != entry.call_id and back.reserved_for == anna
    route(app)
    ring = ringing_for(simulator, back, anna)
    simulator.answer_participant(ring)
    assert (the_entry(app).state, the_entry(app).agent_id) == (QueueState.CONNECTED, anna)
    assert simulator.speak(ring, "Buongiorno, sono Anna.") == [simulated.sid]


def test_virtual_hold_a_call_back_that_fails_verification_gives_up_and_frees_the_agent(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")
    on_virtual_hold(app, clock, dispatcher, simulator)
    route(app)

    simulated = we_call(app, dispatcher, simulator, "111111", "222222", "333333")
    route(app)

    assert heard(simulated)[-1] == prompt("verify_failed")
    assert the_entry(app).state is QueueState.ABANDONED
    assert presence(app, anna) is Presence.AVAILABLE
    with app.app_context():
        [gave_up] = audit(db.session, "queue.abandoned")
        assert gave_up.changes["why"] == "our call back: verification_failed"
    assert not [c for c in simulator.calls.values() if c.to.startswith("client:")]


def test_while_we_call_the_customer_for_an_agent_the_agent_is_offered_nobody_else(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")
    calling = call_now(app, clock, anna, matter)
    with app.app_context():
        db.session.get_one(Callback, uuid.UUID(calling)).status = CallbackStatus.IN_CALL
        someone = caller(db.session, locale="it", entered=clock())
        db.session.commit()
        assert service.route(db.session, now=clock()) == []
        db.session.get_one(Callback, uuid.UUID(calling)).status = CallbackStatus.QUEUED
        [offer] = service.route(db.session, now=clock())  # between tries, she is free
        assert (offer.entry_id, offer.agent_id) == (someone.id, anna)
        db.session.rollback()

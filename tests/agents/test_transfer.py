"""A warm transfer: the agent hands their caller to a named colleague or to another team; the
caller keeps their conference (their entry), and the first agent's phone no longer counts for
the caller; once the first agent leaves the line they write their own wrap-up, which decides
nothing: the caller's matter stays with whoever ends the call."""

from __future__ import annotations

import uuid

import pytest

from app.agents import rules, service
from app.agents.models import Disposition, Presence, QueueState
from app.audit.service import Actor
from app.callbacks.models import Callback, CallbackStatus
from app.errors import Conflict, InvalidInput, NotFound
from app.outcomes import Outcome
from tests.agents.conftest import add_agent, audit, caller, later
from tests.engine_fixtures import MORNING

ANNA = Actor("staff:anna")


def with_anna(session, **more):
    """A caller talking with Anna (her phone's call kept by the ringer)."""
    anna = add_agent(session, "anna", available_since=MORNING)
    entry = caller(session, **more)
    [offer] = service.route(session, now=later(1))
    service.ringing(session, offer.entry_id, anna.staff_id, "CA" + "1" * 32)
    service.accept(session, anna, entry.id, now=later(2))
    return anna, entry


def test_a_transfer_to_a_colleague_offers_them_the_caller_at_once(session):
    anna, entry = with_anna(session)
    marco = add_agent(session, "marco", skills=("fraud",), available_since=MORNING)

    offer = service.transfer(session, anna, entry, to=marco.staff_id, actor=ANNA, now=later(30))

    assert offer is not None and (offer.agent_id, offer.entry_id) == (marco.staff_id, entry.id)
    assert offer.expires_at == later(30 + rules.RING_SECONDS) and not offer.virtual_hold
    assert (entry.state, entry.agent_id, entry.agent_call_sid) == (
        QueueState.OFFERED,
        marco.staff_id,
        None,  # Anna's phone hanging up now ends nothing
    )
    assert (anna.presence, marco.presence) == (Presence.WRAP_UP, Presence.RINGING)
    [moved] = audit(session, "queue.transferred")
    assert moved.changes["to_agent_id"] == str(marco.staff_id)
    # Anna's phone ending (she leaves the call) changes nothing for the caller.
    assert (
        service.agent_call(
            session,
            entry_id=entry.id,
            agent_id=anna.staff_id,
            call_sid="CA" + "1" * 32,
            status="completed",
            now=later(40),
        )
        is service.AgentCall.NOTHING
    )
    assert entry.state is QueueState.OFFERED


def test_a_transfer_to_a_team_puts_the_caller_first_in_line_on_the_line(session):
    anna, entry = with_anna(session, priority=1)
    entry.virtual_hold_at = MORNING  # a caller we called back: still on the line now

    offer = service.transfer(session, anna, entry, skill="fraud", actor=ANNA, now=later(30))

    assert offer is None
    assert (entry.state, entry.skill.value, entry.priority, entry.agent_id) == (
        QueueState.WAITING,
        "fraud",
        rules.HIGHEST_PRIORITY,
        None,
    )
    assert entry.entered_at == MORNING  # their place kept


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        ({}, InvalidInput, "transfer to a skill or to an agent"),
        ({"skill": "billing"}, InvalidInput, "skill: one of"),
        ({"to": "self"}, InvalidInput, "transfer to someone else"),
        ({"to": "nobody"}, NotFound, "no agent has this id"),
        ({"to": "away"}, Conflict, "that agent is not available now"),
    ],
)
def test_a_transfer_names_one_available_colleague_or_a_team(session, target, error, message):
    anna, entry = with_anna(session)
    away = add_agent(session, "away")
    targets = {"self": anna.staff_id, "nobody": uuid.uuid4(), "away": away.staff_id}
    if "to" in target:
        target = {"to": targets[target["to"]]}

    with pytest.raises(error, match=message):
        service.transfer(session, anna, entry, actor=ANNA, now=later(30), **target)


def test_only_the_agent_with_the_caller_transfers_them(session):
    _, entry = with_anna(session)
    marco = add_agent(session, "marco", available_since=MORNING)

    with pytest.raises(Conflict, match="not on a call with you"):
        service.transfer(session, marco, entry, skill="fraud", actor=ANNA, now=later(30))


# ----- the first agent's own wrap-up -----


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


def handed_to_marco(session, **more):
    """Anna, talking with a caller, hands them to Marco, who answers: all three on the line."""
    anna, entry = with_anna(session, **more)
    marco = add_agent(session, "marco", available_since=MORNING)
    service.transfer(session, anna, entry, to=marco.staff_id, actor=ANNA, now=later(30))
    service.accept(session, marco, entry.id, now=later(35))
    return anna, marco, entry


def test_the_first_agent_leaves_the_line_and_wraps_up_their_part_without_deciding_the_matter(
    session, matter
):
    anna, marco, entry = handed_to_marco(session, callback_id=matter)
    handoff = service.handoff_of(session, anna)
    assert handoff is not None and handoff.entry_id == entry.id and handoff.left_at is None

    service.leave_handoff(session, anna, actor=ANNA, now=later(60))

    assert handoff.left_at == later(60) and anna.presence is Presence.WRAP_UP
    [left] = audit(session, "queue.handoff_left")
    assert (left.actor, left.subject_id) == ("staff:anna", str(entry.id))

    service.wrap_up(
        session,
        anna,
        entry,
        disposition="resolved",
        notes="Card blocked; handed to Marco for the refund.",
        follow_up_at=None,
        actor=ANNA,
        now=later(90),
    )

    assert (handoff.disposition, handoff.notes, handoff.wrapped_at) == (
        Disposition.RESOLVED,
        "Card blocked; handed to Marco for the refund.",
        later(90),
    )
    assert anna.presence is Presence.AVAILABLE and service.handoff_of(session, anna) is None
    [hers] = audit(session, "queue.handoff_wrapped_up")
    assert hers.actor == "staff:anna"
    assert hers.changes["disposition"] == "resolved" and hers.changes["agent_id"] == str(
        anna.staff_id
    )
    # The caller is still Marco's, and their matter still open: nothing was decided.
    callback = session.get_one(Callback, matter)
    assert (entry.state, entry.agent_id, entry.wrapped_at) == (
        QueueState.CONNECTED,
        marco.staff_id,
        None,
    )
    assert callback.status is not CallbackStatus.DONE and callback.outcome is None
    assert audit(session, "queue.wrapped_up") == []

    # Marco ends the call: his wrap-up decides the matter.
    service.wrap_up(
        session,
        marco,
        entry,
        disposition="confirmed",
        notes=None,
        follow_up_at=None,
        actor=Actor("staff:marco"),
        now=later(300),
    )
    assert (callback.status, callback.outcome) == (CallbackStatus.DONE, Outcome.CONFIRMED)
    [his] = audit(session, "queue.wrapped_up")
    assert his.actor == "staff:marco" and his.changes["callback"] == "confirmed"
    assert handoff.disposition is Disposition.RESOLVED  # hers is kept as she wrote it


def test_the_first_agents_phone_hanging_up_is_their_leaving_the_line(session):
    anna, marco, entry = handed_to_marco(session)

    done = service.agent_call(
        session,
        entry_id=entry.id,
        agent_id=anna.staff_id,
        call_sid="CA" + "1" * 32,
        status="completed",
        now=later(70),
    )

    assert done is service.AgentCall.NOTHING  # the caller stays with Marco
    handoff = service.handoff_of(session, anna)
    assert handoff is not None and handoff.left_at == later(70)
    assert entry.state is QueueState.CONNECTED and marco.presence is Presence.ON_CALL
    [left] = audit(session, "queue.handoff_left")
    assert left.changes["why"] == "their phone hung up"
    # Another phone's end (not hers) would not have counted: told again, nothing changes.
    service.agent_call(
        session,
        entry_id=entry.id,
        agent_id=anna.staff_id,
        call_sid="CA" + "1" * 32,
        status="completed",
        now=later(80),
    )
    assert handoff.left_at == later(70) and len(audit(session, "queue.handoff_left")) == 1


@pytest.mark.parametrize(
    ("disposition", "notes", "follow_up_at", "message"),
    [
        ("follow_up", None, later(3600), "the follow-up is for the agent who ends the call"),
        ("resolved", None, later(3600), "the follow-up is for the agent who ends the call"),
        ("resolved", "the customer said the code was 908172", None, "code"),
        ("maybe", None, None, "disposition: one of"),
    ],
)
def test_the_first_agents_wrap_up_refuses_a_follow_up_and_unsafe_notes(
    session, matter, disposition, notes, follow_up_at, message
):
    anna, _, entry = handed_to_marco(session, callback_id=matter)
    service.leave_handoff(session, anna, actor=ANNA, now=later(60))

    with pytest.raises(InvalidInput, match=message):
        service.wrap_up(
            session,
            anna,
            entry,
            disposition=disposition,
            notes=notes,
            follow_up_at=follow_up_at,
            actor=ANNA,
            now=later(90),
        )
    handoff = service.handoff_of(session, anna)
    assert handoff is not None and handoff.wrapped_at is None  # still hers to write


def test_an_agent_who_handed_nobody_on_has_nothing_to_leave_and_no_handoff_to_wrap(session):
    anna, entry = with_anna(session)
    marco = add_agent(session, "marco", available_since=MORNING)

    with pytest.raises(Conflict, match="you handed no caller on"):
        service.leave_handoff(session, anna, actor=ANNA, now=later(60))
    with pytest.raises(Conflict, match="this caller was not yours"):
        service.wrap_up(
            session,
            marco,
            entry,
            disposition="resolved",
            notes=None,
            follow_up_at=None,
            actor=Actor("staff:marco"),
            now=later(60),
        )

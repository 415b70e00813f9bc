"""A warm transfer: the agent hands their caller to a named colleague or to another team; the
caller keeps their conference (their entry), and the first agent's phone no longer counts."""

from __future__ import annotations

import uuid

import pytest

from app.agents import rules, service
from app.agents.models import Presence, QueueState
from app.audit.service import Actor
from app.errors import Conflict, InvalidInput, NotFound
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

"""The router: callers by priority then wait, to the longest-idle agent with their language and
skill; an offer that does not hold gives the caller back their place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.agents import service
from app.agents.models import Presence, QueueState
from app.audit.service import Actor
from app.errors import Conflict, InvalidInput
from tests.agents.conftest import add_agent, add_call, audit, caller, later
from tests.engine_fixtures import MORNING


def test_callers_are_offered_by_priority_then_by_how_long_they_waited(session):
    low_first = caller(session, priority=1, entered=later(0))
    high_later = caller(session, priority=3, entered=later(10))
    high_earlier = caller(session, priority=3, entered=later(5))
    assert [service.position(session, e) for e in (low_first, high_later, high_earlier)] == [
        3,
        2,
        1,
    ]

    taken = []
    for second in (60, 61, 62):
        agent = add_agent(session, f"a{second}", available_since=later(second))
        offers = service.route(session, now=later(second))
        assert [offer.agent_id for offer in offers] == [agent.staff_id]
        taken.append(offers[0].entry_id)
    assert taken == [high_earlier.id, high_later.id, low_first.id]


def test_an_offer_rings_the_agent_for_twenty_seconds(session):
    entry = caller(session)
    agent = add_agent(session, "ann", available_since=later(1))
    [offer] = service.route(session, now=later(2))
    assert (offer.entry_id, offer.call_id, offer.virtual_hold) == (entry.id, entry.call_id, False)
    assert offer.expires_at == later(22)
    assert entry.state is QueueState.OFFERED and entry.agent_id == agent.staff_id
    assert agent.presence is Presence.RINGING
    assert [e.subject_id for e in audit(session, "queue.offered")] == [str(entry.id)]


def test_the_agent_idle_longest_gets_the_caller(session):
    add_agent(session, "recent", available_since=later(50))
    idle = add_agent(session, "idle", available_since=later(-600))
    caller(session, entered=later(60))
    [offer] = service.route(session, now=later(60))
    assert offer.agent_id == idle.staff_id


def test_language_and_skill_are_respected(session):
    add_agent(session, "en-fraud", skills=["fraud"], languages=["en"], available_since=later(-3))
    add_agent(
        session, "it-general", skills=["general"], languages=["it"], available_since=later(-2)
    )
    right = add_agent(
        session,
        "it-fraud",
        skills=["fraud", "general"],
        languages=["it", "en"],
        available_since=MORNING,
    )
    entry = caller(session, skill="fraud", locale="it", entered=later(1))
    [offer] = service.route(session, now=later(2))
    assert (offer.entry_id, offer.agent_id) == (entry.id, right.staff_id)


def test_a_caller_nobody_can_take_waits_and_lets_the_next_caller_through(session):
    chinese = caller(session, locale="zh", entered=later(0))
    english = caller(session, locale="en", entered=later(5))
    agent = add_agent(session, "en-only", languages=["en"], available_since=later(6))
    [offer] = service.route(session, now=later(7))
    assert (offer.entry_id, offer.agent_id) == (english.id, agent.staff_id)
    assert chinese.state is QueueState.WAITING and service.position(session, chinese) == 1


def test_with_nobody_available_every_caller_waits(session):
    add_agent(session, "away")  # never set available
    entry = caller(session)
    assert service.route(session, now=later(5)) == []
    assert entry.state is QueueState.WAITING
    assert service.position(session, entry) == 1
    assert service.waited(entry, later(95)) == timedelta(seconds=95)


def test_a_call_enqueued_twice_keeps_one_place(session):
    call = add_call(session)
    first = service.enqueue(
        session, call=call, skill="general", priority=2, locale="en", now=later(0)
    )
    again = service.enqueue(
        session, call=call, skill="fraud", priority=3, locale="it", now=later(9)
    )
    assert again.id == first.id and again.entered_at == later(0)
    assert len(audit(session, "queue.entered")) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"skill": "billing"},
        {"locale": "de"},
        {"priority": 7},
        {"verified_by": "908172"},
        {"verified_by": "app code 908172"},
    ],
)
def test_a_bad_place_is_refused_clearly(session, change):
    call = add_call(session)
    values = {"skill": "general", "priority": 2, "locale": "en", **change}
    with pytest.raises(InvalidInput):
        service.enqueue(session, call=call, now=MORNING, **values)


def test_verification_is_kept_as_how_and_when_never_digits(session):
    entry = caller(session, verified_by="app_code", verified_at=later(-30))
    assert (entry.verified_by, entry.verified_at) == ("app_code", later(-30))


def test_an_agent_who_goes_away_mid_ring_loses_the_caller_to_the_next_agent(session):
    first = caller(session, entered=later(0))
    second = caller(session, entered=later(10))
    ann = add_agent(session, "ann", available_since=later(-100))
    [offer] = service.route(session, now=later(11))
    assert (offer.entry_id, offer.agent_id) == (first.id, ann.staff_id)

    service.set_presence(session, ann, "away", actor=Actor("staff:ann"), now=later(15))
    assert ann.presence is Presence.AWAY
    assert first.state is QueueState.WAITING and first.agent_id is None
    assert first.entered_at == later(0) and service.position(session, first) == 1
    assert audit(session, "queue.returned")[0].changes["why"] == "the agent went away"

    bob = add_agent(session, "bob", available_since=later(16))
    [offer] = service.route(session, now=later(16))
    assert (offer.entry_id, offer.agent_id) == (first.id, bob.staff_id)
    assert second.state is QueueState.WAITING


def test_an_offer_nobody_answers_goes_back_and_its_agent_goes_away(session):
    entry = caller(session, entered=later(0))
    ann = add_agent(session, "ann", available_since=later(-100))
    service.route(session, now=later(1))
    assert service.expire_offers(session, later(20)) == 0  # still ringing
    assert service.expire_offers(session, later(21)) == 1
    assert entry.state is QueueState.WAITING and entry.entered_at == later(0)
    assert ann.presence is Presence.AWAY
    assert [e.subject_id for e in audit(session, "agent.missed")] == [str(ann.staff_id)]
    with pytest.raises(Conflict):
        service.accept(session, ann, entry.id, now=later(22))


def test_only_the_offered_agent_answers_and_only_while_it_rings(session):
    entry = caller(session)
    ann = add_agent(session, "ann", available_since=later(-100))
    bob = add_agent(session, "bob", available_since=later(-50))
    service.route(session, now=later(1))
    assert entry.agent_id == ann.staff_id
    with pytest.raises(Conflict):
        service.accept(session, bob, entry.id, now=later(2))
    with pytest.raises(Conflict):
        service.accept(session, ann, entry.id, now=later(21))  # the offer stood until 21 s

    service.accept(session, ann, entry.id, now=later(5))
    assert entry.state is QueueState.CONNECTED and entry.answered_at == later(5)
    assert ann.presence is Presence.ON_CALL
    assert service.waited(entry, later(500)) == timedelta(seconds=5)
    with pytest.raises(Conflict, match="hang up"):
        service.set_presence(session, ann, "away", actor=Actor("staff:ann"), now=later(6))

    service.hang_up(session, entry, now=later(65))
    assert entry.state is QueueState.ENDED and ann.presence is Presence.WRAP_UP


def test_an_agent_chooses_only_available_or_away(session):
    ann = add_agent(session, "ann")
    assert ann.presence is Presence.AWAY  # a new agent starts away
    for wanted, error in (("on_call", Conflict), ("ringing", Conflict), ("lunch", InvalidInput)):
        with pytest.raises(error):
            service.set_presence(session, ann, wanted, actor=Actor("staff:ann"), now=later(1))
    service.set_presence(session, ann, "available", actor=Actor("staff:ann"), now=later(2))
    caller(session, entered=later(3))
    service.route(session, now=later(3))
    with pytest.raises(Conflict, match="answer"):
        service.set_presence(session, ann, "available", actor=Actor("staff:ann"), now=later(4))
    changes = [e.changes["presence"] for e in audit(session, "agent.presence")]
    assert changes == [["away", "available"]]  # the router's ringing is the offer's entry


def test_virtual_hold_keeps_the_callers_place(session):
    on_hold = caller(session, entered=later(0))
    service.offer_virtual_hold(session, on_hold, now=later(120))
    waiting = caller(session, entered=later(60))
    assert on_hold.state is QueueState.VIRTUAL_HOLD
    assert service.position(session, on_hold) == 1 and service.position(session, waiting) == 2
    # The caller on virtual hold hung up: that is no abandonment, they keep their place.
    assert service.caller_hung_up(session, on_hold.call_id, later(125)) is on_hold
    assert on_hold.state is QueueState.VIRTUAL_HOLD

    ann = add_agent(session, "ann", available_since=later(200))
    [offer] = service.route(session, now=later(300))
    assert (offer.entry_id, offer.virtual_hold) == (on_hold.id, True)
    # Nobody answered: back on virtual hold, still first.
    service.expire_offers(session, later(321))
    assert on_hold.state is QueueState.VIRTUAL_HOLD and service.position(session, on_hold) == 1
    assert ann.presence is Presence.AWAY


def test_a_caller_who_hangs_up_while_waiting_or_ringing_abandons(session):
    waiting = caller(session, skill="fraud", entered=later(0))  # nobody has the skill
    ringing = caller(session, entered=later(1))
    ann = add_agent(session, "ann", available_since=later(-5))
    [offer] = service.route(session, now=later(3))
    assert offer.entry_id == ringing.id

    assert service.caller_hung_up(session, waiting.call_id, later(30)) is waiting
    assert waiting.state is QueueState.ABANDONED and waiting.ended_at == later(30)
    assert service.caller_hung_up(session, ringing.call_id, later(31)) is ringing
    assert ringing.state is QueueState.ABANDONED
    assert ann.presence is Presence.AVAILABLE  # free for the next caller at once
    assert service.abandon(session, ringing.call_id, later(32)) is None
    assert len(audit(session, "queue.abandoned")) == 2


def test_the_call_back_of_a_caller_on_virtual_hold_becomes_their_leg(session):
    entry = caller(session, entered=later(0))
    service.offer_virtual_hold(session, entry, now=later(30))
    ann = add_agent(session, "ann", available_since=later(40))
    [offer] = service.route(session, now=later(50))
    assert offer.virtual_hold and service.current_entry(session, ann) is entry
    # The end of the leg they hung up, reported late, abandons nothing.
    assert service.caller_hung_up(session, offer.call_id, later(51)) is entry
    assert entry.state is QueueState.OFFERED

    back = add_call(session)
    service.called_back(session, entry, back, now=later(52))
    service.accept(session, ann, entry.id, now=later(60))
    assert service.caller_hung_up(session, back.id, later(300)) is entry
    assert entry.state is QueueState.ENDED and ann.presence is Presence.WRAP_UP
    assert service.current_entry(session, ann) is entry  # until the wrap-up
    waiting = caller(session, entered=later(301))
    with pytest.raises(Conflict):
        service.called_back(session, waiting, add_call(session), now=later(302))


def test_callers_nobody_free_can_take_do_not_hold_back_one_an_agent_can(session):
    for second in range(service.ROUTE_LIMIT + 10):
        caller(session, skill="withdrawals", priority=3, entered=later(second))
    behind = caller(session, skill="general", locale="zh", priority=1, entered=later(100))
    agent = add_agent(session, "zh", skills=["general"], languages=["zh"], available_since=MORNING)
    [offer] = service.route(session, now=later(101))
    assert (offer.entry_id, offer.agent_id) == (behind.id, agent.staff_id)


def test_the_queue_gives_up_on_a_caller_who_does_not_answer_our_call_back(session):
    entry = caller(session, entered=later(0))
    service.offer_virtual_hold(session, entry, now=later(30))
    ann = add_agent(session, "ann", available_since=later(40))
    service.route(session, now=later(50))
    service.give_up(session, entry, now=later(90), why="no answer to our call back")
    assert entry.state is QueueState.ABANDONED and ann.presence is Presence.AVAILABLE
    assert audit(session, "queue.abandoned")[0].changes["why"] == "no answer to our call back"
    with pytest.raises(Conflict):
        service.give_up(session, entry, now=later(91), why="again")

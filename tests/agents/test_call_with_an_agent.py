"""One call from "press 0" to an agent and back, through the simulator: the flows' queue node,
the agents' queue and router, the ringer that adds the agent's browser phone to the caller's
conference, and what that phone's call reports (answered, declined, rang out, hung up)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.agents import route_tick, rules, service
from app.agents.line import agent_call_url, ring_agents
from app.agents.models import Agent, Presence, QueueEntry, QueueState
from app.agents.ringing import ringers
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.calls.service import CallUrls
from app.carriers.carrier import client_address, staff_identity
from app.carriers.models import SimulatorCall
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.carriers.softphone import Softphone
from app.extensions import db
from app.flows.definition import load_common_prompts
from app.flows.registry import queueing_of
from app.ivr.waiting import offer_call_backs
from tests.agents.conftest import add_agent, audit
from tests.engine_fixtures import MORNING, callback_of
from tests.ivr.test_webhooks import signed_post
from tests.telephony_fixtures import VALID_CODE

pytestmark = pytest.mark.usefixtures("lines", "clock")

CUSTOMER_PHONE = "+393331234567"
HOTLINE = "+14155550101"
PROMPTS = load_common_prompts()


def prompt(name: str, **values: Any) -> str:
    return PROMPTS[name]["it"].format(**values)


def heard(simulated: SimulatedCall) -> list[str]:
    return [line.text for line in simulated.lines if line.who == "call"]


@pytest.fixture
def matter(api, customer) -> str:
    """The customer's open callback: a welcome call about their registration (general team)."""
    answer = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": customer["external_id"],
            "occurred_at": MORNING.isoformat(),
        },
    )
    assert answer.status_code == 202, answer.get_json()
    return str(answer.get_json()["callback_id"])


def an_agent(app, name: str, *, idle_since_seconds: int = 60, **more: Any) -> uuid.UUID:
    """An available agent of the general team who speaks Italian."""
    with app.app_context():
        agent = add_agent(
            db.session,
            name,
            skills=more.get("skills", ("general",)),
            languages=more.get("languages", ("it",)),
            available_since=MORNING - timedelta(seconds=idle_since_seconds),
        )
        db.session.commit()
        return agent.staff_id


def waits_for_an_agent(app, dispatcher, simulator, *keys: str) -> SimulatedCall:
    """We call the customer about their matter; they key the app's code, then press 0."""
    simulator.expect(CUSTOMER_PHONE, CalleeScript(keys=[VALID_CODE, "0", *keys]))
    with app.app_context():
        assert dispatcher().dispatch() == 1
    return list(simulator.calls.values())[-1]


def route(app) -> None:
    with app.app_context():
        route_tick(app, "w1")


def the_entry(app) -> QueueEntry:
    with app.app_context():
        entry = db.session.scalars(select(QueueEntry)).one()
        db.session.expunge(entry)
        return entry


def presence(app, agent_id: uuid.UUID) -> Presence:
    with app.app_context():
        return db.session.get_one(Agent, agent_id).presence


def ringing_for(simulator, entry: QueueEntry, agent_id: uuid.UUID) -> str:
    """The call ringing the agent's browser phone in the caller's conference."""
    room = simulator.conferences.live(str(entry.id))
    assert room is not None, "the caller is in no conference"
    [sid] = [
        sid
        for sid, person in room.participants.items()
        if person.state == "ringing" and person.call.to == client_address(staff_identity(agent_id))
    ]
    return sid


def test_the_agents_domain_registers_the_queue_the_ringer_and_its_webhook(app):
    assert ringers(app) == (ring_agents,)
    with app.test_request_context():
        url = agent_call_url(app, uuid.uuid4(), uuid.uuid4())
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/twilio/agents/entries/")


def test_press_0_waits_talks_to_the_agent_then_goes_on_and_the_wrap_up_decides_the_matter(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")

    simulated = waits_for_an_agent(app, dispatcher, simulator)

    # The caller waits, hearing their place in Italian; their place knows the matter, the
    # language, the team, and that the app's code verified them, when.
    assert prompt("queue_position", position=1) in heard(simulated)
    entry = the_entry(app)
    assert entry.state is QueueState.WAITING
    assert (entry.skill.value, entry.priority, entry.locale) == ("general", 2, "it")
    assert str(entry.callback_id) == matter
    assert entry.customer_id is not None
    assert entry.verified_by == "app_code" and entry.verified_at is not None

    route(app)  # the route tick offers the caller to Anna, and her browser phone rings

    ring = ringing_for(simulator, entry, anna)
    assert simulator.calls[ring].from_ == "+14155550100"  # our verification line
    assert the_entry(app).agent_call_sid == ring
    assert presence(app, anna) is Presence.RINGING

    simulator.answer_participant(ring)

    assert the_entry(app).state is QueueState.CONNECTED
    assert presence(app, anna) is Presence.ON_CALL
    assert simulator.speak(ring, "Buongiorno, sono Anna del servizio clienti.") == [simulated.sid]
    assert simulator.speak(simulated.sid, "Volevo solo una conferma.") == [ring]
    assert heard(simulated)[-1] == "Buongiorno, sono Anna del servizio clienti."

    simulator.participant_hangs_up(ring)  # Anna ends the talk

    # The caller's flow goes on after the conference: thanks, how satisfied (no key here), goodbye.
    said = heard(simulated)
    asked = said.index(prompt("satisfaction_ask"))
    assert said[asked - 1] == prompt("after_agent_said")
    assert said[-1] == prompt("goodbye")
    assert simulated.statuses[-1] == "completed"
    assert the_entry(app).state is QueueState.ENDED
    assert presence(app, anna) is Presence.WRAP_UP
    # The matter waits for Anna's wrap-up: the customer is not called again meanwhile.
    assert callback_of(app, matter).waiting_for == "an agent's wrap-up"
    clock.advance(30 * 60)
    with app.app_context():
        assert dispatcher().dispatch() == 0

    with app.app_context():
        agent = db.session.get_one(Agent, anna)
        ended = db.session.get_one(QueueEntry, entry.id)
        service.wrap_up(
            db.session,
            agent,
            ended,
            disposition="confirmed",
            notes="The customer confirmed their registration.",
            follow_up_at=None,
            actor=Actor(f"staff:{anna}"),
            now=clock(),
        )
        db.session.commit()
        [wrapped] = audit(db.session, "queue.wrapped_up")
        assert wrapped.changes["disposition"] == "confirmed"
        assert [e.action for e in audit(db.session, "queue.answered")] == ["queue.answered"]
        events = list(db.session.scalars(select(AuditEvent)))
    assert callback_of(app, matter).outcome == "confirmed"
    assert presence(app, anna) is Presence.AVAILABLE

    # Nothing the caller typed reached the queue, the audit log, or the agent's side.
    entry = the_entry(app)
    kept = " ".join(str(getattr(entry, column.key)) for column in QueueEntry.__table__.columns)
    assert VALID_CODE not in kept
    assert not [event.action for event in events if VALID_CODE in str(event.changes)]
    agent_side = [line.text for line in simulator.calls[ring].lines]
    agent_side += [text for _, text in simulator.conferences.find(str(entry.id)).log]
    assert VALID_CODE not in " ".join(agent_side)


@pytest.mark.parametrize("how", ["busy", "no-answer"])
def test_an_agent_who_declines_loses_the_caller_to_the_next_agent(
    app, dispatcher, simulator, matter, how
):
    anna = an_agent(app, "anna", idle_since_seconds=120)  # idle longest: offered first
    marco = an_agent(app, "marco", idle_since_seconds=60)
    simulated = waits_for_an_agent(app, dispatcher, simulator)
    route(app)
    entry = the_entry(app)

    simulator.decline_participant(ringing_for(simulator, entry, anna), how)

    # At once: the caller is back in their place, Anna away.
    assert the_entry(app).state is QueueState.WAITING
    assert the_entry(app).entered_at == entry.entered_at
    assert presence(app, anna) is Presence.AWAY
    with app.app_context():
        [returned] = audit(db.session, "queue.returned")
        assert returned.changes["why"] == f"the agent's phone: {how}"

    route(app)
    simulator.answer_participant(ringing_for(simulator, entry, marco))

    assert (the_entry(app).state, the_entry(app).agent_id) == (QueueState.CONNECTED, marco)
    assert simulated.statuses[-1] == "in-progress"


def test_an_agent_who_does_not_answer_in_time_loses_the_caller_and_a_late_answer_is_dropped(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna", idle_since_seconds=120)
    marco = an_agent(app, "marco", idle_since_seconds=60)
    waits_for_an_agent(app, dispatcher, simulator)
    route(app)
    entry = the_entry(app)
    annas = ringing_for(simulator, entry, anna)

    clock.advance(rules.RING_SECONDS + 1)
    route(app)  # Anna's offer ran out: the caller goes to Marco in the same round

    marcos = ringing_for(simulator, entry, marco)
    assert presence(app, anna) is Presence.AWAY
    simulator.answer_participant(marcos)
    simulator.answer_participant(annas)  # too late: her phone is hung up

    assert (the_entry(app).state, the_entry(app).agent_id) == (QueueState.CONNECTED, marco)
    assert simulator.calls[annas].statuses[-1] == "completed"
    assert presence(app, anna) is Presence.AWAY
    assert simulator.speak(marcos, "Pronto?") == [the_entry_caller(app, simulator)]


def the_entry_caller(app, simulator) -> str:
    entry = the_entry(app)
    room = simulator.conferences.live(str(entry.id))
    [sid] = [sid for sid, person in room.participants.items() if person.label == "caller"]
    return sid


@pytest.mark.parametrize("when", ["waiting", "ringing"])
def test_a_caller_who_hangs_up_before_an_agent_answers_has_abandoned(
    app, dispatcher, simulator, matter, when
):
    anna = an_agent(app, "anna")
    simulated = waits_for_an_agent(app, dispatcher, simulator)
    if when == "ringing":
        route(app)
        ring = ringing_for(simulator, the_entry(app), anna)

    simulator.caller_hangs_up(simulated)

    assert the_entry(app).state is QueueState.ABANDONED
    assert presence(app, anna) is Presence.AVAILABLE  # free for the next caller
    with app.app_context():
        assert len(audit(db.session, "queue.abandoned")) == 1
        assert audit(db.session, "agent.missed") == []
    if when == "ringing":
        assert simulator.calls[ring].statuses[-1] == "canceled"


def test_a_caller_who_hangs_up_while_talking_leaves_the_agent_in_wrap_up(
    app, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")
    simulated = waits_for_an_agent(app, dispatcher, simulator)
    route(app)
    ring = ringing_for(simulator, the_entry(app), anna)
    simulator.answer_participant(ring)

    simulator.caller_hangs_up(simulated)

    assert the_entry(app).state is QueueState.ENDED
    assert presence(app, anna) is Presence.WRAP_UP
    assert simulator.calls[ring].statuses[-1] == "completed"


def test_with_nobody_at_work_for_the_team_the_caller_hears_so_and_is_asked_again(
    app, dispatcher, simulator, matter
):
    an_agent(app, "piotr", languages=("pl",))  # speaks no Italian

    simulated = waits_for_an_agent(app, dispatcher, simulator, "1")

    assert prompt("nobody_free") in heard(simulated)
    assert simulated.waiting is None
    with app.app_context():
        assert db.session.scalars(select(QueueEntry)).all() == []
    assert callback_of(app, matter).outcome == "confirmed"  # "1" at the question again


def test_the_agent_phone_webhook_is_signed_and_refuses_what_twilio_never_sends(client, app):
    entry, agent = uuid.uuid4(), uuid.uuid4()
    path = f"/twilio/agents/entries/{entry}/agents/{agent}/call"
    good = {"CallSid": "CA" + "2" * 32, "CallStatus": "in-progress"}

    unsigned = client.post(path, data=good)
    bad_status = signed_post(client, app, path, {**good, "CallStatus": "picked-up"})
    bad_sid = signed_post(client, app, path, {**good, "CallSid": "908172"})
    unknown = signed_post(client, app, path, good)

    assert unsigned.status_code == 403
    assert (bad_status.status_code, bad_status.get_json()["error"]["field"]) == (422, "CallStatus")
    assert (bad_sid.status_code, bad_sid.get_json()["error"]["field"]) == (422, "CallSid")
    assert unknown.status_code == 404


def test_a_person_at_the_softphone_hears_the_agent_who_takes_their_call(app, simulator):
    anna = an_agent(app, "anna")
    with app.app_context():
        phone = Softphone(app, db.session)
        urls = CallUrls(app)
        answered = phone.dial_in(
            from_=CUSTOMER_PHONE,
            to=HOTLINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
        )
        phone.press(answered["sid"], "")  # no number to check
        waiting = phone.press(answered["sid"], "0")  # "to speak to someone, press 0"
    assert waiting["state"] == "in-progress" and not waiting["waiting_for_keys"]
    assert the_entry(app).verified_by is None  # the hotline's caller typed no code: unverified

    route(app)
    ring = ringing_for(simulator, the_entry(app), anna)
    simulator.answer_participant(ring)
    simulator.speak(ring, "Buongiorno, sono Anna.")

    with app.app_context():
        [shown] = Softphone(app, db.session).calls()
    assert shown["lines"][-1] == {"who": "call", "text": "Buongiorno, sono Anna."}

    simulator.participant_hangs_up(ring)  # the talk is over: the caller's flow says goodbye

    with app.app_context():
        [ended] = Softphone(app, db.session).calls()  # shown once more, ended (the page
        assert ended["state"] == "ended"  # shows its goodbye), then no more
        assert Softphone(app, db.session).calls() == []
        row = db.session.get_one(SimulatorCall, answered["sid"])
        assert row.state == "ended"
        said = [line["text"] for line in row.lines if line["who"] == "call"]
        assert said[-1] == PROMPTS["after_agent"]["it"]


def offer_a_call_back(app, simulator, clock) -> int:
    with app.app_context():
        return offer_call_backs(
            db.session(),
            queueing=queueing_of(app),
            telephony=simulator,
            urls=CallUrls(app),
            now=clock() + timedelta(minutes=30),
        )


def test_a_caller_who_takes_a_call_back_keeps_their_place_off_the_line(
    app, clock, dispatcher, simulator, matter
):
    an_agent(app, "anna")  # at work; the route tick does not run meanwhile
    simulated = waits_for_an_agent(app, dispatcher, simulator, "1")
    entry = the_entry(app)

    assert offer_a_call_back(app, simulator, clock) == 1

    assert heard(simulated)[-1] == prompt("queue_callback_taken")
    assert simulated.statuses[-1] == "completed"
    kept = the_entry(app)
    assert kept.state is QueueState.VIRTUAL_HOLD and kept.entered_at == entry.entered_at
    with app.app_context():
        assert len(audit(db.session, "queue.virtual_hold")) == 1
        assert audit(db.session, "queue.abandoned") == []


def test_a_caller_who_keeps_waiting_after_the_offer_is_taken_in_the_same_conference(
    app, clock, dispatcher, simulator, matter
):
    anna = an_agent(app, "anna")
    simulated = waits_for_an_agent(app, dispatcher, simulator, "2")
    entry = the_entry(app)
    assert offer_a_call_back(app, simulator, clock) == 1
    assert simulated.waiting is not None and the_entry(app).state is QueueState.WAITING

    route(app)
    ring = ringing_for(simulator, entry, anna)
    simulator.answer_participant(ring)

    assert simulator.speak(ring, "Eccomi.") == [simulated.sid]
    assert offer_a_call_back(app, simulator, clock) == 0  # with an agent: not offered again


def test_the_agent_phone_reports_again_change_nothing(app, client, dispatcher, simulator, matter):
    anna = an_agent(app, "anna")
    waits_for_an_agent(app, dispatcher, simulator)
    route(app)
    entry = the_entry(app)
    ring = ringing_for(simulator, entry, anna)
    simulator.answer_participant(ring)
    simulator.participant_hangs_up(ring)
    with app.app_context():
        before = len(list(db.session.scalars(select(AuditEvent))))
    path = agent_call_url(app, entry.id, anna).removeprefix(app.config["PUBLIC_BASE_URL"])

    answers = [
        signed_post(client, app, path, {"CallSid": ring, "CallStatus": status}).status_code
        for status in ("ringing", "in-progress", "completed", "no-answer")
    ]

    assert answers == [204, 204, 204, 204]
    assert the_entry(app).state is QueueState.ENDED
    assert presence(app, anna) is Presence.WRAP_UP
    with app.app_context():
        assert len(list(db.session.scalars(select(AuditEvent)))) == before

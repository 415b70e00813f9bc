"""The agent desk and the supervisor's wall, through the Flask client on both databases.

A caller who typed their app code on the phone waits for the fraud team; the router offers them
to the agent, whose browser phone rings into the caller's conference (as the router's ringer
does, in the simulator). The agent answers, sees the screen pop (verified, the matter), talks,
holds, wraps up; no response of the desk ever carries the code the caller typed.
"""

from __future__ import annotations

import html
import re
import uuid

import pytest
from sqlalchemy import select

from app.agents import route_tick
from app.agents import service as agents
from app.agents.models import Agent, Presence, QueueEntry, QueueState
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.models import Callback
from app.calls.models import Call
from app.carriers.carrier import staff_identity
from app.carriers.simulator import CalleeScript
from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import sign_in
from tests.telephony_fixtures import VALID_CODE

pytestmark = pytest.mark.usefixtures("accounts", "lines", "customer", "clock")
LINE = "+14155550100"
CUSTOMER_PHONE = "+393331234567"


def flagged_payment(api, external_id: str = "cust-it") -> str:
    """A payment unlike the customer's others: a callback about it (the matter)."""
    for i in range(6):
        api.post(
            "/api/v1/events",
            json={
                "id": f"{external_id}-h{i}",
                "type": "transaction",
                "customer_external_id": external_id,
                "occurred_at": f"2026-11-{20 - i:02d}T10:00:00+00:00",
                "data": {"amount": "40", "country": "IT", "device": "p1", "beneficiary": "b1"},
            },
        )
    decision = api.post(
        "/api/v1/events",
        json={
            "id": f"{external_id}-t",
            "type": "transaction",
            "customer_external_id": external_id,
            "occurred_at": "2026-11-23T09:55:00+00:00",
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
    assert decision["callback_id"], decision
    return decision["callback_id"]


def staff_id(app, role: str) -> uuid.UUID:
    with app.app_context():
        return db.session.scalar(
            select(StaffUser.id).where(StaffUser.email == f"{role}@bank.example")
        )


def ringing(app, api, simulator, dispatcher, *, role: str = "agent") -> str:
    """The whole way to a desk: the agent (fraud team, Italian) is available; we call the
    customer about a flagged payment; they key their app code and press 0; the route tick
    offers them to the agent and rings the agent's browser phone into the caller's conference.
    Answers the caller's queue entry."""
    flagged_payment(api)
    who = staff_id(app, role)
    with app.app_context():
        agent = agents.profile(db.session, db.session.get_one(StaffUser, who))
        agents.set_skills(db.session, agent, ["fraud"], ["it", "en"], actor=Actor("test"))
        agents.set_presence(
            db.session, agent, Presence.AVAILABLE, actor=Actor("test"), now=clock_of(app)()
        )
        db.session.commit()
    simulator.expect(CUSTOMER_PHONE, CalleeScript(keys=[VALID_CODE, "0"]))
    with app.app_context():
        assert dispatcher().dispatch() == 1
    with app.app_context():
        route_tick(app, "w1")
        entry = db.session.scalars(select(QueueEntry)).one()
        assert (entry.state, entry.agent_id) == (QueueState.OFFERED, who)
        assert entry.agent_call_sid is not None  # the ringer rang the agent's browser phone
        return str(entry.id)


def clock_of(app):
    return app.extensions["clock"]


def placed_sid(app, entry_id: str) -> str:
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        return db.session.get_one(Call, entry.call_id).sid


class Recorder:
    """A signed-in client that keeps every response body, to look for secrets in all of them."""

    def __init__(self, client) -> None:
        self.client, self.bodies = client, []
        self.csrf = client.csrf

    def get(self, path: str):
        answer = self.client.get(path)
        self.bodies.append(answer.get_data(as_text=True))
        assert answer.status_code < 500
        return answer

    def post(self, path: str, **data):
        answer = self.client.post(
            path, data={**data, "csrf_token": self.csrf}, follow_redirects=True
        )
        self.bodies.append(answer.get_data(as_text=True))
        assert answer.status_code < 500
        return answer


def text(answer) -> str:
    """The page as a person reads it (entities such as &#39; unescaped)."""
    return html.unescape(answer.get_data(as_text=True))


def agent_leg(simulator, entry_id: str, app, role: str = "agent"):
    room = simulator.conferences.find(entry_id)
    address = f"client:{staff_identity(staff_id(app, role))}"
    return next(p for p in room.participants.values() if p.call.to == address)


def test_the_agent_answers_sees_the_pop_talks_holds_and_wraps_up(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))

    page = text(desk.get("/console/desk"))
    assert "A caller is ringing" in page and "Italian" in page and "Fraud" in page
    assert "Giulia" not in page  # who it is shows once they answer
    state = desk.get("/console/desk/state").get_json()
    assert state["presence"] == "ringing" and state["offer"]["entry_id"] == entry_id

    page = text(desk.post("/console/desk/answer", entry_id=entry_id))
    assert "Answered: you are on the call." in page
    assert agent_leg(simulator, entry_id, app).state == "joined"
    assert "Giulia Rossi" in page and "Italian" in page
    assert re.search(r"Verified by app code at \d\d:\d\d", page)
    assert "Electro Shop" in page and "900 EUR" in page
    assert "We never ask for a password, PIN, card details or an SMS code." in page
    assert "Non Le chiederemo mai" in page  # the same, in the caller's language
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        reference = db.session.get_one(Call, entry.call_id).reference
    assert reference and reference in page

    page = text(desk.post("/console/desk/say", entry_id=entry_id, words="Buongiorno, sono Anna."))
    assert "Said." in page and "Buongiorno, sono Anna." in page
    caller = simulator.conferences.find(entry_id).participants[placed_sid(app, entry_id)]
    assert ("agent", "Buongiorno, sono Anna.") in caller.heard  # the softphone shows it
    page = text(desk.post("/console/desk/hold", entry_id=entry_id, on="1"))
    assert "The customer is on hold." in page and ">Resume<" in page
    page = text(desk.post("/console/desk/hold", entry_id=entry_id, on="0"))
    assert "The customer is back." in page and ">Hold<" in page

    refused = text(
        desk.post(
            "/console/desk/wrap-up",
            entry_id=entry_id,
            disposition="confirmed",
            notes="customer read out card 4111 1111 1111 1111",
        )
    )
    assert "Not saved: the notes look like they hold a card number" in refused
    assert "4111" not in refused
    page = text(
        desk.post(
            "/console/desk/wrap-up",
            entry_id=entry_id,
            disposition="confirmed",
            notes="Customer confirms the payment at Electro Shop.",
        )
    )
    assert "Wrapped up. You are available for the next caller." in page
    assert desk.get("/console/desk/state").get_json()["presence"] == "available"

    for body in desk.bodies:
        assert VALID_CODE not in body
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        callback = db.session.get_one(Callback, entry.callback_id)
        assert (entry.disposition.value, callback.outcome.value) == ("confirmed", "confirmed")
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == entry_id)
        ).all()
        assert {"queue.answered", "queue.hold", "queue.ended", "queue.wrapped_up"} <= set(actions)
        assert all(VALID_CODE not in str(e.changes) for e in db.session.scalars(select(AuditEvent)))


def test_a_double_answer_or_an_unknown_caller_gets_a_clear_message(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)

    again = desk.post("/console/desk/answer", entry_id=entry_id)
    unknown = desk.post("/console/desk/answer", entry_id=str(uuid.uuid4()))
    garbled = desk.post("/console/desk/hang-up", entry_id="not-an-id")
    missing = desk.post("/console/desk/wrap-up", entry_id=entry_id)
    bad_presence = desk.post("/console/desk/presence", presence="asleep")

    assert "You are on this call already." in text(again)
    assert "Not answered: no caller has this place in the queue" in text(unknown)
    assert "Not hung up: entry_id: not a caller" in text(garbled)
    assert "Not saved: disposition:" in text(missing)
    assert "Not changed: presence: one of Available, Away" in text(bad_presence)
    assert all(a.status_code == 200 for a in (again, unknown, garbled, missing, bad_presence))


def test_declining_gives_the_caller_to_the_next_agent_and_the_agent_is_away(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))

    page = text(desk.post("/console/desk/decline", entry_id=entry_id))

    assert "Declined: the caller goes to the next agent. You are away." in page
    assert agent_leg(simulator, entry_id, app).state == "left"
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        agent = db.session.get_one(Agent, staff_id(app, "agent"))
        assert (entry.state, entry.agent_id, agent.presence) == (
            QueueState.WAITING,
            None,
            Presence.AWAY,
        )


def test_an_agent_cannot_take_or_end_another_agents_caller(app, api, simulator, clock, dispatcher):
    entry_id = ringing(app, api, simulator, dispatcher)
    other = Recorder(sign_in(app, "supervisor"))

    taken = other.post("/console/desk/answer", entry_id=entry_id)
    declined = other.post("/console/desk/decline", entry_id=entry_id)

    assert "Not answered: this caller is no longer offered to you" in text(taken)
    assert "Not declined: this caller is not at your desk" in text(declined)
    with app.app_context():
        assert db.session.get_one(QueueEntry, uuid.UUID(entry_id)).state is QueueState.OFFERED


def test_only_those_who_take_calls_have_a_desk_and_only_supervisors_the_wall(app):
    auditor, agent = sign_in(app, "auditor"), sign_in(app, "agent")

    assert auditor.get("/console/desk").status_code == 403
    assert agent.get("/console/wall").status_code == 403
    assert agent.get("/console/wall/live").status_code == 403
    token = agent.get("/console/desk/token")  # the simulator needs no browser phone
    assert token.status_code == 404 and "simulator" in token.get_json()["message"]
    assert "Desk" in text(agent.get("/console/desk")) and ">Wall<" not in text(
        agent.get("/console/desk")
    )


def test_the_token_is_for_the_signed_in_agents_browser_phone_on_twilio(app):
    import jwt

    app.config.update(
        TELEPHONY="twilio",
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_API_KEY_SID="SK" + "2" * 32,
        TWILIO_API_KEY_SECRET="s" * 32,
        TWILIO_TWIML_APP_SID="AP" + "3" * 32,
    )
    agent = sign_in(app, "agent")

    answer = agent.get("/console/desk/token")

    body = answer.get_json()
    claims = jwt.decode(body["token"], "s" * 32, algorithms=["HS256"])
    assert body["identity"] == staff_identity(staff_id(app, "agent"))
    assert claims["grants"]["identity"] == body["identity"]
    assert "twilio-voice.min.js" in text(agent.get("/console/desk"))


def test_the_wall_shows_who_waits_the_agents_and_the_live_calls_and_a_supervisor_listens_in(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    wall = sign_in(app, "supervisor")

    page = text(wall.get("/console/wall"))
    assert re.search(r'data-testid="waiting-fraud">1<', page)
    assert "Ringing an agent (Agent)" in page and "Ringing" in page
    assert ">offered<" not in page and "fraud</td>" not in page  # labels, never values

    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)
    live = text(wall.get("/console/wall/live"))
    assert "No live call." not in live and "Monitor" in live

    listened = wall.post(
        "/console/wall/supervise",
        data={"entry_id": entry_id, "mode": "monitor", "csrf_token": wall.csrf},
        follow_redirects=True,
    )
    assert "You are listening in; nobody hears you." in text(listened)
    desk.post("/console/desk/say", entry_id=entry_id, words="Un momento.")
    whispered = wall.post(
        "/console/wall/supervise",
        data={"entry_id": entry_id, "mode": "whisper", "csrf_token": wall.csrf},
        follow_redirects=True,
    )
    assert "You are coaching the agent" in text(whispered)
    assert re.search(r"You:</span> is coaching the agent", text(whispered))
    bad = wall.post(
        "/console/wall/supervise",
        data={"entry_id": entry_id, "mode": "shout", "csrf_token": wall.csrf},
        follow_redirects=True,
    )
    assert "Not done: mode: one of monitor, whisper, barge" in text(bad)
    with app.app_context():
        modes = [
            e.changes["mode"]
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "queue.supervised")
            )
        ]
        assert modes == ["monitor", "whisper"]


def test_the_dashboard_shows_service_level_abandonment_and_handle_time(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)
    clock.advance(90)
    desk.post("/console/desk/wrap-up", entry_id=entry_id, disposition="resolved")

    page = text(sign_in(app, "supervisor").get("/console/"))

    assert re.search(r'data-testid="service-level">100%<', page)  # answered at once
    assert re.search(r'data-testid="abandonment">0%<', page)
    assert re.search(r'data-testid="handle-time">1:30<', page)


def test_a_warm_transfer_rings_a_colleague_while_the_agent_stays_on_the_line(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)
    colleague = staff_id(app, "supervisor")
    with app.app_context():
        other = agents.profile(db.session, db.session.get_one(StaffUser, colleague))
        agents.set_presence(db.session, other, "available", actor=Actor("test"), now=clock())
        db.session.commit()
    assert "Supervisor</option>" in text(desk.get("/console/desk"))

    page = text(desk.post("/console/desk/transfer", entry_id=entry_id, to=f"agent:{colleague}"))

    assert "Transferring: your colleague's phone rings." in page and "Leave the call" in page
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        assert (entry.state, entry.agent_id) == (QueueState.OFFERED, colleague)
    # The router's ringer has rung the colleague's browser phone (once) into the same conference.
    room = simulator.conferences.find(entry_id)
    address = f"client:{staff_identity(colleague)}"
    assert [p.state for p in room.participants.values() if p.call.to == address] == ["ringing"]
    second = Recorder(sign_in(app, "supervisor"))
    assert "Giulia Rossi" in text(second.post("/console/desk/answer", entry_id=entry_id))
    assert agent_leg(simulator, entry_id, app, "supervisor").state == "joined"
    assert agent_leg(simulator, entry_id, app).state == "joined"  # both on the line: warm

    left = text(desk.post("/console/desk/leave"))

    assert "You left the call. Write the wrap-up of your part of it." in left
    assert agent_leg(simulator, entry_id, app).state == "left"
    page = text(second.post("/console/desk/wrap-up", entry_id=entry_id, disposition="confirmed"))
    assert "Wrapped up." in page
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == entry_id)
        ).all()
        assert "queue.transferred" in actions


def test_a_transfer_to_a_team_puts_the_caller_first_in_line_and_bad_targets_are_refused(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)

    nobody = desk.post("/console/desk/transfer", entry_id=entry_id, to=f"agent:{uuid.uuid4()}")
    garbled = desk.post("/console/desk/transfer", entry_id=entry_id, to="agent:nope")
    unknown = desk.post("/console/desk/transfer", entry_id=entry_id, to="boss")
    team = desk.post("/console/desk/transfer", entry_id=entry_id, to="skill:billing")
    away = desk.post(
        "/console/desk/transfer", entry_id=entry_id, to=f"agent:{staff_id(app, 'supervisor')}"
    )
    done = desk.post("/console/desk/transfer", entry_id=entry_id, to="skill:complaints")

    assert "Not transferred: no agent has this id" in text(nobody)
    assert "Not transferred: no agent has this id" in text(garbled)
    assert "Not transferred: to: a skill or an available agent" in text(unknown)
    assert "Not transferred: skill: one of" in text(team)
    assert "Not transferred: no agent has this id" in text(away)  # never took a call: no desk
    assert "the caller is first in line for that team" in text(done)
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        agent = db.session.get_one(Agent, staff_id(app, "agent"))
        assert (entry.state, entry.skill.value, entry.priority) == (
            QueueState.WAITING,
            "complaints",
            3,
        )
        assert agent.presence is Presence.WRAP_UP


def test_when_the_browser_phone_reports_first_the_desk_says_it_is_done(
    app, api, simulator, clock, dispatcher
):
    """On Twilio the phone's accept() or reject() reaches the queue through its status callback,
    and the desk's own click may come second: it says what happened, not an error."""
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    simulator.answer_participant(agent_leg(simulator, entry_id, app).sid)  # call.accept()

    answered = text(desk.post("/console/desk/answer", entry_id=entry_id))

    assert "You are on this call already." in answered and "Giulia Rossi" in answered


def test_when_the_browser_phone_declines_first_the_desk_says_it_is_done(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    simulator.decline_participant(agent_leg(simulator, entry_id, app).sid, "busy")  # reject()

    declined = text(desk.post("/console/desk/decline", entry_id=entry_id))

    assert "Declined: the caller goes to the next agent. You are away." in declined
    assert "Not declined" not in declined


def test_a_follow_up_needs_its_time_and_calls_back_then(app, api, simulator, clock, dispatcher):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)

    untimed = desk.post("/console/desk/wrap-up", entry_id=entry_id, disposition="follow_up")
    garbled = desk.post(
        "/console/desk/wrap-up", entry_id=entry_id, disposition="follow_up", follow_up_at="soon"
    )
    agreed = desk.post(
        "/console/desk/wrap-up",
        entry_id=entry_id,
        disposition="follow_up",
        follow_up_at="2026-11-24T15:30",  # the form's datetime-local, read as UTC
    )

    assert "Not saved: follow_up_at: a follow-up needs a time" in text(untimed)
    assert "Not saved: follow_up_at: a date between 1970 and 2999" in text(garbled)
    assert "Wrapped up." in text(agreed)
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        assert entry.follow_up_at.isoformat() == "2026-11-24T15:30:00+00:00"

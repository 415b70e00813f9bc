"""The desk and the wall with TELEPHONY=twilio: every request they make of Twilio (the ringer's
participant, hold, a supervisor joining and changing mode, the end of the talk) is checked
against Twilio's OpenAPI description by the loopback fake."""

from __future__ import annotations

from sqlalchemy import select

from app.agents import route_tick
from app.agents import service as agents
from app.agents.models import Presence, QueueEntry, QueueState
from app.audit.service import Actor
from app.extensions import db
from app.staff.models import Role, StaffUser
from app.staff.service import create_staff
from tests.agents.conftest import add_call
from tests.carriers.test_conference import ACCOUNT, TOKEN
from tests.conftest import make_app
from tests.console.conftest import PASSWORD, sign_in
from tests.support import ApiClient
from tests.telephony_fixtures import register_lines


def test_the_desk_and_the_wall_drive_twilios_conference(database_url, fake):
    app = make_app(
        database_url,
        TELEPHONY="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_API_BASE_URL=fake.url,
        PUBLIC_BASE_URL="https://calls.example.com",
    )
    register_lines(ApiClient(app.test_client()))
    with app.app_context():
        for role in (Role.AGENT, Role.SUPERVISOR):
            create_staff(
                db.session,
                email=f"{role.value}@bank.example",
                name=role.value.title(),
                role=role,
                password=PASSWORD,
                actor=Actor("test"),
            )
        staff = db.session.scalar(select(StaffUser).where(StaffUser.role == Role.AGENT))
        agent = agents.profile(db.session, staff)
        agents.set_skills(db.session, agent, ["general"], ["en"], actor=Actor("test"))
        agents.set_presence(db.session, agent, Presence.AVAILABLE, actor=Actor("test"), now=now())
        call = add_call(db.session)
        entry = agents.enqueue(
            db.session, call=call, skill="general", priority=2, locale="en", now=now()
        )
        # The caller waits in the conference named after their place (on Twilio's side).
        _, caller = fake.caller_waits(str(entry.id))
        call.sid = caller
        entry_id = entry.id
        db.session.commit()
        route_tick(app, "w1")  # offered, and the ringer adds the agent's phone
        ringing = db.session.get_one(QueueEntry, entry_id)
        assert ringing.state is QueueState.OFFERED and ringing.agent_call_sid
        agent_call = ringing.agent_call_sid

    desk, wall = sign_in(app, "agent"), sign_in(app, "supervisor")

    def post(client, path, **data):
        answer = client.post(path, data={**data, "csrf_token": client.csrf}, follow_redirects=True)
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    assert "Answered: you are on the call." in post(desk, "/console/desk/answer", entry_id=entry_id)
    assert "The customer is on hold." in post(desk, "/console/desk/hold", entry_id=entry_id, on="1")
    assert "You are listening in" in post(
        wall, "/console/wall/supervise", entry_id=entry_id, mode="monitor"
    )
    assert "You are coaching the agent" in post(
        wall, "/console/wall/supervise", entry_id=entry_id, mode="whisper"
    )
    assert "Hung up." in post(desk, "/console/desk/hang-up", entry_id=entry_id)

    assert fake.violations == []
    people = fake.conference_named(str(entry_id))["participants"]
    supervisors = [sid for sid, p in people.items() if p.get("label") == "supervisor"]
    assert len(supervisors) == 1  # whispering changed the supervisor's call, added none
    assert people[supervisors[0]]["coaching"] is True
    assert people[supervisors[0]]["call_sid_to_coach"] == agent_call
    removed = [r.path for r in fake.received if r.method == "DELETE"]
    assert any(caller in path for path in removed)  # the caller goes on with their flow
    assert any(agent_call in path for path in removed)
    with app.app_context():
        assert db.session.get_one(QueueEntry, entry_id).state is QueueState.ENDED
        db.session.remove()
        db.engine.dispose()


def now():
    from app import clock

    return clock.now()

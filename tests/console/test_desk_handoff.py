"""After a warm transfer, through the Flask client on both databases: the first agent's browser
phone hanging up (its status callback, as the simulator sends it) is their leaving the line; their
desk then asks for the wrap-up of their own part, which refuses a follow-up (the agent who ends
the call makes those) and decides nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.agents import service as agents
from app.agents.models import Handoff, Presence, QueueEntry, QueueState
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.models import Callback, CallbackStatus
from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import sign_in
from tests.console.test_desk import Recorder, agent_leg, ringing, staff_id, text

pytestmark = pytest.mark.usefixtures("accounts", "lines", "customer", "clock")


def test_the_first_agents_phone_hanging_up_opens_their_own_wrap_up(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    colleague = staff_id(app, "supervisor")
    with app.app_context():
        other = agents.profile(db.session, db.session.get_one(StaffUser, colleague))
        agents.set_presence(db.session, other, "available", actor=Actor("test"), now=clock())
        db.session.commit()
        matter = db.session.get_one(QueueEntry, uuid.UUID(entry_id)).callback_id
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)
    desk.post("/console/desk/transfer", entry_id=entry_id, to=f"agent:{colleague}")
    second = Recorder(sign_in(app, "supervisor"))
    second.post("/console/desk/answer", entry_id=entry_id)
    on_the_line = desk.get("/console/desk/state").get_json()
    assert on_the_line["still_on_a_line"] and on_the_line["entry"] is None

    # The agent hangs up their browser phone (not the desk's button): the carrier says so.
    simulator.participant_hangs_up(agent_leg(simulator, entry_id, app).sid)

    state = desk.get("/console/desk/state").get_json()
    assert not state["still_on_a_line"] and state["presence"] == "wrap_up"
    assert state["entry"]["handoff"] and not state["entry"]["wrapped"]
    assert state["signature"] != on_the_line["signature"]  # the page reloads by itself
    page = text(desk.get("/console/desk"))
    assert "Save the wrap-up" in page and "Follow-up callback at a time" not in page
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        assert (entry.state, entry.agent_id) == (QueueState.CONNECTED, colleague)  # still on

    refused = text(
        desk.post(
            "/console/desk/wrap-up",
            entry_id=entry_id,
            disposition="follow_up",
            follow_up_at="2026-12-01T10:00",
        )
    )
    assert "Not saved: disposition: you handed this caller on" in refused
    saved = text(
        desk.post(
            "/console/desk/wrap-up",
            entry_id=entry_id,
            disposition="resolved",
            notes="Introduced the customer to my supervisor.",
        )
    )

    assert "Wrapped up. You are available for the next caller." in saved
    with app.app_context():
        handoff = db.session.scalars(select(Handoff)).one()
        assert handoff.disposition.value == "resolved" and handoff.left_at is not None
        actions = [
            (event.action, event.actor)
            for event in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("queue.handoff%"))
                .order_by(AuditEvent.id)
            )
        ]
        assert actions == [
            ("queue.handoff_left", "system:router"),  # their phone's end, reported
            ("queue.handoff_wrapped_up", "staff:agent@bank.example"),
        ]
        assert db.session.get_one(Callback, matter).status is not CallbackStatus.DONE
        agent = agents.get_agent(db.session, staff_id(app, "agent"))
        assert agent.presence is Presence.AVAILABLE
    # Still the colleague's call: it goes on for them.
    assert "On the call" in text(second.get("/console/desk"))

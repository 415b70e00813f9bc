"""Satisfaction on the dashboard (the last 30 days, by call in words and by agent) and a
customer's feedback on their page."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.agents.models import Agent, QueueEntry, QueueState, Skill
from app.callbacks.models import Feedback, Satisfaction
from app.calls.models import Call, CallDirection, CallStatus
from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import sign_in
from tests.console.test_records import NOW, PHONE, add_customer

pytestmark = pytest.mark.usefixtures("accounts", "clock")


def text(answer) -> str:
    words = re.sub(r"<[^>]+>", " ", answer.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def add_call(customer_id: uuid.UUID, flow: str) -> uuid.UUID:
    call = Call(
        direction=CallDirection.OUTBOUND,
        from_number="+14155550100",
        to_number=PHONE,
        customer_id=customer_id,
        flow=flow,
        flow_version=1,
        locale="it",
        status=CallStatus.COMPLETED,
    )
    db.session.add(call)
    db.session.flush()
    return call.id


def answers(app, customer_id: uuid.UUID) -> None:
    """Three answers to the registration check (5, 4, 1), two to the unusual payment check
    (2 with the agent, and 5), and one 40 days ago that no longer counts."""
    with app.app_context():
        agent = db.session.scalars(select(StaffUser).where(StaffUser.role == "agent")).one()
        db.session.add(Agent(staff_id=agent.id))
        for flow, score, reason, days, with_agent in [
            ("registration_check", 5, None, 1, False),
            ("registration_check", 4, None, 2, False),
            ("registration_check", 1, "too_long", 3, False),
            ("transaction_alert", 2, "not_clear", 1, True),
            ("transaction_alert", 5, None, 1, False),
            ("transaction_alert", 1, "other", 40, False),
        ]:
            call_id = add_call(customer_id, flow)
            db.session.add(
                Satisfaction(
                    call_id=call_id,
                    flow=flow,
                    customer_id=customer_id,
                    score=score,
                    reason=reason,
                    created_at=NOW - timedelta(days=days),
                )
            )
            if with_agent:
                db.session.add(
                    QueueEntry(
                        call_id=call_id,
                        customer_id=customer_id,
                        skill=Skill.FRAUD,
                        priority=3,
                        locale="it",
                        entered_at=NOW - timedelta(days=days),
                        state=QueueState.ENDED,
                        agent_id=agent.id,
                        answered_at=NOW - timedelta(days=days),
                    )
                )
        db.session.commit()


def test_the_dashboard_shows_satisfaction_by_call_and_by_agent_in_words(app):
    answers(app, add_customer(app))
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get("/console/"))

    assert "Satisfaction over the last 30 days" in page
    # 5, 4 and 1: 3.3 on average, one answer in three was 1 or 2.
    assert "New registration check 3.3 of 5 3 33 %" in page
    # 2 and 5 (the answer of 40 days ago is left out): 3.5, half of them 1 or 2.
    assert "Unusual payment check 3.5 of 5 2 50 %" in page
    assert "registration_check" not in page
    assert "Agent 2 of 5 1 100 %" in page


def test_the_dashboard_speaks_the_readers_language(app):
    answers(app, add_customer(app))
    with app.app_context():
        me = db.session.scalars(select(StaffUser).where(StaffUser.role == "supervisor")).one()
        me.language = "it"
        db.session.commit()
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get("/console/"))

    assert "Soddisfazione negli ultimi 30 giorni" in page
    assert "Verifica di pagamento insolito 3,5 su 5" in page
    assert "3,3 su 5" in page and "registration_check" not in page


def test_with_no_answers_the_dashboard_says_so(app):
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get("/console/"))

    assert "No answers yet." in page


def test_a_customers_page_shows_their_feedback(app):
    customer_id = add_customer(app)
    with app.app_context():
        db.session.add(
            Feedback(
                customer_id=customer_id,
                rating=2,
                text="The app <b>froze</b>",
                call_me=True,
                channel="app",
                event_id="fb-1",
                created_at=NOW - timedelta(hours=1),
            )
        )
        db.session.commit()
    auditor = sign_in(app, "auditor")

    answer = auditor.get(f"/console/customers/{customer_id}")

    assert "<b>froze" not in answer.get_data(as_text=True)  # their words, escaped
    page = text(answer)
    assert "2 of 5 · asked us to call In the app The app <b>froze</b>" in page

"""A warm transfer at two desks in a real browser (Debian's chromium via Playwright): the agent
hands the verified customer to a colleague, stays on the line to introduce them, leaves the call
and writes the wrap-up of their own part (which decides nothing); the colleague, who ends the
call, decides the matter with theirs."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.agents import service as agents
from app.agents.models import Disposition, Handoff, Presence, QueueEntry
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.models import Callback, CallbackStatus
from app.extensions import db
from app.staff.models import StaffUser
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import sign_in_in_a_browser
from tests.console.test_desk import agent_leg, ringing, staff_id

pytestmark = [pytest.mark.usefixtures("accounts", "lines", "customer"), pytest.mark.browser]


def at_the_desk(browser, served: str, role: str, app):
    """A member of staff signed in at their desk, in a browser of their own."""
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    sign_in_in_a_browser(page, app, served, f"{role}@bank.example")
    page.goto(f"{served}/console/desk")
    return page


def test_the_first_agent_leaves_after_a_transfer_and_wraps_up_their_own_part(
    app, api, simulator, clock, dispatcher, browser, served, tmp_path
):
    shots = screenshots(tmp_path)
    entry_id = ringing(app, api, simulator, dispatcher)
    colleague = staff_id(app, "supervisor")
    with app.app_context():
        other = agents.profile(db.session, db.session.get_one(StaffUser, colleague))
        agents.set_skills(db.session, other, ["fraud"], ["it"], actor=Actor("test"))
        agents.set_presence(db.session, other, Presence.AVAILABLE, actor=Actor("test"), now=clock())
        db.session.commit()
        matter = db.session.get_one(QueueEntry, uuid.UUID(entry_id)).callback_id

    # The agent answers, then hands the customer to their colleague, whose desk rings.
    desk = at_the_desk(browser, served, "agent", app)
    desk.get_by_role("button", name="Answer").click()
    desk.get_by_test_id("pop").wait_for()
    desk.get_by_label("Warm transfer to").select_option(label="Supervisor")
    desk.get_by_role("button", name="Transfer").click()
    desk.get_by_text("Transferring: your colleague's phone rings.", exact=False).wait_for()
    second = at_the_desk(browser, served, "supervisor", app)
    second.get_by_role("button", name="Answer").click()
    second.get_by_test_id("pop").wait_for()
    assert agent_leg(simulator, entry_id, app).state == "joined"  # both on the line: warm

    # Introduced: the agent leaves the call; the wrap-up of their part is theirs to write.
    desk.reload()
    desk.get_by_test_id("handed-on").wait_for()
    desk.get_by_role("button", name="Leave the call").click()
    desk.get_by_text("You left the call. Write the wrap-up of your part of it.").wait_for()
    assert agent_leg(simulator, entry_id, app).state == "left"
    assert desk.get_by_test_id("pop").get_by_role("heading", level=2).text_content() == (
        "Call ended"
    )
    desk.screenshot(path=str(shots / "handoff-desk-wrap-up.png"), full_page=True)
    check_accessibility(desk, "the desk, the wrap-up of a handed-on call")
    assert desk.get_by_label("Follow-up callback at a time").count() == 0  # not theirs to make
    desk.get_by_label("Resolved").check()
    desk.get_by_label("Notes").fill("Card blocked; the refund is with the fraud team.")
    desk.get_by_role("button", name="Save the wrap-up").click()
    desk.get_by_text("Wrapped up. You are available for the next caller.").wait_for()
    assert desk.get_by_test_id("presence").text_content() == "Available"
    with app.app_context():
        handoff = db.session.scalars(select(Handoff)).one()
        assert (handoff.disposition, handoff.notes) == (
            Disposition.RESOLVED,
            "Card blocked; the refund is with the fraud team.",
        )
        [hers] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "queue.handoff_wrapped_up")
        ).all()
        assert hers.actor == "staff:agent@bank.example"
        assert db.session.get_one(Callback, matter).status is not CallbackStatus.DONE

    # The colleague ends the call: their wrap-up decides the matter.
    second.reload()
    second.get_by_label("Confirmed by the customer").check()
    second.get_by_role("button", name="Save the wrap-up").click()
    second.get_by_text("Wrapped up. You are available for the next caller.").wait_for()
    second.screenshot(path=str(shots / "handoff-colleague-wrapped.png"), full_page=True)
    with app.app_context():
        done = db.session.get_one(Callback, matter)
        assert (done.status, done.outcome.value) == (CallbackStatus.DONE, "confirmed")
        [theirs] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "queue.wrapped_up")
        ).all()
        assert theirs.actor == "staff:supervisor@bank.example"

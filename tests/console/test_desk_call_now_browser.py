"""Progressive dialing in two real browser pages (Debian's chromium via Playwright): an agent
presses "Call now" on a callback's page; their desk says "Calling the customer…" while we call
the customer, who answers on the softphone and keys the app's code; only then does the desk
ring, the agent answers, the screen pop says the customer was verified by the app's code, and
the agent wraps up. The desk is checked with axe-core while it waits for the customer."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.agents import route_tick
from app.agents import service as agents
from app.agents.models import Presence, QueueEntry, QueueState
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.dialer import Dispatcher
from app.callbacks.models import Callback, CallbackStatus
from app.callbacks.service import AGENT_CALLBACK_FLOW
from app.calls.service import CallUrls
from app.carriers.service import telephony_for
from app.carriers.simulator import WsgiTransport
from app.extensions import db
from app.flows.registry import flows
from app.staff.models import StaffUser
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import PASSWORD
from tests.console.test_desk import flagged_payment
from tests.telephony_fixtures import VALID_CODE, accept_valid_code

pytestmark = [pytest.mark.usefixtures("accounts", "lines", "customer"), pytest.mark.browser]


@pytest.fixture
def matter(app, api, clock) -> uuid.UUID:
    """A flagged payment's callback, not dialed yet; the agent of the fraud team who speaks
    Italian is available; the simulator plays calls in process, and the customer's app shows
    a valid code."""
    callback_id = flagged_payment(api)
    app.extensions["code_checker"] = accept_valid_code
    carrier = telephony_for(app)
    carrier.transport = WsgiTransport(app)  # in-process instead of HTTP to PUBLIC_BASE_URL
    carrier.synchronous = True
    with app.app_context():
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email == "agent@bank.example"))
        agent = agents.profile(db.session, staff)
        agents.set_skills(db.session, agent, ["fraud"], ["it"], actor=Actor("test"))
        agents.set_presence(db.session, agent, Presence.AVAILABLE, actor=Actor("test"), now=clock())
        db.session.commit()
    return uuid.UUID(callback_id)


def dispatch(app, clock) -> int:
    """The worker's dispatch tick: our calls due now are placed."""
    with app.app_context():
        return Dispatcher(
            session=db.session,
            policy=app.extensions["callback_policy"],
            telephony=telephony_for(app),
            urls=CallUrls(app),
            flows=flows(),
            worker="w1",
            now=clock,
            sleep=clock.advance,
        ).dispatch()


def test_call_now_calls_the_customer_and_rings_the_desk_once_they_have_verified(
    app, browser, served, matter, clock, tmp_path
):
    shots = screenshots(tmp_path)
    desk = browser.new_page(viewport={"width": 1280, "height": 1000})
    desk.goto(f"{served}/console/")
    desk.get_by_label("Email").fill("agent@bank.example")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()

    # 1. On the callback's page, the agent presses "Call now": their desk waits for the customer.
    desk.goto(f"{served}/console/callbacks/{matter}")
    desk.get_by_role("link", name="Call now…").click()
    desk.get_by_role("heading", name="Call the customer now?").wait_for()
    desk.get_by_role("button", name="Yes, call now").click()
    desk.get_by_text(
        "We are calling the customer: your desk rings once they have verified."
    ).wait_for()
    calling = desk.get_by_test_id("calling")
    assert calling.get_by_role("heading").text_content() == "Calling the customer…"
    desk.screenshot(path=str(shots / "call-now-desk-calling.png"), full_page=True)
    check_accessibility(desk, "the desk, calling the customer")
    with app.app_context():
        [ours] = db.session.scalars(
            select(Callback).where(Callback.flow == AGENT_CALLBACK_FLOW)
        ).all()
        assert ours.status is CallbackStatus.QUEUED
        assert ours.variables["matter_id"] == str(matter)

    # 2. The worker places our call (not the matter's own): it rings on the customer's softphone.
    phone = browser.new_page(viewport={"width": 900, "height": 1000})
    phone.goto(f"{served}/simulator/phone")
    assert dispatch(app, clock) == 1
    answer = phone.get_by_role("button", name="Answer")
    answer.wait_for(timeout=10_000)
    phone.screenshot(path=str(shots / "call-now-softphone-ringing.png"), full_page=True)
    # The desk still says so while we call and verify the customer.
    desk.reload()
    assert desk.get_by_test_id("calling").get_by_role("heading").text_content() == (
        "Calling the customer…"
    )
    assert desk.get_by_test_id("offer").count() == 0

    # 3. The customer answers, hears who we are, and keys the code their app shows.
    answer.click()
    transcript = phone.locator("#transcript")
    transcript.get_by_text("digiti sulla tastiera il codice", exact=False).wait_for()
    for key in VALID_CODE:
        phone.locator(f"#keypad button[data-key='{key}']").click()
    phone.get_by_role("button", name="Send keys").click()
    transcript.get_by_text("Resti in linea", exact=False).wait_for()
    phone.locator("#call-summary").filter(has_text="waiting for a person").wait_for()
    phone.screenshot(path=str(shots / "call-now-softphone-verified.png"), full_page=True)

    # 4. Only now does the desk ring (the caller is kept for this agent); they answer.
    with app.app_context():
        entry = db.session.scalars(select(QueueEntry)).one()
        assert entry.verified_by == "app_code" and entry.state is QueueState.WAITING
        route_tick(app, "w1")
    desk.get_by_test_id("offer").wait_for(timeout=10_000)
    assert desk.get_by_test_id("calling").count() == 0
    desk.screenshot(path=str(shots / "call-now-desk-ringing.png"), full_page=True)
    desk.get_by_role("button", name="Answer").click()

    # 5. The screen pop: verified by the app's code, the matter; no digit the customer typed.
    desk.get_by_test_id("pop").wait_for()
    assert desk.get_by_test_id("verification").text_content().startswith("Verified by app code")
    assert "Electro Shop" in desk.get_by_test_id("matter").text_content()
    assert VALID_CODE not in desk.content()
    desk.get_by_label("What you say").fill("Buongiorno, sono Anna della banca.")
    desk.get_by_role("button", name="Say").click()
    transcript.get_by_text("Buongiorno, sono Anna della banca.").wait_for(timeout=10_000)
    desk.screenshot(path=str(shots / "call-now-desk-pop.png"), full_page=True)

    # 6. The wrap-up decides the matter; the customer's call goes on to its goodbye.
    desk.get_by_label("Confirmed by the customer").check()
    desk.get_by_label("Notes").fill("The customer made the payment at Electro Shop.")
    desk.get_by_role("button", name="Save the wrap-up").click()
    desk.get_by_text("Wrapped up. You are available for the next caller.").wait_for()
    phone.locator("#call-summary").filter(has_text="ended").wait_for(timeout=10_000)
    desk.screenshot(path=str(shots / "call-now-desk-wrapped.png"), full_page=True)
    with app.app_context():
        done = db.session.get_one(Callback, matter)
        assert (done.status, done.outcome.value) == (CallbackStatus.DONE, "confirmed")
        [wrapped] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "queue.wrapped_up")
        ).all()
        assert wrapped.actor == "staff:agent@bank.example"
        [asked] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "agent.call_now")
        ).all()
        assert asked.actor == "staff:agent@bank.example"

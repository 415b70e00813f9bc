"""Issue 17's promise, in two real browser pages (Debian's chromium via Playwright): a customer on
the softphone and an agent at the desk.

We call the customer about a flagged payment; on the softphone they key the app's code and press
0; the desk rings and the agent answers; the screen pop says "verified" and shows the matter, and
no digit the customer typed is on the desk's page or in any response it received; the agent
talks, the customer reads it, the agent wraps up "confirmed"; the callback's outcome and the
audit log show it. Screenshots go to tests/artifacts/ (not committed).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from app.agents import route_tick
from app.agents import service as agents
from app.agents.models import Presence, QueueEntry, QueueState
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.dialer import Dispatcher
from app.callbacks.models import Callback
from app.calls.service import CallUrls
from app.carriers.service import telephony_for
from app.carriers.simulator import WsgiTransport
from app.extensions import db
from app.flows.registry import flows
from app.staff.models import StaffUser
from tests.console.conftest import PASSWORD
from tests.console.test_desk import flagged_payment
from tests.telephony_fixtures import VALID_CODE, accept_valid_code

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = [pytest.mark.usefixtures("accounts", "lines", "customer"), pytest.mark.browser]


def body_of(response) -> str:
    """What the desk's page received in one response (its documents and requests; not the
    scripts and styles, nor a redirect, which has no body)."""
    if response.request.resource_type not in ("document", "fetch", "xhr"):
        return ""
    if 300 <= response.status < 400:
        return ""
    return response.text()


@pytest.fixture
def verification_call(app, api, clock):
    """An agent of the fraud team who speaks Italian is available; we call the customer about
    a flagged payment, and the call rings on the softphone (nobody scripted to answer it)."""
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
        dispatched = Dispatcher(
            session=db.session,
            policy=app.extensions["callback_policy"],
            telephony=carrier,
            urls=CallUrls(app),
            flows=flows(),
            worker="w1",
            now=clock,
            sleep=clock.advance,
        ).dispatch()
        assert dispatched == 1
    return uuid.UUID(callback_id)


def test_the_customer_presses_0_and_the_agent_takes_the_call_verified_and_wraps_it_up(
    app, browser, served, verification_call, clock
):
    ARTIFACTS.mkdir(exist_ok=True)
    # The agent at their desk; every response their page receives is kept.
    desk = browser.new_page(viewport={"width": 1280, "height": 1100})
    received: list[str] = []
    desk.on("response", lambda response: received.append(body_of(response)))
    desk.goto(f"{served}/console/")
    desk.get_by_label("Email").fill("agent@bank.example")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_role("link", name="Desk").click()
    desk.get_by_test_id("idle").wait_for()

    # 1. The customer takes the verification call, keys the app's code and presses 0.
    phone = browser.new_page(viewport={"width": 900, "height": 1000})
    phone.goto(f"{served}/simulator/phone")
    phone.get_by_role("button", name="Answer").click()
    transcript = phone.locator("#transcript")
    transcript.get_by_text("Electro Shop", exact=False).wait_for()
    for key in VALID_CODE:
        phone.locator(f"#keypad button[data-key='{key}']").click()
    phone.get_by_role("button", name="Send keys").click()
    transcript.get_by_text("prema 0", exact=False).wait_for()
    phone.locator("#keypad button[data-key='0']").click()
    phone.get_by_role("button", name="Send keys").click()
    phone.locator("#call-summary").filter(has_text="waiting for a person").wait_for()

    # 2. The route tick offers the caller to the agent: the desk rings; the agent answers.
    with app.app_context():
        route_tick(app, "w1")
    desk.get_by_test_id("offer").wait_for(timeout=10_000)
    assert desk.get_by_test_id("offer-language").text_content() == "Italian"
    desk.screenshot(path=str(ARTIFACTS / "two-pages-desk-ringing.png"), full_page=True)
    desk.get_by_role("button", name="Answer").click()

    # 3. The pop: verified, the matter; the agent talks and the customer reads it.
    desk.get_by_test_id("pop").wait_for()
    assert desk.get_by_test_id("verification").text_content().startswith("Verified by app code")
    assert "Electro Shop" in desk.get_by_test_id("matter").text_content()
    assert "900" in desk.get_by_test_id("matter").text_content()
    desk.get_by_label("What you say").fill("Buongiorno, sono Anna della banca.")
    desk.get_by_role("button", name="Say").click()
    transcript.get_by_text("Buongiorno, sono Anna della banca.").wait_for(timeout=10_000)
    desk.screenshot(path=str(ARTIFACTS / "two-pages-desk-pop.png"), full_page=True)
    phone.screenshot(path=str(ARTIFACTS / "two-pages-softphone.png"), full_page=True)
    assert VALID_CODE not in desk.content()

    # 4. The agent wraps up "confirmed"; the customer's call goes on to its goodbye and ends.
    desk.get_by_label("Confirmed by the customer").check()
    desk.get_by_label("Notes").fill("The customer made the payment at Electro Shop.")
    desk.get_by_role("button", name="Save the wrap-up").click()
    desk.get_by_text("Wrapped up. You are available for the next caller.").wait_for()
    phone.locator("#call-summary").filter(has_text="ended").wait_for(timeout=10_000)
    phone.screenshot(path=str(ARTIFACTS / "two-pages-softphone-ended.png"), full_page=True)

    # 5. The callback's outcome and the audit log show it, on the console too.
    with app.app_context():
        entry = db.session.scalars(select(QueueEntry)).one()
        assert entry.state is QueueState.ENDED and entry.disposition.value == "confirmed"
        callback = db.session.get_one(Callback, verification_call)
        assert callback.outcome.value == "confirmed"
        [wrapped] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "queue.wrapped_up")
        ).all()
        assert wrapped.changes["disposition"] == "confirmed"
        assert wrapped.actor == "staff:agent@bank.example"
    desk.goto(f"{served}/console/callbacks/{verification_call}")
    assert "Confirmed by the customer" in desk.locator("main").inner_text()
    desk.goto(f"{served}/console/audit?action=queue.wrapped_up")
    assert "Confirmed by the customer" in desk.locator("main").inner_text()
    desk.screenshot(path=str(ARTIFACTS / "two-pages-audit.png"), full_page=True)

    # No digit the customer typed reached the desk's page or anything it received.
    bodies = [body for body in received if body]
    assert len(bodies) >= 8  # pages, the state polled, the forms' answers
    assert any("Electro Shop" in body and "Giulia Rossi" in body for body in bodies)
    assert not [body for body in bodies if VALID_CODE in body]

"""The agent desk and the supervisor's wall in a real browser (Debian's chromium via Playwright):
the desk rings, the agent answers and sees the screen pop, a wrap-up note with a card number is
refused on the screen; the wall shows the caller and the agents. Screenshots go to
tests/artifacts/ (not committed); no response the desk's page receives carries the code the
caller typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.conftest import PASSWORD, pass_second_step
from tests.console.test_desk import ringing
from tests.telephony_fixtures import VALID_CODE

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = [
    pytest.mark.usefixtures("accounts", "lines", "customer", "clock"),
    pytest.mark.browser,
]


def signed_in(browser, served, email: str, app=None):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{served}/console/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if app is not None:  # an account with a second factor (a supervisor's)
        pass_second_step(page, app, email)
    page.get_by_role("heading", name="Dashboard").wait_for()
    return page


def test_the_desk_rings_pops_the_caller_and_refuses_a_card_number_in_the_notes(
    browser, served, app, api, simulator, clock, dispatcher
):
    ARTIFACTS.mkdir(exist_ok=True)
    page = signed_in(browser, served, "agent@bank.example")
    responses = []
    page.on("response", lambda response: responses.append(response))
    entry_id = ringing(app, api, simulator, dispatcher)

    page.get_by_role("link", name="Desk").click()
    offer = page.get_by_test_id("offer")
    offer.wait_for()
    assert page.get_by_test_id("offer-language").text_content() == "Italian"
    assert page.get_by_test_id("offer-skill").text_content() == "Fraud"
    page.screenshot(path=str(ARTIFACTS / "desk-ringing.png"), full_page=True)

    page.get_by_role("button", name="Answer").click()
    page.get_by_test_id("pop").wait_for()
    assert page.get_by_test_id("customer").text_content() == "Giulia Rossi"
    assert page.get_by_test_id("verification").text_content().startswith("Verified by app code")
    assert "Electro Shop" in page.get_by_test_id("matter").text_content()
    assert "never ask" in page.get_by_test_id("never-ask").text_content()
    page.get_by_label("What you say").fill("Buongiorno, sono Anna della banca.")
    page.get_by_role("button", name="Say").click()
    page.get_by_test_id("line-log").filter(has_text="Buongiorno, sono Anna").wait_for()
    page.screenshot(path=str(ARTIFACTS / "desk-pop.png"), full_page=True)

    page.get_by_label("Confirmed by the customer").check()
    page.get_by_label("Notes").fill("She read her card out: 4111 1111 1111 1111")
    page.get_by_role("button", name="Save the wrap-up").click()
    page.get_by_role("alert").filter(
        has_text="the notes look like they hold a card number"
    ).wait_for()
    assert page.get_by_test_id("wrap-up").is_visible()
    page.screenshot(path=str(ARTIFACTS / "desk-wrap-up-refused.png"), full_page=True)

    seen = [
        r.text()
        for r in responses
        if r.request.resource_type in ("document", "fetch", "xhr") and not 300 <= r.status < 400
    ]
    assert len(seen) >= 4 and all(VALID_CODE not in body for body in seen)
    assert entry_id not in page.get_by_test_id("pop").text_content()  # ids stay in the markup


def test_the_wall_shows_the_waiting_caller_and_the_agents(
    browser, served, app, api, simulator, clock, dispatcher
):
    ARTIFACTS.mkdir(exist_ok=True)
    ringing(app, api, simulator, dispatcher)
    page = signed_in(browser, served, "supervisor@bank.example", app)

    page.get_by_role("link", name="Wall").click()
    page.get_by_role("heading", name="The wall").wait_for()
    assert page.get_by_test_id("waiting-fraud").text_content() == "1"
    assert "Ringing" in page.get_by_test_id("agents").text_content()
    page.screenshot(path=str(ARTIFACTS / "wall.png"), full_page=True)

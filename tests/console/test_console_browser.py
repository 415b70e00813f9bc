"""A supervisor in a real browser (Debian's chromium via Playwright): signs in, creates a
campaign from a CSV with bad rows, reads the pre-flight, starts it, watches it complete with the
simulator answering, pauses and resumes another, and opens the dashboard. Screenshots go to
tests/artifacts/ (not committed)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from app.callbacks.dialer import Dispatcher
from app.calls.service import CallUrls
from app.campaigns import service as campaigns
from app.carriers.signatures import signing_token
from app.carriers.simulator import CalleeScript, SimulatorTelephony, WsgiTransport
from app.extensions import db
from app.flows.registry import flows
from tests.console.conftest import PASSWORD, pass_second_step
from tests.engine_fixtures import Clock

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = [pytest.mark.usefixtures("lines", "accounts"), pytest.mark.browser]
CSV = "external_id\nb1\nb2\nb3\nghost\nb1\n"


@pytest.fixture
def worker(app, api):
    """The worker, in a thread: dispatch and campaign ticks, the simulator answering "1", "5"."""
    for i in (1, 2, 3):
        api.post("/api/v1/customers", json={"external_id": f"b{i}", "phone": f"+39 333 200 000{i}"})
    clock = Clock(datetime.combine(datetime.now(UTC).date(), time(10, 0), tzinfo=UTC))
    app.extensions["clock"] = clock
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app), auth_token=signing_token(app.config), synchronous=True
    )
    carrier.default_script = CalleeScript(keys=["1", "5"])
    app.extensions["telephony"] = carrier
    app.extensions["code_checker"] = lambda session, call, code: False
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            with app.app_context():
                try:
                    Dispatcher(
                        session=db.session,
                        policy=app.extensions["callback_policy"],
                        telephony=carrier,
                        urls=CallUrls(app),
                        flows=flows(),
                        worker="browser-test",
                        now=clock,
                        sleep=clock.advance,
                    ).dispatch()
                    campaigns.tick(
                        db.session, policy=app.extensions["callback_policy"], now=clock()
                    )
                finally:
                    db.session.remove()
            clock.advance(1)
            stop.wait(0.3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield clock
    stop.set()
    thread.join(timeout=10)


def test_a_supervisor_runs_a_campaign_and_watches_the_dashboard(
    app, browser, served, worker, tmp_path
):
    ARTIFACTS.mkdir(exist_ok=True)
    csv_file = tmp_path / "audience.csv"
    csv_file.write_text(CSV)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    page.goto(f"{served}/console/")
    page.get_by_label("Email").fill("supervisor@bank.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, app, "supervisor@bank.example")
    page.get_by_role("heading", name="Dashboard").wait_for()

    # A campaign from a CSV with two bad rows (an unknown id, a duplicate).
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Card renewal")
    page.get_by_label("What it is about (English)").fill("your new card is on its way")
    page.get_by_label("In Italiano").fill("la sua nuova carta è in arrivo")
    page.get_by_label("Audience: CSV").set_input_files(str(csv_file))
    page.get_by_role("button", name="Create campaign").click()
    page.get_by_test_id("preflight").wait_for()
    assert page.get_by_test_id("audience").text_content() == "3"
    assert page.get_by_test_id("will-call").text_content() == "3"
    assert page.get_by_test_id("rows-read").text_content() == "5"
    assert page.get_by_test_id("rows-unusable").text_content() == "2"
    assert "No customer has this external_id" in page.get_by_test_id("row-errors").text_content()
    page.screenshot(path=str(ARTIFACTS / "campaign-preflight.png"), full_page=True)

    page.get_by_role("button", name="Start").click()
    page.get_by_test_id("campaign-status").filter(has_text="completed").wait_for(timeout=30_000)
    assert page.get_by_test_id("progress").get_attribute("aria-valuenow") == "100"
    assert page.get_by_test_id("outcome-confirmed").text_content() == "3"
    page.screenshot(path=str(ARTIFACTS / "campaign-completed.png"), full_page=True)

    # Another campaign: paused at once, then resumed.
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Reminder")
    page.get_by_label("What it is about (English)").fill("a reminder about your statement")
    page.get_by_label("In Italiano").fill("un promemoria sul suo estratto conto")
    page.get_by_label("Audience: CSV").set_input_files(str(csv_file))
    page.get_by_label("Starts", exact=True).fill(
        datetime.now(UTC).date().replace(year=2099).isoformat()
    )
    page.get_by_label("Ends", exact=True).fill(
        datetime.now(UTC).date().replace(year=2100).isoformat()
    )
    page.get_by_role("button", name="Create campaign").click()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("status").filter(has_text="Scheduled:").wait_for()
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("status").filter(has_text="Paused:").wait_for()
    assert page.get_by_test_id("campaign-status").get_attribute("data-status") == "paused"
    page.get_by_role("button", name="Resume").click()
    page.get_by_role("status").filter(has_text="Resumed:").wait_for()
    assert page.get_by_test_id("campaign-status").get_attribute("data-status") == "scheduled"

    # The dashboard refreshes by itself and draws its charts.
    page.get_by_role("link", name="Dashboard").click()
    page.locator("#outcomes").wait_for()
    assert page.get_by_test_id("satisfaction").text_content() == "5.0"
    page.wait_for_function("() => Chart.getChart('outcomes') !== undefined")
    before = page.evaluate("() => Chart.getChart('outcomes').id")
    page.wait_for_function(f"() => Chart.getChart('outcomes').id !== {before}", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_a_form_error_is_shown_on_the_screen(app, browser, served):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 700})
    page.goto(f"{served}/console/")
    page.get_by_label("Email").fill("supervisor@bank.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, app, "supervisor@bank.example")
    page.get_by_role("heading", name="Dashboard").wait_for()

    page.get_by_role("link", name="Do not call").click()
    page.get_by_label("Number", exact=True).fill("call me maybe")
    page.get_by_role("button", name="Add").click()

    page.get_by_role("alert").filter(has_text="Not saved: phone:").wait_for()
    assert page.url.endswith("/console/do-not-call")
    page.screenshot(path=str(ARTIFACTS / "do-not-call-error.png"), full_page=True)

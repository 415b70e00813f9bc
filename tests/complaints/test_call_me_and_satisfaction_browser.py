"""The complaint's page paths in a real browser (Debian's chromium via Playwright), in Italian and
Polish: a person files a complaint asking to be called back; once it is closed, the link in the
text they receive opens the satisfaction page, where a low score asks what went wrong.
Screenshots go to tests/artifacts/ (not committed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.callbacks.models import Satisfaction
from app.complaints.models import Complaint
from app.extensions import db
from tests.browser_fixtures import check_accessibility
from tests.engine_fixtures import send_outbox

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = [pytest.mark.usefixtures("lines", "clock"), pytest.mark.browser]


@pytest.mark.parametrize(
    ("lang", "phone", "e164", "call_me", "filed", "we_call", "thanks"),
    [
        (
            "it", "333 123 4567", "+393331234567", "Vorrei una chiamata", "Il riferimento",
            "Il nostro ufficio reclami La richiamerà", "Grazie",
        ),
        (
            "pl", "601 234 567", "+48601234567", "Proszę o telefon", "Numer reklamacji",
            "Nasz dział reklamacji oddzwoni", "Dziękujemy",
        ),
    ],
)  # fmt: skip
def test_a_complaint_that_asks_for_a_call_is_closed_and_its_link_asks_how_satisfied(
    browser,
    served,
    api,
    app,
    simulator,
    clock,
    lang,
    phone,
    e164,
    call_me,
    filed,
    we_call,
    thanks,
):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(locale={"it": "it-IT", "pl": "pl-PL"}[lang])
    page.goto(f"{served}/complaints")
    assert page.locator("html").get_attribute("lang") == lang
    check_accessibility(page, "the complaint form")

    page.locator("#phone").fill(phone)
    page.locator("#text").fill("Two charges for one purchase.")
    box = page.locator("#call-me")
    assert call_me in page.locator("label.check").text_content()  # the reader's words
    box.check()
    page.locator("#call-me").locator("xpath=ancestor::form").locator("button").click()

    answer = page.get_by_test_id("filed")
    assert filed in answer.text_content() and we_call in answer.text_content()
    reference = answer.get_attribute("data-reference")
    page.screenshot(path=str(ARTIFACTS / f"complaint-call-me-{lang}.png"), full_page=True)
    with app.app_context():
        complaint = db.session.scalars(sa.select(Complaint)).one()
        assert (complaint.reference, complaint.phone, complaint.call_me) == (reference, e164, True)

    for status in ("acknowledged", "resolved", "closed"):
        path = f"/api/v1/complaint-queue/{reference}"
        assert api.patch(path, json={"status": status}).status_code == 200
    send_outbox(app, clock)
    (text,) = [m for m in simulator.messages if "/satisfaction/" in m["body"]]
    assert text["to"] == e164 and reference in text["body"]
    link = re.search(r"https?://\S+", text["body"]).group()
    page.goto(f"{served}/{link.split('://', 1)[1].split('/', 1)[1]}")

    assert reference in page.locator("main").text_content()
    check_accessibility(page, "the satisfaction question")
    page.locator("input[name=score][value='2']").check()
    page.locator("#reason").select_option(index=1)  # the first reason, in the reader's words
    reason_shown = page.locator("#reason option").nth(1).text_content()
    assert reason_shown and "_" not in reason_shown
    page.screenshot(path=str(ARTIFACTS / f"satisfaction-{lang}.png"), full_page=True)
    page.locator("form button[type=submit]").click()

    assert thanks in page.get_by_test_id("thanks").text_content()
    check_accessibility(page, "the thanks")
    with app.app_context():
        kept = db.session.scalars(sa.select(Satisfaction)).one()
        assert (kept.complaint_reference, kept.score) == (reference, 2) and kept.reason

"""A person takes a simulated call in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import pytest

from app.calls.models import Call
from app.extensions import db
from tests.softphone.test_softphone import ringing as ringing  # the fixture
from tests.telephony_fixtures import VALID_CODE

pytestmark = [pytest.mark.usefixtures("lines", "customer"), pytest.mark.browser]


def test_a_person_answers_reads_the_prompts_and_uses_the_keypad(
    app,
    browser,
    served,
    ringing,
    tmp_path,
):
    call_id, _ = ringing
    page = browser.new_page()
    page.goto(f"{served}/simulator/phone")

    page.get_by_role("button", name="Answer").click()
    transcript = page.locator("#transcript")
    transcript.get_by_text("Caffè Roma", exact=False).wait_for()
    for key in VALID_CODE:
        page.locator(f"#keypad button[data-key='{key}']").click()
    assert page.get_by_test_id("entry").text_content() == VALID_CODE
    page.get_by_role("button", name="Send keys").click()
    transcript.get_by_text("prema 1", exact=False).wait_for()
    page.locator("#keypad button[data-key='1']").click()
    page.get_by_role("button", name="Send keys").click()
    transcript.get_by_text("Grazie, è confermato", exact=False).wait_for()
    transcript.get_by_text("come valuta questa chiamata", exact=False).wait_for()
    page.locator("#keypad button[data-key='5']").click()  # the satisfaction question
    page.get_by_role("button", name="Send keys").click()
    page.locator("#call-summary").get_by_text("ended", exact=False).wait_for()
    page.screenshot(path=str(tmp_path / "softphone.png"), full_page=True)

    assert "ended" in page.locator("#call-summary").text_content()
    assert page.get_by_role("button", name="Send keys").is_disabled()
    with app.app_context():
        assert db.session.get_one(Call, call_id).outcome == "confirmed"


def test_a_person_answers_the_menu_by_saying_a_word(app, browser, served, ringing):
    call_id, _ = ringing
    page = browser.new_page()
    page.goto(f"{served}/simulator/phone")

    page.get_by_role("button", name="Answer").click()
    transcript = page.locator("#transcript")
    transcript.get_by_text("Caffè Roma", exact=False).wait_for()
    for key in VALID_CODE:
        page.locator(f"#keypad button[data-key='{key}']").click()
    page.get_by_role("button", name="Send keys").click()
    transcript.get_by_text("prema 1", exact=False).wait_for()
    page.get_by_label("Say").fill("non ero io")
    page.get_by_role("button", name="Say it").click()
    transcript.get_by_text("non ero io", exact=False).wait_for()
    transcript.get_by_text("come valuta questa chiamata", exact=False).wait_for()
    page.get_by_label("Say").fill("cinque")  # the satisfaction question, answered in words
    page.get_by_role("button", name="Say it").click()
    page.locator("#call-summary").get_by_text("ended", exact=False).wait_for()

    assert page.get_by_role("button", name="Say it").is_disabled()
    with app.app_context():
        assert db.session.get_one(Call, call_id).outcome == "denied"

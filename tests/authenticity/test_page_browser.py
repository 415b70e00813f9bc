"""The public page in a real browser (Debian's chromium via Playwright), in two languages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.usefixtures("lines"), pytest.mark.browser]


@pytest.mark.parametrize(
    ("lang", "button", "report_button", "yes", "no", "thanks"),
    [
        (
            "en",
            "Check the number",
            "Send the report",
            "is one of our numbers",
            "not one of our numbers",
            "Thank you",
        ),
        (
            "it",
            "Verifica il numero",
            "Invia la segnalazione",
            "è un nostro numero",
            "non è un nostro numero",
            "Grazie",
        ),
    ],
)
def test_a_person_checks_numbers_and_reports_a_call(
    browser, served, lang, button, report_button, yes, no, thanks, tmp_path
):
    page = browser.new_page(locale={"en": "en-GB", "it": "it-IT"}[lang])
    page.goto(f"{served}/check")  # the browser's language picks the page's

    assert page.locator("html").get_attribute("lang") == lang
    page.get_by_label(
        {"en": "The number that called you", "it": "Il numero che Le ha telefonato"}[lang]
    ).first.fill("+1 415 555 0100")
    page.get_by_role("button", name=button).click()
    answer = page.get_by_test_id("lookup-answer")
    assert answer.get_attribute("data-status") == "calls_you"
    assert yes in answer.text_content()

    page.locator("#number").fill("+39 06 1234 5678")
    page.get_by_role("button", name=button).click()
    assert no in page.get_by_test_id("lookup-answer").text_content()

    page.locator("#report-number").fill("+39 06 1234 5678")
    page.locator("input[name=asked_for][value=sms_code]").check()
    page.get_by_role("button", name=report_button).click()
    assert thanks in page.get_by_test_id("report-done").text_content()
    assert "RPT-" in page.get_by_test_id("report-done").text_content()
    page.screenshot(path=str(tmp_path / f"check-{lang}.png"), full_page=True)


def shots(tmp_path: Path) -> Path:
    """Where screenshots go: the test's tmp dir, or SCREENSHOTS_DIR to look at them."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize(
    ("lang", "country", "typed", "label", "button", "answer"),
    [
        (
            "en",
            "United States (+1)",
            "(415) 555-0100",
            "Your country",
            "Check the number",
            "is one of our numbers",
        ),
        (
            "zh",
            "意大利 (+39)",
            "06 1234 5678",
            "您所在的国家或地区",
            "核实号码",
            "不是我们的号码",
        ),
    ],
)
def test_a_person_picks_their_country_and_checks_a_number_as_their_phone_shows_it(
    browser, served, tmp_path, lang, country, typed, label, button, answer
):
    page = browser.new_page(
        locale={"en": "en-GB", "zh": "zh-CN"}[lang], viewport={"width": 420, "height": 800}
    )
    page.goto(f"{served}/check")

    page.get_by_label(label).first.select_option(label=country)
    page.locator("#number").fill(typed)
    page.get_by_role("button", name=button).click()

    shown = page.get_by_test_id("lookup-answer")
    assert answer in shown.text_content()
    assert typed in shown.text_content()  # the number as the person typed it
    assert page.locator("#number").input_value() == typed  # still in the box
    assert page.get_by_label(label).first.evaluate("s => s.selectedOptions[0].text") == country
    # The answer is where the person looks: focused, and in view on a phone's screen.
    assert page.evaluate("document.activeElement.id") == "number-answer"
    assert page.url.endswith("#number-answer")
    box = page.locator("#number-answer").bounding_box()
    assert box is not None and 0 <= box["y"] < 800
    page.screenshot(path=str(shots(tmp_path) / f"check-country-{lang}.png"))

    # A report: its confirmation is where the person is looking too.
    page.locator("#report-number").fill(typed)
    page.get_by_role("button", name={"en": "Send the report", "zh": "提交举报"}[lang]).click()
    assert "RPT-" in page.get_by_test_id("report-done").text_content()
    assert page.evaluate("document.activeElement.id") == "report-answer"
    box = page.locator("#report-answer").bounding_box()
    assert box is not None and 0 <= box["y"] < 800
    page.screenshot(path=str(shots(tmp_path) / f"check-report-{lang}.png"))
    page.screenshot(path=str(shots(tmp_path) / f"check-whole-{lang}.png"), full_page=True)

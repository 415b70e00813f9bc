"""The public page in a real browser (Debian's chromium via Playwright), in two languages."""

from __future__ import annotations

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
        {"en": "The number that called you", "it": "Il numero che ti ha chiamato"}[lang]
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

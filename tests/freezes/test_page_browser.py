"""The freeze page in a real browser (Debian's chromium via Playwright), in two languages."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import check_accessibility
from tests.freezes.conftest import register

pytestmark = [pytest.mark.usefixtures("lines", "clock"), pytest.mark.browser]


@pytest.mark.parametrize(
    ("lang", "phone", "button", "done"),
    [
        ("it", "333 123 4567", "Blocca il mio conto", "La Sua richiesta è registrata"),
        ("pl", "601 234 567", "Proszę zablokować moje konto", "Prośba została przyjęta"),
    ],
)
def test_a_person_freezes_the_account_from_the_home_page(
    browser, served, api, lang, phone, button, done, tmp_path
):
    register(api, lang)
    page = browser.new_page(locale={"it": "it-IT", "pl": "pl-PL"}[lang])
    page.goto(f"{served}/")
    page.get_by_test_id("freeze-link").get_by_role("link").click()

    assert page.locator("html").get_attribute("lang") == lang
    check_accessibility(page, "the freeze form")
    page.locator("#phone").fill(phone)
    page.locator("#birth-date").fill("1980-04-30")
    page.get_by_role("button", name=button).click()

    assert done in page.get_by_test_id("frozen").text_content()
    check_accessibility(page, "the freeze answer")
    page.screenshot(path=str(tmp_path / f"freeze-{lang}.png"), full_page=True)

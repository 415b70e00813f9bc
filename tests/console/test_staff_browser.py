"""A supervisor in a real browser deactivates an agent: the account page with its sign-ins, the
confirmation page, and the message; axe on each, in English and in Polish."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.staff.models import StaffUser
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import PASSWORD, pass_second_step

pytestmark = [pytest.mark.usefixtures("accounts"), pytest.mark.browser]
TEXTS = {
    "en": {"confirm": "Deactivate Agent?", "done": "Agent can no longer sign in"},
    "pl": {"confirm": "Dezaktywować konto Agent?", "done": "Agent nie może się już zalogować"},
}


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_a_supervisor_deactivates_an_agent_after_confirming(
    app, browser, served, tmp_path, lang
) -> None:
    with app.app_context():
        boss = db.session.scalar(
            select(StaffUser).where(StaffUser.email == "supervisor@bank.example")
        )
        boss.language = lang
        db.session.commit()
    shots = screenshots(tmp_path)
    page = browser.new_page(locale=lang, viewport={"width": 1100, "height": 900})
    page.goto(f"{served}/console/login")
    page.locator("#email").fill("supervisor@bank.example")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    pass_second_step(page, app, "supervisor@bank.example")
    page.locator("header").wait_for()

    page.goto(f"{served}/console/staff")
    check_accessibility(page, f"staff ({lang})")
    page.screenshot(path=str(shots / f"staff-{lang}.png"), full_page=True)
    page.get_by_role("link", name="agent@bank.example").click()
    page.get_by_test_id("account").wait_for()
    check_accessibility(page, f"account ({lang})")
    page.screenshot(path=str(shots / f"account-{lang}.png"), full_page=True)

    page.locator("ul.actions a").first.click()
    assert TEXTS[lang]["confirm"] in page.locator("h1").inner_text()
    check_accessibility(page, f"confirmation ({lang})")
    page.screenshot(path=str(shots / f"confirm-deactivate-{lang}.png"), full_page=True)
    page.locator("main form button[type=submit]").click()

    page.get_by_role("status").filter(has_text=TEXTS[lang]["done"]).wait_for()
    check_accessibility(page, f"deactivated ({lang})")
    page.screenshot(path=str(shots / f"deactivated-{lang}.png"), full_page=True)

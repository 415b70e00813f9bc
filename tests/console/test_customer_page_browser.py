"""A supervisor opens a locked customer from the callbacks list and unlocks them through the
confirmation, in English and Italian, with axe; screenshots to look at (SCREENSHOTS_DIR)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.extensions import db
from app.staff.models import StaffUser
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import sign_in_in_a_browser
from tests.console.test_customer_page import add_call, lock
from tests.console.test_records import add_callbacks, add_customer

pytestmark = [pytest.mark.usefixtures("accounts", "clock"), pytest.mark.browser]

WORDS = {
    "en": {
        "unlock": "Unlock…",
        "ask": "Let Giulia Rossi verify with codes again?",
        "yes": "Yes, unlock",
        "done": "Unlocked: Giulia Rossi may verify with codes again.",
        "not_locked": "Not locked",
    },
    "it": {
        "unlock": "Sblocca…",
        "ask": "Consentire di nuovo a Giulia Rossi la verifica con i codici?",
        "yes": "Sì, sblocca",
        "done": "Sbloccato: Giulia Rossi può di nuovo usare la verifica con i codici.",
        "not_locked": "Non bloccati",
    },
}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_supervisor_unlocks_a_customer_from_the_callbacks_list(
    app, browser, served, tmp_path, lang
):
    customer_id = add_customer(app)
    add_callbacks(app, customer_id, 2)
    add_call(app, customer_id)
    lock(app, customer_id)
    with app.app_context():
        db.session.execute(
            update(StaffUser)
            .where(StaffUser.email == "supervisor@bank.example")
            .values(language=lang, time_zone="Europe/Rome")
        )
        db.session.commit()
    words, folder = WORDS[lang], screenshots(tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=lang)
    sign_in_in_a_browser(page, app, served, "supervisor@bank.example")

    page.goto(f"{served}/console/callbacks")
    page.screenshot(path=str(folder / f"callbacks-{lang}.png"), full_page=True)
    page.get_by_test_id("customer-link").first.click()
    page.wait_for_url(f"{served}/console/customers/{customer_id}")
    assert page.locator("h1").inner_text() == "Giulia Rossi"
    assert page.get_by_test_id("numbers").inner_text() == "+39 333 123 4567"
    check_accessibility(page, f"customer ({lang})")
    page.screenshot(path=str(folder / f"customer-locked-{lang}.png"), full_page=True)

    page.get_by_role("link", name=words["unlock"]).click()
    assert page.locator("h1").inner_text() == words["ask"]
    check_accessibility(page, f"unlock ({lang})")
    page.screenshot(path=str(folder / f"customer-unlock-{lang}.png"), full_page=True)
    page.locator("#note").fill("Identità verificata in filiale")
    page.get_by_role("button", name=words["yes"]).click()

    page.get_by_role("status").filter(has_text=words["done"]).wait_for()
    assert page.get_by_test_id("lock").inner_text() == words["not_locked"]
    assert page.get_by_test_id("unlock").count() == 0
    check_accessibility(page, f"customer unlocked ({lang})")
    page.screenshot(path=str(folder / f"customer-unlocked-{lang}.png"), full_page=True)

"""The callbacks list, a callback's page, the audit log and the dashboard in a real browser, in
English and Italian, with axe; screenshots to look at (SCREENSHOTS_DIR)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.staff.models import StaffUser
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import sign_in_in_a_browser
from tests.console.test_records import NOW, add_callbacks, add_customer, queued

pytestmark = [pytest.mark.usefixtures("accounts", "clock"), pytest.mark.browser]

HEADINGS = {
    "en": {"callbacks": "Callbacks", "audit": "Audit log", "dashboard": "Dashboard"},
    "it": {"callbacks": "Richiamate", "audit": "Registro delle attività", "dashboard": "Cruscotto"},
}


CANCEL = {
    "en": ("Cancel callback…", "Yes, cancel the callback", "Cancelled: we will not call"),
    "it": ("Annulla richiamata…", "Sì, annulla la richiamata", "Annullata: non chiameremo"),
}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_records_screens_read_well_and_are_accessible(app, browser, served, tmp_path, lang):
    customer_id = add_customer(app)
    add_callbacks(app, customer_id, 30)
    callback_id = queued(app, customer_id, flow="withdrawal_check")
    late = queued(app, customer_id, flow="account_change_check", due_by=NOW - timedelta(minutes=5))
    with app.app_context():
        db.session.execute(
            update(StaffUser)
            .where(StaffUser.email == "supervisor@bank.example")
            .values(language=lang, time_zone="Europe/Rome")
        )
        db.session.commit()
    folder = screenshots(tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=lang)
    sign_in_in_a_browser(page, app, served, "supervisor@bank.example")
    page.locator("h1").filter(has_text=HEADINGS[lang]["dashboard"]).wait_for()

    page.goto(f"{served}/console/callbacks?limit=25")
    assert page.locator("h1").inner_text() == HEADINGS[lang]["callbacks"]
    assert page.locator('a[rel="next"]').count() == 1
    check_accessibility(page, f"callbacks ({lang})")
    page.screenshot(path=str(folder / f"callbacks-{lang}.png"), full_page=True)

    page.goto(f"{served}/console/callbacks/{callback_id}")
    assert page.get_by_test_id("call-now").count() == 1
    check_accessibility(page, f"callback ({lang})")
    page.screenshot(path=str(folder / f"callback-{lang}.png"), full_page=True)

    page.goto(f"{served}/console/callbacks/{callback_id}/reschedule")
    check_accessibility(page, f"new time ({lang})")
    page.screenshot(path=str(folder / f"callback-reschedule-{lang}.png"), full_page=True)

    # Cancel is asked first, on a page of its own, then done, with a message.
    page.goto(f"{served}/console/callbacks/{late}")
    page.get_by_role("link", name=CANCEL[lang][0]).click()
    check_accessibility(page, f"cancel ({lang})")
    page.screenshot(path=str(folder / f"callback-cancel-{lang}.png"), full_page=True)
    page.get_by_role("button", name=CANCEL[lang][1]).click()
    page.get_by_role("status").filter(has_text=CANCEL[lang][2]).wait_for()
    page.screenshot(path=str(folder / f"callback-cancelled-{lang}.png"), full_page=True)

    page.goto(f"{served}/console/audit")
    assert page.locator("h1").inner_text() == HEADINGS[lang]["audit"]
    check_accessibility(page, f"audit ({lang})")
    page.screenshot(path=str(folder / f"audit-{lang}.png"), full_page=True)

    page.goto(f"{served}/console/")
    page.wait_for_function("() => Chart.getChart('outcomes') !== undefined")
    check_accessibility(page, f"dashboard ({lang})")
    page.screenshot(path=str(folder / f"dashboard-{lang}.png"), full_page=True)

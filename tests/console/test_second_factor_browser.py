"""A supervisor's first sign-in in a real browser: the password, then enrolling an authenticator
by the key the page shows beside its QR code, the recovery codes, and the code at the next
sign-in; axe on each page, in English and in Italian."""

from __future__ import annotations

import pytest

from app import clock
from app.audit.service import Actor
from app.extensions import db
from app.staff import second_factor
from app.staff.models import Role
from app.staff.service import create_staff
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import PASSWORD, SECRETS, pass_second_step

pytestmark = pytest.mark.browser
TEXTS = {
    "en": {"enrol": "Set up a second", "codes": "Your recovery codes", "code": "Type the code"},
    "it": {"enrol": "Configuri un secondo", "codes": "I Suoi codici", "code": "Digiti il codice"},
}


@pytest.mark.parametrize("lang", ["en", "it"])
def test_a_supervisor_enrols_an_authenticator_at_first_sign_in(
    app, browser, served, tmp_path, lang
) -> None:
    email = f"boss-{lang}@bank.example"
    with app.app_context():
        boss = create_staff(
            db.session, email=email, name="Boss", role=Role.SUPERVISOR, password=PASSWORD,
            actor=Actor("test"),
        )  # fmt: skip
        boss.language = lang
        db.session.commit()
    shots = screenshots(tmp_path)
    page = browser.new_page(locale=lang, viewport={"width": 1100, "height": 900})
    page.goto(f"{served}/console/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()

    # Enrolment: the QR code, and the same key as text for people who cannot scan it.
    page.locator("[data-testid=qr] svg").wait_for()
    assert TEXTS[lang]["enrol"] in page.locator("h1").inner_text()
    check_accessibility(page, f"enrolment ({lang})")
    page.screenshot(path=str(shots / f"enrol-{lang}.png"), full_page=True)
    secret = page.get_by_test_id("secret").inner_text().replace(" ", "")
    with app.app_context():
        code = second_factor.code_at(secret, clock.now())
    page.locator("#code").fill(code)
    page.locator("form button[type=submit]").click()

    # Ten recovery codes, shown this once.
    page.get_by_test_id("recovery-codes").wait_for()
    assert TEXTS[lang]["codes"] in page.locator("h1").inner_text()
    assert page.get_by_test_id("recovery-codes").locator("li").count() == 10
    check_accessibility(page, f"recovery codes ({lang})")
    page.screenshot(path=str(shots / f"recovery-codes-{lang}.png"), full_page=True)
    page.locator("main a").last.click()
    page.locator("h1").wait_for()
    assert "/console/" in page.url

    # The next sign-in asks for the code from the app.
    page.locator("header form button").click()
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.locator("#code").wait_for()
    assert TEXTS[lang]["code"] in page.locator("h1").inner_text()
    check_accessibility(page, f"code ({lang})")
    page.screenshot(path=str(shots / f"code-{lang}.png"), full_page=True)
    SECRETS[email] = secret
    pass_second_step(page, app, email)
    page.locator("header").wait_for()
    page.goto(f"{served}/console/me")
    check_accessibility(page, f"your settings ({lang})")
    page.screenshot(path=str(shots / f"settings-{lang}.png"), full_page=True)

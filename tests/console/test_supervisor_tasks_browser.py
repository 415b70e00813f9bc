"""The five things a supervisor does, walked in a real browser from the console's home by clicking
only: find a customer's last calls, act on a scam report, pause a campaign, unlock a customer, and
add a colleague who then signs in with a second factor. No page on the way shows a raw value (an
id, a stored enum value, a machine timestamp); axe on each page, screenshots to look at."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.audit.service import Actor
from app.authenticity.models import ReportChannel
from app.authenticity.service import file_report
from app.calls.models import Call, CallDirection, CallStatus
from app.campaigns import service as campaigns
from app.customers.models import Customer
from app.extensions import db
from app.flows.registry import flows
from app.staff import second_factor
from app.staff.models import StaffUser
from app.verification.models import AttemptResult, VerificationAttempt, VerificationLock
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import PASSWORD, sign_in_in_a_browser

pytestmark = [pytest.mark.usefixtures("accounts"), pytest.mark.browser]

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
MACHINE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\+00:00|:\d{2}\.\d{3,6}")
#: A time as the console writes it, its zone named: "14:05 CET".
TIME_WITH_ZONE = re.compile(r"\b\d{2}:\d{2} [A-Z]{2,5}\b|\b\d{2}:\d{2} GMT")

TEXTS = {
    "it": {
        "customers": "Clienti",
        "find": "Cerca",
        "fraud": "Segnalazioni di frode",
        "campaigns": "Campagne",
        "pause": "Metti in pausa",
        "paused": "In pausa",
        "unlock": "Sblocca…",
        "yes_unlock": "Sì, sblocca",
        "unlocked": "Sbloccato: Giulia Rossi",
        "staff": "Personale",
        "create": "Crea",
        "save": "Salva",
        "saved": "salvata",
        "flow": "Verifica",
        "factor_on": "Attivo",
    },
    "en": {
        "customers": "Customers",
        "find": "Find",
        "fraud": "Fraud queue",
        "campaigns": "Campaigns",
        "pause": "Pause",
        "paused": "Paused",
        "unlock": "Unlock…",
        "yes_unlock": "Yes, unlock",
        "unlocked": "Unlocked: Giulia Rossi may verify with codes again.",
        "staff": "Staff",
        "create": "Create",
        "save": "Save",
        "saved": "saved",
        "flow": "",
        "factor_on": "On",
    },
}


def assert_human(page, where: str) -> str:
    """The page's visible text has no raw value: no id, no stored enum value, no machine time
    (what it sets in code, to be typed as it is, aside)."""
    text = page.locator("body").inner_text()
    # What is set in code is typed as it is (a CSV's column, a key for an authenticator).
    for literal in page.locator("code").all_inner_texts():
        text = text.replace(literal, "")
    for pattern, what in ((UUID, "an id"), (SNAKE_CASE, "a stored value"),
                          (MACHINE_TIME, "a machine time")):  # fmt: skip
        found = pattern.search(text)
        assert found is None, f"{where} shows {what}: {found.group(0)!r}"
    return text


def _seed(app, language: str) -> dict[str, str]:
    """Giulia (locked out of codes, two calls today), a scam report, a running campaign."""
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        boss = session.scalar(select(StaffUser).where(StaffUser.email == "supervisor@bank.example"))
        boss.language, boss.time_zone = language, "Europe/Rome"
        giulia = Customer(
            external_id="CUST-0042", phone="+393471234567", locale="it", name="Giulia Rossi"
        )
        session.add(giulia)
        session.flush()
        for minutes, direction, flow, outcome, reference in (
            (120, CallDirection.OUTBOUND, "registration_check", "confirmed", "R-1001"),
            (60, CallDirection.INBOUND, "verify_caller_line", "locked", "R-1002"),
        ):
            session.add(
                Call(
                    direction=direction,
                    from_number="+390212345678" if direction == CallDirection.OUTBOUND
                    else giulia.phone,
                    to_number=giulia.phone if direction == CallDirection.OUTBOUND
                    else "+390212345678",
                    customer_id=giulia.id,
                    flow=flow,
                    flow_version=1,
                    locale="it",
                    reference=reference,
                    status=CallStatus.COMPLETED,
                    outcome=outcome,
                    created_at=now - timedelta(minutes=minutes),
                )
            )  # fmt: skip
        locked_at = now - timedelta(minutes=50)
        for minute in range(10):
            session.add(
                VerificationAttempt(
                    customer_id=giulia.id,
                    method="authenticator",
                    result=AttemptResult.WRONG,
                    created_at=locked_at - timedelta(minutes=10 - minute),
                )
            )
        session.add(VerificationLock(customer_id=giulia.id, failures=10, locked_at=locked_at))
        report = file_report(
            session,
            number="+39 02 9876 5432",
            channel=ReportChannel.WEB,
            now=now - timedelta(minutes=30),
            actor=Actor("public"),
            description="Si è presentato come la banca e mi ha chiesto il codice arrivato via SMS.",
            asked_for=["sms_code"],
            called_at=now - timedelta(hours=1),
            locale="it",
        )
        campaign = campaigns.create_campaign(
            session,
            policy=app.extensions["callback_policy"],
            flows=dict(flows()),
            actor=Actor("test"),
            now=now,
            name="Rinnovo carte",
            purpose="your new card is on its way",
            purposes={"it": "la sua nuova carta è in arrivo"},
            flow="campaign_notice",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=7),
            csv_text="external_id\nCUST-0042\n",
        )
        campaigns.start(
            session, campaign, policy=app.extensions["callback_policy"], actor=Actor("test"),
            now=now,
        )  # fmt: skip
        session.commit()
        return {"report": report.reference, "campaign": campaign.name}


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_supervisor_does_the_five_tasks_by_clicking(app, browser, served, tmp_path, language):
    if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("a walk through pages: once, on SQLite, is enough")
    words, made, folder = TEXTS[language], _seed(app, language), screenshots(tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def look(name: str) -> str:
        page.locator("main").wait_for()
        check_accessibility(page, f"{name} ({language})")
        page.screenshot(path=str(folder / f"task-{name}-{language}.png"), full_page=True)
        return assert_human(page, f"{name} ({language})")

    def nav(name: str) -> None:
        page.get_by_role("navigation", name=re.compile("Console")).get_by_role(
            "link", name=name, exact=True
        ).click()

    sign_in_in_a_browser(page, app, served, "supervisor@bank.example")
    look("home")

    # a. A customer's last calls: Customers, their number as they say it, their page, a call.
    nav(words["customers"])
    look("customers")
    page.get_by_role("searchbox").fill("347 123 4567" if language == "it" else "0039 347 1234567")
    page.get_by_role("button", name=words["find"], exact=True).click()
    found = look("customers-found")
    assert "Giulia Rossi" in found and "+39 347 123 4567" in found
    page.get_by_role("link", name="Giulia Rossi").click()
    assert "CUST-0042" in look("customer")
    calls = page.get_by_test_id("calls").inner_text()
    assert "R-1001" in calls and "R-1002" in calls
    assert TIME_WITH_ZONE.search(calls), calls
    assert words["flow"] in calls
    page.get_by_test_id("calls").get_by_role("link").first.click()
    call = look("call")
    assert "R-1002" in call and "Giulia Rossi" in call
    page.get_by_role("main").get_by_role("link", name="Giulia Rossi").click()
    assert "CUST-0042" in look("customer-again")

    # b. A scam report: the fraud queue, the report, what the reporter wrote, closed with a note.
    nav(words["fraud"])
    look("fraud")
    page.get_by_role("link", name=made["report"]).click()
    report = look("fraud-report")
    assert "mi ha chiesto il codice arrivato via SMS" in report
    assert "+39 02 9876 5432" in report  # the number it showed, grouped for reading
    page.locator("#r-status").select_option("closed")
    page.locator("#r-note").fill("Numero segnalato al gestore")
    page.get_by_role("main").get_by_role("button", name=words["save"]).click()
    page.get_by_role("status").filter(has_text=words["saved"]).wait_for()
    look("fraud-report-saved")

    # c. Pause a campaign: Campaigns, the running one, Pause; it says it is paused.
    nav(words["campaigns"])
    look("campaigns")
    page.get_by_role("link", name=made["campaign"]).first.click()
    look("campaign")
    page.get_by_role("button", name=words["pause"], exact=True).click()
    page.get_by_role("status").wait_for()
    paused = look("campaign-paused")
    assert words["paused"] in page.locator("main table").first.inner_text(), paused

    # d. Unlock a customer: back to Giulia by the search, Unlock, a note, done.
    nav(words["customers"])
    page.get_by_role("searchbox").fill("CUST-0042")
    page.get_by_role("button", name=words["find"], exact=True).click()
    page.get_by_role("link", name="Giulia Rossi").click()
    page.get_by_test_id("unlock").click()
    look("unlock-confirm")
    page.locator("#note").fill("Identità verificata in filiale con documento")
    page.get_by_role("button", name=words["yes_unlock"]).click()
    page.get_by_role("status").filter(has_text=words["unlocked"]).wait_for()
    look("unlocked")
    assert page.get_by_test_id("unlock").count() == 0

    # e. A new supervisor: Staff, the form; they sign in elsewhere and set up their second factor.
    nav(words["staff"])
    look("staff")
    new_email = f"marta.{language}@bank.example"
    page.locator("#e").fill(new_email)
    page.locator("#n").fill("Marta Neri")
    page.locator("#ro").select_option("supervisor")
    page.locator("#pw").fill(PASSWORD)
    page.get_by_role("button", name=words["create"], exact=True).click()
    page.get_by_role("status").wait_for()
    assert new_email in look("staff-added")

    marta = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    marta.goto(f"{served}/console/login")
    marta.locator("#email").fill(new_email)
    marta.locator("#password").fill(PASSWORD)
    marta.locator("form button[type=submit]").click()
    marta.locator("[data-testid=qr] svg").wait_for()
    check_accessibility(marta, f"enrolment ({language})")
    marta.screenshot(path=str(folder / f"task-enrol-{language}.png"), full_page=True)
    assert_human(marta, f"enrolment ({language})")
    secret = marta.get_by_test_id("secret").inner_text().replace(" ", "")
    with app.app_context():
        code = second_factor.code_at(secret, clock.now())
    marta.locator("#code").fill(code)
    marta.locator("form button[type=submit]").click()
    marta.get_by_test_id("recovery-codes").wait_for()
    assert_human(marta, f"recovery codes ({language})")
    marta.locator("main a").last.click()
    marta.locator("header nav").wait_for()
    assert "Marta Neri" in marta.locator("header").inner_text()
    assert_human(marta, f"Marta's console ({language})")
    # Back in the first browser, the staff list says her second factor is on.
    nav(words["staff"])
    row = page.get_by_role("row").filter(has_text=new_email).inner_text()
    assert words["factor_on"] in row.split("\t"), row

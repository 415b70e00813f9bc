"""The satisfaction question that ends verification calls: asked after the outcome is set, its
answer kept once per call, a low score's reason asked from a menu, no key ending politely."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.callbacks.models import Satisfaction
from app.calls.models import Call
from app.extensions import db
from tests.support import count_rows
from tests.telephony_fixtures import VALID_CODE, place

ASK_EN = "how satisfied are you with this call?"
ASK_PL = "jak oceniają Państwo tę rozmowę?"


@pytest.fixture
def polish_customer(api):
    response = api.post(
        "/api/v1/customers",
        json={"external_id": "cust-pl", "phone": "+48 601 111 222", "locale": "pl"},
    )
    assert response.status_code == 201
    return response.get_json()


def answers(app) -> list[tuple[str | None, int, str | None]]:
    with app.app_context():
        return [(s.flow, s.score, s.reason) for s in db.session.scalars(sa.select(Satisfaction))]


def outcome(app, placed) -> str | None:
    with app.app_context():
        return db.session.get_one(Call, placed.call.id).outcome


@pytest.mark.usefixtures("lines", "polish_customer")
def test_a_confirmed_call_in_polish_ends_with_the_question_and_keeps_a_five(app, simulator):
    placed = place(
        app,
        simulator,
        flow="registration_check",
        external_id="cust-pl",
        keys=[VALID_CODE, "1", "5"],
    )

    assert any(ASK_PL in line for line in placed.heard)
    assert placed.heard[-1] == "Dziękujemy za odpowiedź. Do widzenia."
    assert outcome(app, placed) == "confirmed"
    assert answers(app) == [("registration_check", 5, None)]


@pytest.mark.usefixtures("lines", "customer")
def test_a_one_asks_why_and_keeps_the_reason(app, simulator):
    placed = place(app, simulator, flow="transaction_alert", keys=[VALID_CODE, "1", "1", "2"])

    assert any("Se non è stata chiara, prema 2" in line for line in placed.heard)
    assert outcome(app, placed) == "confirmed"
    assert answers(app) == [("transaction_alert", 1, "not_clear")]
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "satisfaction.recorded")
        ).one()
        assert entry.changes["score"] == 1


@pytest.mark.usefixtures("lines", "customer")
def test_no_key_at_the_question_ends_the_call_politely_and_keeps_nothing(app, simulator):
    placed = place(app, simulator, flow="withdrawal_check", keys=[VALID_CODE, "1"])

    assert any("come valuta questa chiamata?" in line for line in placed.heard)
    assert placed.heard[-1] == "Grazie. Arrivederci."
    assert outcome(app, placed) == "confirmed"
    assert count_rows(app, Satisfaction) == 0


@pytest.mark.usefixtures("lines", "customer")
def test_it_was_not_me_is_asked_too_after_the_denial_is_kept(app, simulator):
    placed = place(app, simulator, flow="account_change_check", keys=[VALID_CODE, "2", "4"])

    assert outcome(app, placed) == "denied"
    assert answers(app) == [("account_change_check", 4, None)]


@pytest.mark.usefixtures("lines")
def test_an_english_call_about_feedback_never_reads_the_customers_words(app, api, simulator):
    response = api.post(
        "/api/v1/customers",
        json={"external_id": "cust-en", "phone": "+44 7911 123456", "locale": "en"},
    )
    assert response.status_code == 201, response.get_json()
    placed = place(
        app,
        simulator,
        flow="feedback_call",
        external_id="cust-en",
        keys=[VALID_CODE, "3"],
        variables={"time": "2026-11-23T13:05:00+00:00"},
    )

    assert any("We are calling about your feedback" in line for line in placed.heard)
    assert placed.heard[-1] == "Thank you. Goodbye."
    assert outcome(app, placed) == "confirmed"

"""The hotline's "call me later": a caller with a waiting callback presses 3, types a right code
from the app, hears the time we offer in their language and confirms it; the callback is dialed
then. Before the code nothing is said of the account, and a wrong code moves nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.callbacks.line import CALLER_CHOSE
from app.callbacks.models import CallbackStatus
from app.extensions import db
from tests.authenticity.test_line import CUSTOMER_PHONE, NOT_CONFIRMED, ring_the_line
from tests.engine_fixtures import MORNING, callback_of
from tests.telephony_fixtures import VALID_CODE

pytestmark = pytest.mark.usefixtures("lines", "clock")

POLISH_PHONE = "+48601234567"


def queue_registration_check(api, external_id: str) -> str:
    answer = api.post(
        "/api/v1/events",
        json={
            "id": f"reg-{external_id}",
            "type": "registration",
            "customer_external_id": external_id,
            "occurred_at": MORNING.isoformat(),
        },
    )
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["callback_id"]


def rescheduled_entries(app, callback_id: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.action == "callback.rescheduled",
                    AuditEvent.subject_id == callback_id,
                )
            )
        )


def test_an_italian_caller_chooses_this_evening_after_a_right_code(app, api, simulator, customer):
    callback_id = queue_registration_check(api, "cust-it")

    _, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "3", VALID_CODE, "1"])

    said = " ".join(heard)
    assert "oggi o domani, prema 3" in said
    offer = next(i for i, text in enumerate(heard) if "Possiamo richiamarLa il" in text)
    assert "23 novembre alle 18:00" in heard[offer]  # 18:00 in Rome, the customer's time
    assert heard[-1].startswith("La richiameremo il 23 novembre alle 18:00")
    assert "nuovo conto" not in said and "Giulia" not in said  # the matter is never said
    callback = callback_of(app, callback_id)
    assert callback.status is CallbackStatus.QUEUED and callback.attempts == 0
    assert callback.next_attempt_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert callback.waiting_for == CALLER_CHOSE
    assert callback.due_by >= callback.next_attempt_at  # the deadline moved past it
    assert len(rescheduled_entries(app, callback_id)) == 1


def test_a_polish_caller_hears_the_time_in_polish(app, api, simulator):
    api.post(
        "/api/v1/customers",
        json={"external_id": "cust-pl", "phone": "+48 601 234 567", "locale": "pl"},
    )
    callback_id = queue_registration_check(api, "cust-pl")

    _, heard = ring_the_line(app, simulator, POLISH_PHONE, ["#", "3", VALID_CODE, "1"])

    assert any("Możemy oddzwonić 23 listopada o 18:00" in text for text in heard)
    assert heard[-1].startswith("Oddzwonimy 23 listopada o 18:00")
    assert callback_of(app, callback_id).next_attempt_at == datetime(
        2026, 11, 23, 17, 0, tzinfo=UTC
    )


def test_late_in_the_day_the_offer_is_tomorrow_evening(app, api, simulator, customer, clock):
    callback_id = queue_registration_check(api, "cust-it")
    clock.set(datetime(2026, 11, 23, 16, 45, tzinfo=UTC))  # 17:45 in Rome: too close to 18:00

    _, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "3", VALID_CODE, "1"])

    assert heard[-1].startswith("La richiameremo il 24 novembre alle 18:00")
    assert callback_of(app, callback_id).next_attempt_at == datetime(
        2026, 11, 24, 17, 0, tzinfo=UTC
    )


def test_going_on_now_instead_takes_the_callback_into_the_call(app, api, simulator, customer):
    callback_id = queue_registration_check(api, "cust-it")

    _, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "3", VALID_CODE, "2", "1"])

    assert any("nuovo conto" in text for text in heard)  # verified: the matter, at last
    assert callback_of(app, callback_id).outcome.value == "confirmed"
    assert rescheduled_entries(app, callback_id) == []


def test_a_faked_caller_id_cannot_put_our_call_off(app, api, simulator, customer):
    callback_id = queue_registration_check(api, "cust-it")
    before = callback_of(app, callback_id).next_attempt_at

    _, heard = ring_the_line(
        app, simulator, CUSTOMER_PHONE, ["#", "3", "111111", "222222", "333333"]
    )

    assert heard[-1].startswith(NOT_CONFIRMED)
    assert not any("18:00" in text for text in heard)
    callback = callback_of(app, callback_id)
    assert (callback.status, callback.next_attempt_at) == (CallbackStatus.QUEUED, before)
    assert rescheduled_entries(app, callback_id) == []


def test_no_answer_to_the_offer_changes_nothing(app, api, simulator, customer):
    callback_id = queue_registration_check(api, "cust-it")
    before = callback_of(app, callback_id).next_attempt_at

    _, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "3", VALID_CODE, "", "", ""])

    assert heard[-1].startswith("Non è stato modificato nulla")
    assert callback_of(app, callback_id).next_attempt_at == before

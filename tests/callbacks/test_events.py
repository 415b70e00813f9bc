"""POST /api/v1/events: idempotent decisions, anomaly reasons, one callback per open incident."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.audit.models import AuditEvent
from app.callbacks.models import Callback, Event
from app.extensions import db
from tests.support import count_rows

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def customer(api):
    response = api.post(
        "/api/v1/customers", json={"external_id": "cust-1", "phone": "+39 333 123 4567"}
    )
    assert response.status_code == 201
    return response.get_json()


def event(event_id: str, type: str = "transaction", at: datetime = T0, **data):
    return {
        "id": event_id,
        "type": type,
        "customer_external_id": "cust-1",
        "occurred_at": at.isoformat(),
        "data": data,
    }


def send(api, body):
    return api.post("/api/v1/events", json=body)


def usual_history(api, count: int = 8, amount: str = "50.00"):
    """Ordinary payments an hour apart: Italian shops, one phone, known beneficiaries."""
    events = [
        event(
            f"h-{i}",
            at=T0 - timedelta(hours=i + 1),
            amount=amount,
            currency="EUR",
            country="IT",
            device="phone-1",
            beneficiary=f"shop-{i % 3}",
            merchant="Coop",
        )
        for i in range(count)
    ]
    response = api.post("/api/v1/events:batch", json={"events": events})
    assert response.get_json()["accepted"] == count
    return events


@pytest.mark.usefixtures("customer")
def test_a_registration_queues_a_medium_priority_welcome_call(api):
    answer = send(api, event("reg-1", "registration"))

    assert answer.status_code == 202
    decision = answer.get_json()
    assert decision["priority"] == "medium"
    callback = api.get(f"/api/v1/callbacks/{decision['callback_id']}").get_json()
    assert callback["status"] == "queued"
    assert callback["priority"] == "medium"
    assert callback["outcome"] is None
    assert callback["attempts"] == 0
    assert "welcome" in callback["reason"]
    due = datetime.fromisoformat(callback["due_by"])
    created = datetime.fromisoformat(callback["created_at"])
    assert timedelta(hours=23, minutes=59) < due - created <= timedelta(hours=24)


@pytest.mark.usefixtures("customer")
def test_the_same_event_id_again_answers_the_first_decision_and_queues_nothing(api, app):
    first = send(api, event("reg-1", "registration")).get_json()
    again = send(api, event("reg-1", "registration")).get_json()
    # Even with other content, the id decides: the core system retried, it did not mean more.
    other = send(api, event("reg-1", "withdrawal_request", amount="10")).get_json()

    assert first == again == other
    assert count_rows(app, Event) == 1
    assert count_rows(app, Callback) == 1
    assert count_rows(app, AuditEvent) == 2  # the customer, the one callback


@pytest.mark.usefixtures("customer")
def test_an_ordinary_payment_needs_no_call(api, app):
    usual_history(api)

    decision = send(
        api,
        event(
            "t-1",
            amount="55.00",
            currency="EUR",
            country="IT",
            device="phone-1",
            beneficiary="shop-1",
        ),
    ).get_json()

    assert decision == {
        "event_id": "t-1",
        "anomalous": False,
        "score": 0.0,
        "reasons": [],
        "priority": None,
        "callback_id": None,
    }
    assert count_rows(app, Callback) == 0


@pytest.mark.usefixtures("customer")
def test_an_unusual_payment_is_called_with_reasons_a_person_can_read(api):
    usual_history(api)

    decision = send(
        api,
        event(
            "t-1",
            amount="700.00",
            currency="EUR",
            country="PL",
            device="laptop-9",
            beneficiary="shop-new",
        ),
    ).get_json()

    assert decision["anomalous"] is True
    assert decision["priority"] == "high"
    assert decision["reasons"][0] == "amount 14x this customer's median"
    assert "first payment from PL" in decision["reasons"]
    assert "new device" in decision["reasons"]
    assert "new beneficiary" in decision["reasons"]
    callback = api.get(f"/api/v1/callbacks/{decision['callback_id']}").get_json()
    assert callback["reasons"] == decision["reasons"]
    assert callback["flow"] == "transaction_alert"


@pytest.mark.usefixtures("customer")
def test_many_payments_in_a_few_minutes_are_a_reason(api):
    usual_history(api)
    answers = [
        send(
            api,
            event(
                f"v-{i}",
                at=T0 + timedelta(minutes=i),
                amount="20",
                country="IT",
                device="phone-1",
                beneficiary="shop-1",
            ),
        ).get_json()
        for i in range(5)
    ]

    assert answers[3]["reasons"] == []
    assert "5 payments in 10 minutes" in answers[4]["reasons"]


@pytest.mark.usefixtures("customer")
def test_a_new_anomaly_joins_the_open_callback_and_raises_its_priority(api, app):
    usual_history(api)
    medium = send(
        api, event("t-1", amount="300", country="IT", device="phone-1", beneficiary="shop-1")
    ).get_json()
    high = send(
        api,
        event(
            "t-2",
            at=T0 + timedelta(minutes=30),
            amount="900",
            country="DE",
            device="tablet",
            beneficiary="shop-1",
        ),
    ).get_json()

    assert medium["priority"] == "medium"
    assert high["callback_id"] == medium["callback_id"]
    assert count_rows(app, Callback) == 1
    callback = api.get(f"/api/v1/callbacks/{medium['callback_id']}").get_json()
    assert callback["priority"] == "high"
    assert "first payment from DE" in callback["reasons"]
    assert callback["reasons"][0] == medium["reasons"][0]
    due = datetime.fromisoformat(callback["due_by"])
    assert due - datetime.fromisoformat(callback["created_at"]) <= timedelta(hours=2, seconds=5)


@pytest.mark.usefixtures("customer")
def test_a_withdrawal_is_called_only_on_an_account_with_open_problems(api):
    quiet = send(api, event("w-1", "withdrawal_request", amount="2000")).get_json()
    troubled = send(
        api, event("w-2", "withdrawal_request", amount="2000", account_has_open_problems=True)
    ).get_json()

    assert quiet["callback_id"] is None
    assert troubled["priority"] == "high"
    callback = api.get(f"/api/v1/callbacks/{troubled['callback_id']}").get_json()
    assert callback["flow"] == "withdrawal_check"


@pytest.mark.usefixtures("customer")
def test_a_phone_change_is_confirmed_by_calling_the_previous_number(api, app):
    decision = send(
        api, event("c-1", "account_change", field="phone", previous_phone="+39 340 000 1111")
    ).get_json()

    assert decision["priority"] == "high"
    with app.app_context():
        callback = db.session.get(Callback, uuid.UUID(decision["callback_id"]))
        assert callback.to_number == "+393400001111"
        assert callback.flow == "account_change_check"


@pytest.mark.usefixtures("customer")
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (event("x", "refund"), 422, "type"),
        (
            {**event("x", "registration"), "customer_external_id": "nobody"},
            422,
            "customer_external_id",
        ),
        ({**event("x", "registration"), "occurred_at": "2026-11-20T09:00:00"}, 422, "occurred_at"),
        ({**event("x", "registration"), "occurred_at": "yesterday"}, 422, "occurred_at"),
        (event("x", amount="-5"), 422, "data.amount"),
        (event("x", amount="lots"), 422, "data.amount"),
        (event("x", amount=True), 422, "data.amount"),
        (event("x"), 422, "data.amount"),
        (event("x", amount="5", currency="euro"), 422, "data.currency"),
        (event("x", amount="5", country="Italy"), 422, "data.country"),
        (event("x", amount="5", merchant=42), 422, "data.merchant"),
        (event("x", "account_change", field="phone"), 422, "data.previous_phone"),
        (event("x", "account_change", field="address"), 422, "data.field"),
        (
            event("x", "withdrawal_request", amount="5", account_has_open_problems="yes"),
            422,
            "data.account_has_open_problems",
        ),
        ({**event("x", "registration"), "source": "core"}, 422, "source"),
        (event("x", "campaign"), 422, "type"),
        (
            {**event("x", amount="5"), "occurred_at": "0001-01-01T00:00:00+14:00"},
            422,
            "occurred_at",
        ),
        (
            {**event("x", amount="5"), "occurred_at": "9999-12-31T23:59:59-12:00"},
            422,
            "occurred_at",
        ),
        (event("x", "bogus"), 422, "type"),
        (event("x", amount="5", merchant="Shop\x00"), 422, "data.merchant"),
        (event("x", amount="5", note={"deep": ["ok", "\x1b[2J"]}), 422, "data.note.deep.1"),
        ({k: v for k, v in event("x", "registration").items() if k != "id"}, 422, "id"),
    ],
)
def test_bad_events_are_refused_naming_the_field_and_nothing_is_written(
    api, app, body, status, field
):
    response = send(api, body)

    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert count_rows(app, Event) == 0
    assert count_rows(app, Callback) == 0


@pytest.mark.usefixtures("customer")
def test_a_batch_decides_each_event_on_its_own(api, app):
    response = api.post(
        "/api/v1/events:batch",
        json={
            "events": [
                event("b-1", "registration"),
                event("b-2", amount="nope"),
                {"id": "b-3"},
                event("b-1", "registration"),
            ]
        },
    )

    body = response.get_json()
    assert response.status_code == 202
    assert (body["accepted"], body["refused"]) == (2, 2)
    assert body["results"][1]["error"]["field"] == "data.amount"
    assert body["results"][2]["error"]["code"] == "required"
    assert body["results"][3]["callback_id"] == body["results"][0]["callback_id"]
    assert count_rows(app, Event) == 1


@pytest.mark.usefixtures("customer")
def test_an_unsupported_or_unprintable_event_in_a_batch_is_refused_alone(api, app):
    campaign = event("b-2", "campaign")
    unprintable = {**event("b-3", "registration"), "id": "b-\x003"}
    response = api.post(
        "/api/v1/events:batch",
        json={"events": [event("b-1", "registration"), campaign, unprintable]},
    )

    body = response.get_json()
    assert response.status_code == 202
    assert (body["accepted"], body["refused"]) == (1, 2)
    assert body["results"][0]["callback_id"]
    assert body["results"][1] == {
        "event_id": "b-2",
        "error": {
            "code": "invalid",
            "message": "type: Must be one of: transaction, registration, "
            "withdrawal_request, account_change, feedback.",
            "field": "type",
        },
    }
    assert body["results"][2]["error"]["code"] == "control_character"
    assert body["results"][2]["error"]["field"] == "id"
    assert count_rows(app, Event) == 1


def test_the_document_lists_only_the_event_types_the_core_system_may_send(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    event_type = spec["components"]["schemas"]["EventIn"]["properties"]["type"]
    assert event_type["enum"] == [
        "transaction",
        "registration",
        "withdrawal_request",
        "account_change",
        "feedback",
    ]


def test_a_batch_over_1000_events_is_refused(api):
    response = api.post(
        "/api/v1/events:batch",
        json={"events": [event(f"e{i}", "registration") for i in range(1001)]},
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "events"


def test_an_unknown_callback_is_not_found(api):
    assert api.get("/api/v1/callbacks/2b1c9a3e-0000-4000-8000-000000000000").status_code == 404

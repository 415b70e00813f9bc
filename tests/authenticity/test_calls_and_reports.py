"""Did we call you? The reference check, the app's "we are calling you now", scam reports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.audit.service import Actor
from app.authenticity.models import ScamReport
from app.calls.service import CallUrls, start_outbound_call
from app.carriers.service import telephony_for
from app.carriers.simulator import WsgiTransport
from app.extensions import db
from app.flows.registry import flows
from tests.support import count_rows
from tests.telephony_fixtures import place

pytestmark = pytest.mark.usefixtures("lines", "clock")


def call_check(client, reference, phone, **extra):
    return client.post(
        "/api/v1/call-checks", json={"reference": reference, "phone": phone, **extra}
    )


def test_the_reference_check_says_yes_only_for_our_call_to_that_number(
    client, app, simulator, customer, clock
):
    placed = place(app, simulator, keys=["", "", ""])
    reference = placed.call.reference
    clock.set(placed.call.created_at)  # the call's own time (calls are stamped by the wall clock)
    other = f"{(int(reference) + 1) % 1_000_000:06d}"

    right = call_check(client, reference, "+39 333 123 4567").get_json()
    spaced = call_check(client, " ".join(reference), "+393331234567").get_json()
    wrong_reference = call_check(client, other, "+39 333 123 4567").get_json()
    wrong_phone = call_check(client, reference, "+39 333 765 4321").get_json()
    clock.set(placed.call.created_at + timedelta(hours=24, seconds=1))
    too_old = call_check(client, reference, "+39 333 123 4567").get_json()

    assert [a["called"] for a in (right, spaced, wrong_reference, wrong_phone, too_old)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    # Nothing else: no name, no reason, no time. The same keys either way.
    assert set(right) == set(wrong_phone) == {"called", "message", "advice"}
    assert "Giulia" not in str(right) and "Electro" not in str(right)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference": "12345", "phone": "+393331234567"}, "reference"),
        ({"reference": "abcdef", "phone": "+393331234567"}, "reference"),
        ({"reference": "123456", "phone": "nope"}, "phone"),
        ({"phone": "+393331234567"}, "reference"),
    ],
)
def test_a_bad_reference_check_is_a_422_naming_the_field(client, body, field):
    response = client.post("/api/v1/call-checks", json=body)

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_the_app_sees_the_call_we_are_placing_now_with_its_reference(api, app, customer):
    assert api.get(f"/api/v1/customers/{customer['id']}/active-call").status_code == 404
    carrier = telephony_for(app)  # the softphone's simulator: the call rings until answered
    carrier.transport, carrier.synchronous = WsgiTransport(app), True
    with app.app_context():
        from app.customers.service import find_by_external_id

        call = start_outbound_call(
            db.session,
            telephony=carrier,
            urls=CallUrls(app),
            customer=find_by_external_id(db.session, "cust-it"),
            flow=flows()["registration_check"],
            actor=Actor("test"),
            variables={},
        )
        reference, call_id, sid = call.reference, str(call.id), call.sid

    active = api.get(f"/api/v1/customers/{customer['id']}/active-call")

    assert active.status_code == 200
    body = active.get_json()
    assert (body["reference"], body["call_id"], body["status"]) == (reference, call_id, "ringing")
    assert body["from_number"] == "+14155550100"
    app.test_client().post(f"/simulator/phone/calls/{sid}/decline", json={})
    gone = api.get(f"/api/v1/customers/{customer['id']}/active-call")
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "no_active_call"


def test_a_scam_report_reaches_the_fraud_queue_and_the_counts(client, api, app, clock):
    first = client.post(
        "/api/v1/reports",
        json={
            "number": "+1 415 555 0100",  # our own number, spoofed
            "called_at": (clock() - timedelta(minutes=20)).isoformat(),
            "reporter_phone": "+39 333 765 4321",
            "description": "Said my card was blocked and asked for the code in a text",
            "asked_for": ["sms_code", "pin"],
            "lang": "it",
        },
    )
    second = client.post("/api/v1/reports", json={"number": "+39 06 1234 5678"})
    third = client.post("/api/v1/reports", json={"number": "+14155550100"})

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    created = first.get_json()
    assert created["reference"].startswith("RPT-") and "Grazie" in created["message"]
    queue = api.get("/api/v1/scam-reports?status=new").get_json()
    assert len(queue) == 3
    mine = api.get(f"/api/v1/scam-reports/{created['reference']}").get_json()
    assert (mine["reported_number"], mine["number_official"], mine["channel"]) == (
        "+14155550100",
        True,
        "api",
    )
    assert mine["asked_for"] == ["pin", "sms_code"] and mine[
        "reporter_phone"
    ] == "+393331234567".replace("1234567", "7654321")

    stats = api.get("/api/v1/scam-reports/stats?days=7").get_json()
    assert stats["total"] == 3
    assert stats["by_number"][0] | {"last_at": None} == {
        "number": "+14155550100",
        "official": True,
        "reports": 2,
        "last_at": None,
    }
    assert stats["by_day"] == [{"date": clock().date().isoformat(), "reports": 3}]

    moved = api.patch(
        f"/api/v1/scam-reports/{created['reference']}",
        json={"status": "reviewing", "note": "matches the campaign of 23 Nov"},
    )
    assert moved.status_code == 200 and moved.get_json()["status"] == "reviewing"
    assert len(api.get("/api/v1/scam-reports?status=new").get_json()) == 2
    assert client.get("/api/v1/scam-reports").status_code == 401  # staff only


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "+14155550100", "called_at": "2099-01-01T00:00:00+00:00"}, "called_at"),
        ({"number": "+14155550100", "asked_for": ["soul"]}, "asked_for"),
        ({"number": "+14155550100", "description": "x" * 2001}, "description"),
        ({"number": "+14155550100", "reporter_phone": "me"}, "reporter_phone"),
        ({"number": "hello"}, "number"),
        ({"called_at": "2026-11-23T09:00:00+00:00"}, "number"),
    ],
)
def test_a_bad_report_is_a_422_and_files_nothing(client, app, body, field):
    response = client.post("/api/v1/reports", json=body)

    assert response.status_code == 422
    assert response.get_json()["error"]["field"].split(".")[0] == field  # asked_for.0: the item
    assert count_rows(app, ScamReport) == 0

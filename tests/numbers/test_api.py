"""The official-number registry: numbers go into service and retire, keeping their history."""

from __future__ import annotations

import pytest

from app.audit.models import AuditEvent
from app.numbers.models import OfficialNumber
from tests.support import count_rows

URL = "/api/v1/official-numbers"


def add(api, **fields):
    body = {
        "phone": "+1 (415) 555-0100",
        "purpose": "outbound_verification",
        "label": "Acme Bank verification calls",
        **fields,
    }
    return api.post(URL, json=body)


def test_a_number_goes_into_service_in_e164(api):
    response = add(api)

    assert response.status_code == 201
    number = response.get_json()
    assert number["phone"] == "+14155550100"
    assert number["purpose"] == "outbound_verification"
    assert number["active"] is True
    assert number["retired_at"] is None
    assert [n["phone"] for n in api.get(URL).get_json()] == ["+14155550100"]


def test_a_number_already_in_service_is_a_conflict(api, app):
    add(api)

    response = add(api, phone="+14155550100", label="Another label")

    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "phone"
    assert count_rows(app, OfficialNumber) == 1


def test_retiring_keeps_the_history_and_a_number_can_return_to_service(api):
    add(api)

    retired = api.delete(f"{URL}/+14155550100")
    again = api.delete(f"{URL}/+14155550100")
    returned = add(api, purpose="inbound_hotline", label="Hotline", inbound_only=True)
    history = api.get(f"{URL}/+14155550100").get_json()

    assert retired.status_code == 200
    assert retired.get_json()["retired_at"] is not None
    assert again.status_code == 404
    assert returned.status_code == 201
    assert [(p["purpose"], p["active"]) for p in history["periods"]] == [
        ("inbound_hotline", True),
        ("outbound_verification", False),
    ]


def test_retired_numbers_are_listed_only_on_request(api):
    add(api)
    add(api, phone="+1 415 555 0101", purpose="complaints", label="Complaints")
    api.delete(f"{URL}/%2B14155550100")  # an encoded + is read the same

    in_service = api.get(URL).get_json()
    everything = api.get(URL, query_string={"include_retired": "true"}).get_json()

    assert [n["phone"] for n in in_service] == ["+14155550101"]
    assert sorted(n["phone"] for n in everything) == ["+14155550100", "+14155550101"]


def test_a_number_never_registered_is_not_found(api):
    assert api.get(f"{URL}/+14155550199").status_code == 404
    assert api.delete(f"{URL}/+14155550199").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": "+1 415 555"}, "phone"),
        ({"purpose": "marketing"}, "purpose"),
        ({"label": ""}, "label"),
        ({"label": 5}, "label"),
        ({"inbound_only": "maybe"}, "inbound_only"),
        ({"inbound_only": True}, "inbound_only"),  # outbound verification cannot be inbound-only
        ({"caller_name": "Acme"}, "caller_name"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(api, app, body, field):
    response = add(api, **body)

    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]["field"] == field
    assert count_rows(app, OfficialNumber) == 0
    assert count_rows(app, AuditEvent) == 0


def test_a_malformed_number_in_the_path_is_refused(api):
    response = api.delete(f"{URL}/call-me-maybe")

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "phone"

"""Bad input never reaches a 5xx: control characters, deep or huge JSON, missing bodies, wrong
methods and look-alike paths all get a 4xx JSON answer, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest

from app.authenticity.models import ScamReport
from app.complaints.models import Complaint
from app.customers.models import Customer
from app.inputs import MAX_JSON_DEPTH, MULTI_LINE_PATTERN, PATH_TEXT_PATTERN, SINGLE_LINE_PATTERN
from tests.support import count_rows

PHONE = "+39 333 123 4567"
REPORT = {"number": "+44 20 7946 0000"}
COMPLAINT = {"phone": PHONE, "text": "I was charged twice"}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/reports", {**REPORT, "description": "hello\x00"}, "description"),
        ("POST", "/api/v1/reports", {**REPORT, "reporter_phone": "\x00"}, "reporter_phone"),
        ("POST", "/api/v1/complaints", {**COMPLAINT, "email": "me\x00@bank.example"}, "email"),
        ("POST", "/api/v1/complaints", {**COMPLAINT, "text": "ring \x07 ring"}, "text"),
        (
            "POST",
            "/api/v1/complaints",
            {**COMPLAINT, "call_reference": "12\x003"},
            "call_reference",
        ),
        ("POST", "/api/v1/complaints", {**COMPLAINT, "text": "not a char \uffff"}, "text"),
        ("GET", "/api/v1/customers?external_id=c%00", None, "external_id"),
        ("POST", "/api/v1/customers", {"external_id": "c\x7f", "phone": PHONE}, "external_id"),
        ("POST", "/api/v1/customers", {"external_id": "\ud800", "phone": PHONE}, "external_id"),
        ("POST", "/api/v1/customers", {"external_id": "c", "phone": PHONE, "name": "A\nB"}, "name"),
        ("POST", "/api/v1/customers", {"external_id": "c", "phone": "\x1b" + PHONE}, "phone"),
        ("POST", "/api/v1/call-checks", {"reference": "48\x0097", "phone": PHONE}, "reference"),
        ("GET", "/api/v1/lookup?number=%2B39%00", None, "number"),
        ("GET", "/api/v1/scam-reports?number=%00", None, "number"),
        ("GET", "/api/v1/audit-events?subject_id=%00", None, "subject_id"),
        ("GET", "/api/v1/withdrawals/w%001", None, "event_id"),
        ("DELETE", "/api/v1/do-not-call/%2B39%00", None, "phone"),
        ("GET", "/api/v1/official-numbers/%C2%85", None, "phone"),
        ("POST", "/api/v1/do-not-call", {"phone": PHONE, "reason": "asked\x00"}, "reason"),
    ],
)
def test_a_control_character_in_any_text_is_a_422_naming_the_field(
    api, app, method, path, body, field
):
    response = api.client.open(path, method=method, json=body, headers=api.headers)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("control_character", field)
    assert error["message"].startswith(f"{field}: control characters")
    assert count_rows(app, Customer) == count_rows(app, Complaint) == 0
    assert count_rows(app, ScamReport) == 0


def test_free_text_keeps_its_tabs_and_line_breaks(client, api):
    text = "First they called.\n\tThen they asked for my PIN."
    reference = client.post("/api/v1/complaints", json={**COMPLAINT, "text": text}).get_json()

    stored = api.get(f"/api/v1/complaint-queue/{reference['reference']}").get_json()
    assert stored["text"] == text


def test_the_document_states_which_characters_each_text_takes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    assert schemas["CustomerCreate"]["properties"]["name"]["pattern"] == SINGLE_LINE_PATTERN
    assert schemas["ComplaintIn"]["properties"]["text"]["pattern"] == MULTI_LINE_PATTERN
    assert schemas["ReportIn"]["properties"]["description"]["pattern"] == MULTI_LINE_PATTERN
    # A stricter shape stands as it is: a region is two letters.
    assert schemas["CustomerCreate"]["properties"]["region"]["pattern"] == "^[A-Za-z]{2}$"
    (phone,) = spec["paths"]["/api/v1/do-not-call/{phone}"]["parameters"]
    assert phone["schema"]["pattern"] == PATH_TEXT_PATTERN


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("[" * 100_000, 400, "too_deep"),
        (
            '{"number": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}",
            400,
            "too_deep",
        ),
        ('{"number": NaN}', 400, "invalid_json"),
        ('{"number": Infinity}', 400, "invalid_json"),
        ('{"number": ' + "9" * 5000 + "}", 400, "invalid_json"),
        ('{"number": "+44 20 7946 0000"', 400, "invalid_json"),
        ("x" * (3 * 1024 * 1024), 413, "too_large"),
    ],
)
def test_a_body_too_deep_too_big_or_not_json_is_refused_before_it_is_read(
    client, app, body, status, code
):
    response = client.post("/api/v1/reports", data=body, content_type="application/json")

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert count_rows(app, ScamReport) == 0


def test_json_as_deep_as_allowed_is_read(client):
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    body = json.dumps({**REPORT, "asked_for": nested})

    response = client.post("/api/v1/reports", data=body, content_type="application/json")

    # Read, then refused by the schema: asked_for is a list of words, not of lists.
    assert response.status_code == 422
    assert response.get_json()["error"]["field"].startswith("asked_for")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/customers"),
        ("POST", "/api/v1/events"),
        ("POST", "/api/v1/reports"),
        ("POST", "/api/v1/complaints"),
        ("PATCH", "/api/v1/complaint-queue/C-7K3Q-2M"),
    ],
)
def test_a_required_body_is_required(api, app, method, path):
    response = api.client.open(path, method=method, headers=api.headers)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "body_required"
    assert count_rows(app, Customer) == 0


def test_an_optional_body_may_be_left_out(api):
    customer = api.post("/api/v1/customers", json={"external_id": "c", "phone": PHONE}).get_json()

    response = api.post(f"/api/v1/customers/{customer['id']}/app-codes")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/callbacks/stats", {"GET"}),
        ("PUT", "/api/v1/customers", {"GET", "POST"}),
        ("PATCH", "/api/v1/complaint-queue/recurring", {"GET"}),
        ("PATCH", "/api/v1/scam-reports/stats", {"GET"}),
        ("DELETE", "/api/v1/complaints", {"POST"}),
        ("TRACE", "/api/v1/lookup", {"GET"}),
    ],
)
def test_every_405_says_which_methods_the_url_takes(api, method, path, allowed):
    response = api.client.open(path, method=method, headers=api.headers)

    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_reference_route_never_takes_a_word_of_another_route(api):
    recurring = api.get("/api/v1/complaint-queue/recurring")
    stats = api.get("/api/v1/scam-reports/stats")

    assert recurring.status_code == stats.status_code == 200
    assert recurring.get_json()["by_week_and_category"] == []
    assert api.get("/api/v1/complaint-queue/C-7K3Q-2M").status_code == 404
    assert api.get("/api/v1/scam-reports/RPT-AAAA-BBBB").status_code == 404
    assert api.get("/api/v1/fraud-cases/FRD-AAAA-BBBB").status_code == 404

"""POST/GET/PATCH /api/v1/customers: numbers in E.164, the callee's zone, bad input refused."""

from __future__ import annotations

import threading

import pytest

from app.audit.models import AuditEvent
from app.customers.models import Customer
from tests.support import count_rows


def create(api, **fields):
    body = {"external_id": "cust-1", "phone": "+39 333 123 4567", **fields}
    return api.post("/api/v1/customers", json=body)


def test_a_customer_is_registered_in_e164_with_zone_and_language_from_the_number(api, app):
    response = create(api, name="Giulia Rossi")

    assert response.status_code == 201
    customer = response.get_json()
    assert customer["phone"] == "+393331234567"
    assert customer["time_zone"] == "Europe/Rome"
    assert customer["locale"] == "it"
    assert customer["external_id"] == "cust-1"
    assert api.get(f"/api/v1/customers/{customer['id']}").get_json() == customer


@pytest.mark.parametrize(
    ("phone", "region", "expected"),
    [
        ("+48 601-234-567", None, "+48601234567"),
        ("0048 601 234 567", None, "+48601234567"),
        ("601 234 567", "PL", "+48601234567"),
        ("601234567", "pl", "+48601234567"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("+86 138 1234 5678", None, "+8613812345678"),
    ],
)
def test_any_format_phonenumbers_reads_is_stored_in_e164(api, phone, region, expected):
    fields = {"phone": phone} | ({"region": region} if region else {})
    response = create(api, **fields)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["phone"] == expected


@pytest.mark.parametrize(
    ("phone", "locale", "time_zone"),
    [
        ("+48 601 234 567", "pl", "Europe/Warsaw"),
        ("+86 138 1234 5678", "zh", "Asia/Shanghai"),
        ("+44 20 7946 0123", "en", "Europe/London"),
        ("+1 212 555 1234", "en", "America/New_York"),
    ],
)
def test_language_and_zone_follow_the_number_by_default(api, phone, locale, time_zone):
    customer = create(api, phone=phone).get_json()

    assert (customer["locale"], customer["time_zone"]) == (locale, time_zone)


def test_a_number_spanning_several_zones_has_no_single_zone_until_one_is_given(api):
    customer = create(api, phone="+7 916 123 4567").get_json()

    assert customer["time_zone"] is None
    assert "Europe/Moscow" in customer["time_zones"]
    assert len(customer["time_zones"]) > 1

    overridden = create(api, external_id="cust-2", phone="+7 916 123 4567", time_zone="Asia/Omsk")
    assert overridden.get_json()["time_zone"] == "Asia/Omsk"
    assert overridden.get_json()["time_zone_overridden"] is True


def test_the_language_can_be_chosen_in_any_common_spelling(api):
    assert create(api, locale="zh-CN").get_json()["locale"] == "zh"
    assert create(api, external_id="c2", locale="pl_PL").get_json()["locale"] == "pl"
    assert create(api, external_id="c3", locale="EN").get_json()["locale"] == "en"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"phone": "not a number"}, 422, "phone"),
        ({"phone": "+1"}, 422, "phone"),
        ({"phone": "+39 000"}, 422, "phone"),  # impossible: too short for Italy
        ({"phone": "+1 555 555 5555"}, 422, "phone"),  # possible length, not a valid number
        ({"phone": "+" + "9" * 30}, 422, "phone"),
        ({"phone": ""}, 422, "phone"),
        ({"phone": "333 123 4567"}, 422, "phone"),  # no country code and no region
        ({"phone": 393331234567}, 422, "phone"),  # wrong type
        ({"phone": None}, 422, "phone"),
        ({"external_id": 7}, 422, "external_id"),
        ({"external_id": ""}, 422, "external_id"),
        ({"external_id": "x" * 129}, 422, "external_id"),
        ({"locale": "fr"}, 422, "locale"),
        ({"time_zone": "Mars/Olympus"}, 422, "time_zone"),
        ({"region": "Italy"}, 422, "region"),
        ({"name": "x" * 201}, 422, "name"),
        ({"nickname": "G"}, 422, "nickname"),  # unknown field
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    api, app, body, status, field
):
    response = create(api, **body)

    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"]
    assert count_rows(app, Customer) == 0
    assert count_rows(app, AuditEvent) == 0


@pytest.mark.parametrize("missing", ["external_id", "phone"])
def test_a_missing_required_field_is_named(api, app, missing):
    body = {"external_id": "cust-1", "phone": "+393331234567"}
    del body[missing]

    response = api.post("/api/v1/customers", json=body)

    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "required",
        "message": f"{missing}: Missing data for required field.",
        "field": missing,
    }
    assert count_rows(app, Customer) == 0


def test_a_body_that_is_not_json_is_refused(api, app):
    not_json = api.client.post(
        "/api/v1/customers",
        data="external_id=1",
        headers=api.headers,
        content_type="application/x-www-form-urlencoded",
    )
    broken = api.client.post(
        "/api/v1/customers",
        data='{"external_id": "1"',
        headers=api.headers,
        content_type="application/json",
    )
    a_list = api.post("/api/v1/customers", json=[{"external_id": "1"}])

    assert not_json.status_code == 415
    assert broken.status_code == 400
    assert broken.get_json()["error"]["code"] == "invalid_json"
    assert a_list.status_code == 422
    assert count_rows(app, Customer) == 0


def test_a_duplicate_external_id_is_a_conflict_and_keeps_the_first(api, app):
    first = create(api, phone="+48 601 234 567")
    second = create(api, phone="+39 333 123 4567")

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.get_json()["error"]["field"] == "external_id"
    assert count_rows(app, Customer) == 1
    assert count_rows(app, AuditEvent) == 1


def test_racing_registrations_of_one_external_id_give_one_customer_and_one_conflict(app):
    from tests.support import ApiClient

    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def register() -> None:
        client = ApiClient(app.test_client())
        barrier.wait()
        statuses.append(create(client).status_code)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409]
    assert count_rows(app, Customer) == 1


def test_customers_can_be_found_by_external_id(api):
    created = create(api).get_json()

    found = api.get("/api/v1/customers", query_string={"external_id": "cust-1"})
    missing = api.get("/api/v1/customers", query_string={"external_id": "nobody"})

    assert found.get_json()["id"] == created["id"]
    assert missing.status_code == 404
    assert api.get("/api/v1/customers/2b1c9a3e-0000-4000-8000-000000000000").status_code == 404


def test_the_zone_can_be_overridden_and_given_back_to_the_number(api):
    customer = create(api).get_json()
    url = f"/api/v1/customers/{customer['id']}"

    overridden = api.patch(url, json={"time_zone": "America/New_York"}).get_json()
    restored = api.patch(url, json={"time_zone": None}).get_json()

    assert (overridden["time_zone"], overridden["time_zone_overridden"]) == (
        "America/New_York",
        True,
    )
    assert (restored["time_zone"], restored["time_zone_overridden"]) == ("Europe/Rome", False)


def test_a_bad_update_changes_nothing(api):
    customer = create(api).get_json()
    url = f"/api/v1/customers/{customer['id']}"

    response = api.patch(url, json={"locale": "de", "name": "Someone Else"})

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "locale"
    assert api.get(url).get_json() == customer

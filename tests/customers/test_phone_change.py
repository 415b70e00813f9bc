"""PATCH /api/v1/customers/{id} with a new phone: history, audit, callbacks follow, 409s."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.callbacks.models import Callback
from app.customers.models import PhoneChange
from app.extensions import db
from tests.engine_fixtures import MORNING
from tests.support import ApiClient

OLD = "+393331234567"
NEW = "+393337654321"


def register(api, external_id: str = "cust-1", phone: str = "+39 333 123 4567") -> dict:
    response = api.post("/api/v1/customers", json={"external_id": external_id, "phone": phone})
    assert response.status_code == 201
    return response.get_json()


def history(app, customer_id: str) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(PhoneChange)
            .where(PhoneChange.customer_id == uuid.UUID(customer_id))
            .order_by(PhoneChange.valid_to)
        ).all()
        return [(row.number, row.changed_by) for row in rows]


def audit(api, customer_id: str) -> list[dict]:
    return api.get(
        "/api/v1/audit-events",
        query_string={"subject_type": "customer", "subject_id": customer_id},
    ).get_json()


def test_a_new_number_replaces_the_old_which_stays_in_the_history(api, app, clock):
    customer = register(api)
    clock.current = MORNING + timedelta(days=3)

    response = api.patch(f"/api/v1/customers/{customer['id']}", json={"phone": "333 765 4321"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["phone"] == NEW  # read in the old number's country
    assert api.get(f"/api/v1/customers/{customer['id']}").get_json()["phone"] == NEW
    assert [number for number, _ in history(app, customer["id"])] == [OLD]
    changes = [entry["changes"] for entry in audit(api, customer["id"])]
    assert {"phone": [OLD, NEW]} in [
        {key: value for key, value in c.items() if key == "phone"} for c in changes
    ]


def test_the_same_number_again_changes_nothing(api, app):
    customer = register(api)

    response = api.patch(f"/api/v1/customers/{customer['id']}", json={"phone": OLD})

    assert response.status_code == 200
    assert history(app, customer["id"]) == []
    # Nor when it was last changed, nor the audit log: as if it had not been sent.
    assert response.get_json() == customer
    assert [entry["action"] for entry in audit(api, customer["id"])] == ["customer.created"]


def test_a_number_another_customer_holds_is_refused(api, app):
    register(api, "cust-1")
    other = register(api, "cust-2", phone="+39 333 765 4321")

    response = api.patch(f"/api/v1/customers/{other['id']}", json={"phone": OLD})

    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "phone"
    assert api.get(f"/api/v1/customers/{other['id']}").get_json()["phone"] == NEW
    assert history(app, other["id"]) == []


def test_a_number_that_is_not_one_is_refused(api):
    customer = register(api)

    response = api.patch(f"/api/v1/customers/{customer['id']}", json={"phone": "12"})

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "phone"


def test_callbacks_waiting_to_be_dialed_ring_the_new_number(api, app, clock):
    customer = register(api)
    answer = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "cust-1",
            "occurred_at": MORNING.isoformat(),
        },
    )
    callback_id = answer.get_json()["callback_id"]
    assert callback_id

    api.patch(f"/api/v1/customers/{customer['id']}", json={"phone": NEW})

    with app.app_context():
        to_number = db.session.get(Callback, uuid.UUID(callback_id)).to_number
    assert to_number == NEW
    moved = api.get(
        "/api/v1/audit-events",
        query_string={"subject_type": "callback", "subject_id": callback_id},
    ).get_json()
    assert "callback.number_changed" in [entry["action"] for entry in moved]


def test_two_changes_at_once_each_find_the_number_the_other_left(app, api):
    customer = register(api)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    numbers = ["+393337654321", "+393339999999"]

    def change(number: str) -> None:
        client = ApiClient(app.test_client())
        barrier.wait()
        statuses.append(
            client.patch(f"/api/v1/customers/{customer['id']}", json={"phone": number}).status_code
        )

    threads = [threading.Thread(target=change, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200]
    final = api.get(f"/api/v1/customers/{customer['id']}").get_json()["phone"]
    former = [number for number, _ in history(app, customer["id"])]
    # One chain, nothing lost: the first number and the one the first change left are former
    # numbers, the other is the current one (both may end in the same instant, so no order).
    assert len(former) == 2 and OLD in former
    assert sorted([*former, final]) == sorted([OLD, *numbers])


def test_two_customers_racing_for_one_number_one_gets_it(app, api):
    first = register(api, "cust-1")
    second = register(api, "cust-2", phone="+39 333 111 2222")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def change(customer_id: str) -> None:
        client = ApiClient(app.test_client())
        barrier.wait()
        statuses.append(
            client.patch(f"/api/v1/customers/{customer_id}", json={"phone": NEW}).status_code
        )

    threads = [threading.Thread(target=change, args=(c["id"],)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 409]
    phones = [api.get(f"/api/v1/customers/{c['id']}").get_json()["phone"] for c in (first, second)]
    assert phones.count(NEW) == 1


@pytest.mark.usefixtures("lines")
def test_the_hotline_matches_the_waiting_callback_on_the_new_number_only(api, app, simulator):
    from tests.authenticity.test_line import ring_the_line

    customer = register(api)
    api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "cust-1",
            "occurred_at": MORNING.isoformat(),
        },
    )
    api.patch(f"/api/v1/customers/{customer['id']}", json={"phone": NEW})

    _, from_new = ring_the_line(app, simulator, NEW, ["#", "2"])
    _, from_old = ring_the_line(app, simulator, OLD, ["#", "2"])

    assert any("Stiamo cercando di contattarLa" in text for text in from_new)
    assert not any("Stiamo cercando di contattarLa" in text for text in from_old)

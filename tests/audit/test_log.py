"""The audit log records every change, who made it and through which request, and only grows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db


def test_every_change_is_recorded_with_its_actor_and_request(api):
    created = api.post(
        "/api/v1/customers",
        json={"external_id": "c-1", "phone": "+48601234567"},
        headers={"X-Request-Id": "req-42"},
    )
    customer_id = created.get_json()["id"]
    api.patch(f"/api/v1/customers/{customer_id}", json={"locale": "en"})
    api.post(
        "/api/v1/official-numbers",
        json={"phone": "+14155550100", "purpose": "sms", "label": "Texts"},
    )
    api.delete("/api/v1/official-numbers/+14155550100")

    log = api.get("/api/v1/audit-events").get_json()

    assert [entry["action"] for entry in log] == [
        "customer.created",
        "customer.updated",
        "official_number.added",
        "official_number.retired",
    ]
    assert all(entry["actor"].startswith("api_key:env:") for entry in log)
    assert log[0]["request_id"] == "req-42" == created.headers["X-Request-Id"]
    assert log[0]["subject_id"] == customer_id
    assert log[0]["changes"]["phone"] == "+48601234567"
    assert log[1]["changes"] == {"locale": ["pl", "en"]}


def test_the_log_can_be_filtered_by_subject(api):
    first = api.post("/api/v1/customers", json={"external_id": "a", "phone": "+48601234567"})
    api.post("/api/v1/customers", json={"external_id": "b", "phone": "+48601234568"})

    entries = api.get(
        "/api/v1/audit-events",
        query_string={"subject_type": "customer", "subject_id": first.get_json()["id"]},
    ).get_json()

    assert [entry["changes"]["external_id"] for entry in entries] == ["a"]


def test_a_request_that_changes_nothing_records_nothing(api):
    customer = api.post(
        "/api/v1/customers", json={"external_id": "a", "phone": "+48601234567"}
    ).get_json()
    api.patch(f"/api/v1/customers/{customer['id']}", json={"locale": "pl"})  # already pl

    assert len(api.get("/api/v1/audit-events").get_json()) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_rewrite_or_delete_history(api, app, statement):
    api.post("/api/v1/customers", json={"external_id": "a", "phone": "+48601234567"})

    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()

    log = api.get("/api/v1/audit-events").get_json()
    assert len(log) == 1
    assert log[0]["actor"].startswith("api_key:")


def test_postgresql_refuses_to_truncate_history(api, app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no TRUNCATE; its DELETE is refused above")
    api.post("/api/v1/customers", json={"external_id": "a", "phone": "+48601234567"})

    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text("TRUNCATE audit_events"))
        db.session.rollback()

    assert len(api.get("/api/v1/audit-events").get_json()) == 1

"""Queuing callbacks in bulk: one per customer, never a second open one for the same matter."""

from __future__ import annotations

import sqlalchemy as sa

from app.callbacks.bulk import expand_callbacks
from app.callbacks.models import Callback, CallbackStatus, EventType, Priority
from app.customers.models import Customer
from app.extensions import db
from tests.engine_fixtures import MORNING


def test_bulk_expansion_queues_one_callback_per_customer_once(app, api):
    for i in range(30):
        api.post(
            "/api/v1/customers", json={"external_id": f"c{i}", "phone": f"+39 333 123 45{i:02d}"}
        )
    api.post(
        "/api/v1/events",
        json={
            "id": "r",
            "type": "registration",
            "customer_external_id": "c0",
            "occurred_at": MORNING.isoformat(),
        },
    )

    with app.app_context():
        policy = app.extensions["callback_policy"]
        options = dict(
            policy=policy,
            trigger=EventType.REGISTRATION,
            flow="registration_check",
            priority=Priority.LOW,
            now=MORNING,
            reason="campaign: welcome",
        )
        first = expand_callbacks(db.session, customers=sa.select(Customer.id), **options)
        again = expand_callbacks(db.session, customers=sa.select(Customer.id), **options)
        db.session.commit()
        rows = db.session.scalars(sa.select(Callback).where(Callback.priority == "low")).all()

        assert (first, again) == (29, 0)  # c0 already had an open registration callback
        assert len(rows) == 29
        assert {r.status for r in rows} == {CallbackStatus.QUEUED}
        assert all(
            r.reasons == ["campaign: welcome"] and r.to_number.startswith("+39") for r in rows
        )
        assert all(r.due_by == MORNING + policy.deadlines["low"] for r in rows)
        assert len({r.id for r in rows}) == 29

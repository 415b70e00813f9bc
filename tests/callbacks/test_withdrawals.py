"""A withdrawal on a troubled account is held until its call decides; the core system is told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.carriers.simulator import CalleeScript
from app.extensions import db
from app.messaging.models import OutboxMessage
from app.messaging.webhooks import verify
from tests.engine_fixtures import MORNING, SECRET, deliver
from tests.telephony_fixtures import VALID_CODE

#: The app's call-status feed (its own tests: tests/agents/test_call_status.py).
CALL_STATUS = "customer.call_status_changed"


def decisions(app) -> list[OutboxMessage]:
    """The webhooks about decisions (not the call-status feed's), in order."""
    with app.app_context():
        return (
            db.session.query(OutboxMessage)
            .filter(OutboxMessage.kind == "webhook", OutboxMessage.subject != CALL_STATUS)
            .order_by(OutboxMessage.id)
            .all()
        )


pytestmark = pytest.mark.usefixtures("lines")


def held_withdrawal(api) -> dict:
    api.post("/api/v1/customers", json={"external_id": "it", "phone": "+39 333 123 4567"})
    decision = api.post(
        "/api/v1/events",
        json={
            "id": "wd-77",
            "type": "withdrawal_request",
            "customer_external_id": "it",
            "occurred_at": MORNING.isoformat(),
            "data": {"amount": "2500", "currency": "EUR", "account_has_open_problems": True},
        },
    ).get_json()
    assert decision["priority"] == "high"
    return decision


@pytest.mark.parametrize(
    ("keys", "status", "outcome"),
    [
        ([VALID_CODE, "1"], "authorized", "confirmed"),
        ([VALID_CODE, "2"], "rejected", "denied"),
        (["000000", "111111", "222222"], "rejected", "verification_failed"),
    ],
)
def test_the_call_decides_the_held_withdrawal_and_the_core_system_hears_it_signed(
    api, app, clock, dispatcher, simulator, core, keys, status, outcome
):
    held_withdrawal(api)
    assert api.get("/api/v1/withdrawals/wd-77").get_json()["status"] == "verifying"
    simulator.expect("+393331234567", CalleeScript(keys=keys))

    with app.app_context():
        dispatcher().dispatch()
    deliver(app, clock)

    hold = api.get("/api/v1/withdrawals/wd-77").get_json()
    assert hold["status"] == status
    # One for the hold, one for the callback's end.
    assert sorted(m["type"] for m, _, _ in core.received if m["type"] != CALL_STATUS) == [
        f"callback.{outcome}",
        f"withdrawal.{status}",
    ]
    message, signature, body = next(r for r in core.received if r[0]["type"].startswith("with"))
    assert message["data"]["event_id"] == "wd-77"
    assert message["data"]["outcome"] == outcome
    assert message["data"]["customer_external_id"] == "it"
    assert verify(SECRET, signature, body, now=clock())
    assert not verify("another-secret", signature, body, now=clock())
    assert not verify(SECRET, signature, body + b" ", now=clock())


def test_an_unreachable_customer_means_a_rejected_withdrawal(
    api, app, clock, dispatcher, simulator, core
):
    held_withdrawal(api)
    clock.advance(timedelta(hours=1, minutes=59).total_seconds())  # the deadline is near
    simulator.expect("+393331234567", CalleeScript(answer="no-answer"))

    with app.app_context():
        dispatcher().dispatch()

    assert api.get("/api/v1/withdrawals/wd-77").get_json()["status"] == "rejected"


def test_a_failing_core_system_gets_the_notification_again_later(
    api, app, clock, dispatcher, simulator, core
):
    held_withdrawal(api)
    simulator.expect("+393331234567", CalleeScript(keys=[VALID_CODE, "1"]))
    with app.app_context():
        dispatcher().dispatch()
    with app.app_context():
        pending = db.session.query(OutboxMessage).filter_by(kind="webhook").count()
    core.failing = pending  # every notification (the callback's, the hold's) fails at first

    first = deliver(app, clock)
    too_soon = deliver(app, clock)
    clock.advance(61)
    later = deliver(app, clock)

    assert (first, too_soon, later) == (0, 0, pending)
    assert len(core.received) == pending
    notifications = decisions(app)
    assert [(n.attempts, n.sent_at is not None) for n in notifications] == [(2, True)] * 2


def test_without_a_webhook_url_notifications_wait(api, app, clock, dispatcher, simulator):
    held_withdrawal(api)
    simulator.expect("+393331234567", CalleeScript(keys=[VALID_CODE, "1"]))
    with app.app_context():
        dispatcher().dispatch()

    assert deliver(app, clock) == 0
    assert len(decisions(app)) == 2


def test_an_unknown_withdrawal_is_not_found(api):
    assert api.get("/api/v1/withdrawals/nope").status_code == 404

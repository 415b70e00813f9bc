"""The console's customer page says when an account is frozen; a supervisor lifts a freeze only
after a confirmation with a note, which goes to the audit log and to the core system."""

from __future__ import annotations

import html
import uuid

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.customers.models import Customer
from app.extensions import db
from app.freezes.models import FreezeChannel, FreezeRequest
from app.freezes.service import active_freeze, request_freeze
from app.messaging.models import OutboxMessage
from tests.console.conftest import sign_in
from tests.console.test_records import NOW, add_customer

pytestmark = pytest.mark.usefixtures("accounts", "clock")


def text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def frozen_customer(app) -> uuid.UUID:
    customer_id = add_customer(app)
    with app.app_context():
        request_freeze(
            db.session(),
            customer=db.session.get_one(Customer, customer_id),
            channel=FreezeChannel.PHONE,
            actor=Actor("test"),
            now=NOW,
        )
        db.session.commit()
    return customer_id


def test_the_customer_page_says_the_account_is_frozen_and_an_auditor_cannot_lift_it(app):
    customer_id = frozen_customer(app)
    auditor = sign_in(app, "auditor")

    page = text(auditor.get(f"/console/customers/{customer_id}"))

    assert "Frozen since" in page and "Phone line" in page and "Fraud case FRD-" in page
    assert "Unfreeze…" not in page
    assert auditor.get(f"/console/customers/{customer_id}/unfreeze").status_code == 403


def test_a_supervisor_unfreezes_with_a_note_after_a_confirmation(app):
    customer_id = frozen_customer(app)
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get(f"/console/customers/{customer_id}"))
    assert f"/console/customers/{customer_id}/unfreeze" in page
    asked = text(supervisor.get(f"/console/customers/{customer_id}/unfreeze"))
    assert "Unfreeze the account of Giulia Rossi?" in asked
    no_note = supervisor.post(
        f"/console/customers/{customer_id}/unfreeze",
        data={"csrf_token": supervisor.csrf, "note": " "},
    )
    assert no_note.status_code == 422
    with app.app_context():
        assert active_freeze(db.session(), customer_id) is not None

    done = supervisor.post(
        f"/console/customers/{customer_id}/unfreeze",
        data={"csrf_token": supervisor.csrf, "note": "Identity document checked at the branch"},
    )

    assert done.status_code == 302
    assert "is no longer frozen" in text(supervisor.get(done.headers["Location"]))
    assert "Not frozen" in text(supervisor.get(f"/console/customers/{customer_id}"))
    with app.app_context():
        freeze = db.session.scalars(sa.select(FreezeRequest)).one()
        assert (freeze.status.value, freeze.lifted_verified_by) == ("lifted", "supervisor")
        entry = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "account.freeze_lifted")
        ).one()
        assert entry.changes["note"] == "Identity document checked at the branch"
        assert entry.actor.startswith("staff:")
        assert db.session.scalars(
            sa.select(OutboxMessage.subject).where(
                OutboxMessage.subject == "account.unfreeze_requested"
            )
        ).one()
    again = supervisor.get(f"/console/customers/{customer_id}/unfreeze")
    assert again.status_code == 302  # nothing left to unfreeze

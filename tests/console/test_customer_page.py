"""A customer's page in the console: who they are, whether codes are locked (in words), their
latest callbacks and calls; a supervisor unlocks a locked customer after a confirmation with a
note, which goes to the audit log; nobody else may."""

from __future__ import annotations

import base64
import html
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.calls.models import Call, CallDirection, CallStatus
from app.complaints.models import Complaint, ComplaintChannel
from app.extensions import db
from app.fraud.models import FraudCase
from app.verification.checker import keyring_for
from app.verification.models import AttemptResult, VerificationAttempt, VerificationLock
from app.verification.service import active_lock, enrol_authenticator
from tests.console.conftest import sign_in
from tests.console.test_records import NOW, PHONE, add_callbacks, add_customer

pytestmark = pytest.mark.usefixtures("accounts", "clock")
LOCKED_AT = NOW - timedelta(hours=2)


def text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def lock(app, customer_id: uuid.UUID) -> None:
    """Ten wrong codes this morning, and the lock they caused."""
    with app.app_context():
        for minute in range(10):
            db.session.add(
                VerificationAttempt(
                    customer_id=customer_id,
                    method="authenticator",
                    result=AttemptResult.WRONG,
                    created_at=LOCKED_AT - timedelta(minutes=10 - minute),
                )
            )
        db.session.add(VerificationLock(customer_id=customer_id, failures=10, locked_at=LOCKED_AT))
        db.session.commit()


def add_call(app, customer_id: uuid.UUID, reference: str = "R-4242") -> uuid.UUID:
    with app.app_context():
        call = Call(
            direction=CallDirection.INBOUND,
            from_number=PHONE,
            to_number="+14155550100",
            customer_id=customer_id,
            flow="verify_caller_line",
            flow_version=1,
            locale="it",
            reference=reference,
            status=CallStatus.COMPLETED,
        )
        db.session.add(call)
        db.session.commit()
        return call.id


def locked_customer(app) -> uuid.UUID:
    customer_id = add_customer(app)
    lock(app, customer_id)
    return customer_id


def test_the_page_says_who_the_customer_is_and_that_codes_are_locked(app):
    customer_id = locked_customer(app)
    callback_id = add_callbacks(app, customer_id, 1)[0]
    call_id = add_call(app, customer_id)

    page = text(sign_in(app, "auditor").get(f"/console/customers/{customer_id}"))

    assert "Giulia Rossi" in page and "cust-it" in page
    assert "Italian" in page  # the language by name, not "it"
    assert "+39 333 123 4567" in page  # the number as people write it
    assert "Locked since 23 Nov 2026, 08:00" in page
    assert "10 since 22 Nov 2026, 10:00 GMT (the lock comes at 10)" in page
    assert "Not enrolled" in page
    assert f"/console/callbacks/{callback_id}" in page
    assert f"/console/calls/{call_id}" in page and "R-4242" in page
    assert f"subject_id={customer_id}" in page and "subject_type=customer" in page
    assert "Unlock" not in page  # an auditor reads, a supervisor unlocks


def test_a_customer_who_is_not_locked_reads_so_and_offers_no_unlock(app):
    customer_id = add_customer(app)
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get(f"/console/customers/{customer_id}"))
    assert "Not locked" in page and "Unlock…" not in page and "No calls yet." in page

    asked = supervisor.get(f"/console/customers/{customer_id}/unlock")
    assert asked.status_code == 302
    page = text(supervisor.get(asked.headers["Location"]))
    assert "Not locked: this customer may verify with codes." in page

    done = supervisor.post(
        f"/console/customers/{customer_id}/unlock",
        data={"csrf_token": supervisor.csrf, "note": "called them back"},
    )
    assert done.status_code == 302
    assert "this customer is not locked" in text(supervisor.get(done.headers["Location"]))


def test_a_supervisor_unlocks_with_a_note_after_a_confirmation(app):
    customer_id = locked_customer(app)
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get(f"/console/customers/{customer_id}"))
    assert f"/console/customers/{customer_id}/unlock" in page
    asked = text(supervisor.get(f"/console/customers/{customer_id}/unlock"))
    assert "Let Giulia Rossi verify with codes again?" in asked
    assert 'name="note"' in asked
    with app.app_context():  # asking changes nothing
        assert active_lock(db.session(), customer_id) is not None

    done = supervisor.post(
        f"/console/customers/{customer_id}/unlock",
        data={"csrf_token": supervisor.csrf, "note": "Identity checked at the branch"},
    )

    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/console/customers/{customer_id}")
    page = text(supervisor.get(done.headers["Location"]))
    assert "Unlocked: Giulia Rossi may verify with codes again." in page
    assert "Not locked" in page
    assert "0 since 23 Nov 2026, 10:00 GMT" in page  # wrong codes count again from the unlock
    with app.app_context():
        assert active_lock(db.session(), customer_id) is None
        entry = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "verification.unlocked")
        )
        assert entry.actor == "staff:supervisor@bank.example"
        assert entry.subject_id == str(customer_id)
        assert entry.changes["note"] == "Identity checked at the branch"
        assert entry.changes["cleared_by"] == "staff:supervisor@bank.example"


def test_a_missing_note_is_refused_at_its_field(app):
    customer_id = locked_customer(app)
    supervisor = sign_in(app, "supervisor")

    for note in ("", "   ", "x" * 201):
        answer = supervisor.post(
            f"/console/customers/{customer_id}/unlock",
            data={"csrf_token": supervisor.csrf, "note": note},
        )
        assert answer.status_code == 422
        page = text(answer)
        assert 'id="note-error"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert active_lock(db.session(), customer_id) is not None


@pytest.mark.parametrize("role", ["agent", "auditor"])
def test_only_a_supervisor_may_unlock(app, role):
    customer_id = locked_customer(app)
    client = sign_in(app, role)

    assert client.get(f"/console/customers/{customer_id}").status_code == 200
    assert client.get(f"/console/customers/{customer_id}/unlock").status_code == 403
    answer = client.post(
        f"/console/customers/{customer_id}/unlock",
        data={"csrf_token": client.csrf, "note": "let them in"},
    )
    assert answer.status_code == 403
    with app.app_context():
        assert active_lock(db.session(), customer_id) is not None


def test_an_unknown_customer_is_a_404_page(app):
    supervisor = sign_in(app, "supervisor")
    unknown = uuid.uuid4()

    assert supervisor.get(f"/console/customers/{unknown}").status_code == 404
    assert supervisor.get(f"/console/customers/{unknown}/unlock").status_code == 404
    answer = supervisor.post(
        f"/console/customers/{unknown}/unlock",
        data={"csrf_token": supervisor.csrf, "note": "why"},
    )
    assert answer.status_code == 404


def test_the_callbacks_list_and_a_callback_link_to_the_customer(app):
    customer_id = add_customer(app)
    callback_id = add_callbacks(app, customer_id, 1)[0]
    auditor = sign_in(app, "auditor")

    assert f"/console/customers/{customer_id}" in text(auditor.get("/console/callbacks"))
    assert f"/console/customers/{customer_id}" in text(
        auditor.get(f"/console/callbacks/{callback_id}")
    )


def test_an_enrolled_authenticator_reads_in_words_never_its_secret(app):
    customer_id = add_customer(app)
    with app.app_context():
        enrol_authenticator(
            db.session(),
            customer_id,
            keyring=keyring_for(app),
            now=NOW - timedelta(days=3),
            actor=Actor("test"),
            secret=b"0123456789abcdefghij",
        )
        db.session.commit()
    secret = base64.b32encode(b"0123456789abcdefghij").decode()

    page = text(sign_in(app, "supervisor").get(f"/console/customers/{customer_id}"))

    assert "Enrolled on 20 Nov 2026, 10:00 GMT; not used yet" in page
    assert secret not in page and "0123456789abcdefghij" not in page


def test_their_complaints_and_fraud_cases_are_linked(app):
    customer_id = add_customer(app)
    with app.app_context():
        db.session.add(
            Complaint(
                reference="C-7K3Q-2M",
                reference_keypad="5737",
                phone=PHONE,
                customer_id=customer_id,
                category="service",
                department="customer_care",
                routing_reason="test",
                text="Nobody called me back",
                channel=ComplaintChannel.PHONE,
                locale="it",
                first_response_due=NOW + timedelta(days=1),
                final_response_due=NOW + timedelta(days=15),
            )
        )
        db.session.add(
            FraudCase(
                reference="FRD-AAAA-BBBB",
                customer_id=customer_id,
                trigger="transaction",
                action="freeze_card",
                receipt_to=PHONE,
            )
        )
        db.session.commit()

    page = text(sign_in(app, "auditor").get(f"/console/customers/{customer_id}"))

    assert "/console/complaints/C-7K3Q-2M" in page and "Complaint C-7K3Q-2M" in page
    assert "Fraud case FRD-AAAA-BBBB" in page


def test_the_page_lists_the_numbers_the_customer_had_before(app):
    from app.customers.service import update_customer

    customer_id = add_customer(app)
    auditor = sign_in(app, "auditor")
    assert "Former numbers" not in text(auditor.get(f"/console/customers/{customer_id}"))
    with app.test_request_context():
        update_customer(
            db.session(), actor=Actor("apikey:core"), customer_id=customer_id, phone="+393337654321"
        )
        db.session.commit()

    page = text(auditor.get(f"/console/customers/{customer_id}"))

    assert "Former numbers" in page
    former = page.split("Former numbers", 1)[1].split("Verification with codes", 1)[0]
    assert "apikey:core" in former and "+39 333 123 4567" in former
    assert "333 765 4321" not in former  # the current number is not a former one

"""Opening a fraud case when a verified customer denies the matter, and its text receipt."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.customers.models import Customer
from app.errors import NotFound
from app.fraud.messages import receipt
from app.fraud.models import FraudCase
from app.messaging.models import MessageKind
from app.messaging.outbox import AuditOnSend, enqueue
from app.numbers.lines import hotline_number, sms_sender
from app.references import readable_reference

#: What the core system is asked to do when the customer says it was not them.
#: Keyed by the callback's trigger (its event type's value): fraud sits below callbacks and
#: imports nothing of theirs.
ACTIONS = {
    "transaction": "freeze_card",
    "withdrawal_request": "reject_withdrawal",
    "registration": "block_registration",
    "account_change": "block_account_change",
    "campaign": "review",
    "freeze_request": "freeze_account",  # opened by app.freezes, not by a callback
}


def open_case(
    session: Session,
    *,
    callback_id: uuid.UUID,
    customer_id: uuid.UUID,
    trigger: str,
    to_number: str,
    call_id: object,
    now: datetime,
    actor: Actor,
) -> FraudCase:
    """The case for a denied callback (one per callback); its receipt goes out from the worker."""
    existing = session.scalar(select(FraudCase).where(FraudCase.callback_id == callback_id))
    if existing is not None:
        return existing
    case = FraudCase(
        reference=readable_reference("FRD"),
        customer_id=customer_id,
        callback_id=callback_id,
        call_id=call_id,
        trigger=trigger,
        action=ACTIONS[trigger],
        receipt_to=to_number,
        created_at=now,
    )
    session.add(case)
    record(
        session,
        actor=actor,
        action="fraud_case.opened",
        subject_type="fraud_case",
        subject_id=case.reference,
        changes={
            "callback_id": callback_id,
            "customer_id": customer_id,
            "trigger": case.trigger,
            "action": case.action,
        },
    )
    return case


def get_case(session: Session, reference: str) -> FraudCase:
    case = session.scalar(select(FraudCase).where(FraudCase.reference == reference.upper()))
    if case is None:
        raise NotFound(_l("no fraud case %(reference)s", reference=reference))
    return case


def queue_receipts(session: Session, *, company: str, now: datetime) -> int:
    """Queue each new case's receipt in the outbox, once; answers how many were queued.

    Without an official SMS number or a hotline to call back on, receipts wait.
    """
    sender = sms_sender(session)
    callback_number = hotline_number(session)
    if sender is None or callback_number is None:
        return 0
    due = list(
        session.scalars(
            select(FraudCase)
            .where(FraudCase.receipt_due.is_(True), FraudCase.receipt_sent_at.is_(None))
            .order_by(FraudCase.created_at)
            .limit(100)
            .with_for_update(skip_locked=True)
        )
    )
    for case in due:
        customer = session.get_one(Customer, case.customer_id)
        body = receipt(
            customer.locale,
            action=case.action,
            company=company,
            reference=case.reference,
            number=callback_number,
        )
        enqueue(
            session,
            kind=MessageKind.SMS,
            recipient=case.receipt_to,
            sender=sender,
            body=body,
            now=now,
            dedupe_key=f"fraud_case.receipt:{case.reference}",
            audit=AuditOnSend(
                "worker:receipts", "fraud_case.receipt_sent", "fraud_case", case.reference
            ),
        )
        case.receipt_sent_at = now  # handed to the outbox
    session.commit()
    return len(due)

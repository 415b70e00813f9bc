"""Opening a fraud case when a verified customer denies the matter, and its text receipt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks.models import Callback, EventType
from app.carriers.carrier import Telephony
from app.customers.models import Customer
from app.errors import NotFound
from app.fraud.messages import receipt
from app.fraud.models import FraudCase
from app.messaging.sms import Text, send_texts
from app.numbers.lines import hotline_number, sms_sender
from app.references import readable_reference

#: What the core system is asked to do when the customer says it was not them.
ACTIONS = {
    EventType.TRANSACTION: "freeze_card",
    EventType.WITHDRAWAL_REQUEST: "reject_withdrawal",
    EventType.REGISTRATION: "block_registration",
    EventType.ACCOUNT_CHANGE: "block_account_change",
    EventType.CAMPAIGN: "review",
}


def open_case(
    session: Session, callback: Callback, *, call_id: object, now: datetime, actor: Actor
) -> FraudCase:
    """The case for a denied callback (one per callback); its receipt goes out from the worker."""
    existing = session.scalar(select(FraudCase).where(FraudCase.callback_id == callback.id))
    if existing is not None:
        return existing
    case = FraudCase(
        reference=readable_reference("FRD"),
        customer_id=callback.customer_id,
        callback_id=callback.id,
        call_id=call_id,
        trigger=callback.trigger.value,
        action=ACTIONS[callback.trigger],
        receipt_to=callback.to_number,
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
            "callback_id": callback.id,
            "customer_id": callback.customer_id,
            "trigger": case.trigger,
            "action": case.action,
        },
    )
    return case


def get_case(session: Session, reference: str) -> FraudCase:
    case = session.scalar(select(FraudCase).where(FraudCase.reference == reference.upper()))
    if case is None:
        raise NotFound(f"no fraud case {reference}")
    return case


def send_receipts(session: Session, *, telephony: Telephony, company: str, now: datetime) -> int:
    """Text each new case's receipt at most once (marked sent before the carrier is asked)."""
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
        case.receipt_sent_at = now
    session.commit()
    texts = []
    for case in due:
        customer = session.get_one(Customer, case.customer_id)
        body = receipt(
            customer.locale,
            action=case.action,
            company=company,
            reference=case.reference,
            number=callback_number,
        )
        texts.append(
            Text(case.receipt_to, body, "fraud_case.receipt_sent", "fraud_case", case.reference)
        )
    return send_texts(
        session, telephony=telephony, sender=sender, texts=texts, actor=Actor("worker:receipts")
    )

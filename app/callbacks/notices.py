"""The text a customer gets when we gave up calling them: call us back, on an official number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callbacks.messages import UNREACHABLE_NOTICE
from app.callbacks.models import Callback
from app.customers.models import Customer
from app.messaging.models import MessageKind
from app.messaging.outbox import AuditOnSend, enqueue
from app.numbers.lines import hotline_number, sms_sender


def queue_notices(session: Session, *, company: str, now: datetime) -> int:
    """Queue each due notice in the outbox, once; answers how many were queued.

    Without an official SMS number or a hotline to call back on, notices wait.
    """
    sender = sms_sender(session)
    callback_number = hotline_number(session)
    if sender is None or callback_number is None:
        return 0
    due = list(
        session.scalars(
            select(Callback)
            .where(Callback.notice_due.is_(True), Callback.notice_sent_at.is_(None))
            .limit(100)
            .with_for_update(skip_locked=True)
        )
    )
    for callback in due:
        customer = session.get_one(Customer, callback.customer_id)
        body = UNREACHABLE_NOTICE.get(customer.locale, UNREACHABLE_NOTICE["en"]).format(
            company=company, number=callback_number
        )
        enqueue(
            session,
            kind=MessageKind.SMS,
            recipient=callback.to_number,
            sender=sender,
            body=body,
            now=now,
            dedupe_key=f"callback.notice:{callback.id}",
            audit=AuditOnSend("worker:notices", "callback.notice_sent", "callback", callback.id),
        )
        callback.notice_sent_at = now  # handed to the outbox
    session.commit()
    return len(due)

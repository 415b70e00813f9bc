"""The text a customer gets when we gave up calling them: call us back, on an official number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.callbacks.messages import UNREACHABLE_NOTICE
from app.callbacks.models import Callback
from app.carriers.carrier import Telephony
from app.customers.models import Customer
from app.messaging.sms import Text, send_texts
from app.numbers.lines import hotline_number, sms_sender


def send_notices(session: Session, *, telephony: Telephony, company: str, now: datetime) -> int:
    """Send each due notice at most once (it is marked sent before the carrier is asked)."""
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
        callback.notice_sent_at = now
    session.commit()
    texts = []
    for callback in due:
        customer = session.get_one(Customer, callback.customer_id)
        body = UNREACHABLE_NOTICE.get(customer.locale, UNREACHABLE_NOTICE["en"]).format(
            company=company, number=callback_number
        )
        texts.append(
            Text(callback.to_number, body, "callback.notice_sent", "callback", callback.id)
        )
    return send_texts(
        session, telephony=telephony, sender=sender, texts=texts, actor=Actor("worker:notices")
    )

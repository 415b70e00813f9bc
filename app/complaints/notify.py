"""Handing the complainant's texts and e-mails (and supervisors' alerts) to the outbox, each once.

A ComplaintMessage is the complaint's record of what it told whom (the receipt caps count them);
the outbox sends it: texts through the carrier from the official SMS number, e-mail through SMTP
or the log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.complaints.models import ComplaintMessage
from app.messaging.models import MessageKind
from app.messaging.outbox import enqueue
from app.numbers.lines import sms_sender


def queue_messages(session: Session, *, mail_from: str, now: datetime, limit: int = 100) -> int:
    """Queue the complaint messages not yet queued; answers how many."""
    due = list(
        session.scalars(
            select(ComplaintMessage)
            .where(ComplaintMessage.sent_at.is_(None))
            .order_by(ComplaintMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    sender = sms_sender(session)
    for message in due:
        sms = message.channel == "sms"
        enqueue(
            session,
            kind=MessageKind.SMS if sms else MessageKind.EMAIL,
            recipient=message.to,
            sender=sender if sms else mail_from,
            subject=None if sms else message.subject or "",
            body=message.body,
            now=now,
            dedupe_key=f"complaint_message:{message.id}",
        )
        message.sent_at = now  # handed to the outbox
    session.commit()
    return len(due)

"""Texts: sent through the carrier, from the official SMS number."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.carriers.carrier import Telephony, TelephonyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Text:
    """One text to send, and how to audit it once sent."""

    to: str
    body: str
    action: str  # the audit action, e.g. fraud_case.receipt_sent
    subject_type: str
    subject_id: object


def send_texts(
    session: Session, *, telephony: Telephony, sender: str, texts: list[Text], actor: Actor
) -> int:
    """Send texts already marked sent (and committed), so that none goes out twice; a refused one
    is logged, not retried. Answers how many the carrier took."""
    sent = 0
    for text in texts:
        try:
            telephony.send_sms(to=text.to, from_=sender, body=text.body)
        except TelephonyError as exc:
            log.warning(
                "text not sent",
                extra={
                    "action": text.action,
                    "subject": str(text.subject_id),
                    "error": type(exc).__name__,
                },
            )
            continue
        record(
            session,
            actor=actor,
            action=text.action,
            subject_type=text.subject_type,
            subject_id=text.subject_id,
            changes={"to": text.to},
        )
        sent += 1
    session.commit()
    return sent

"""Sending the complainant's texts and emails from the outbox, each once.

Texts go through the carrier from the official SMS number. Email goes through SMTP when SMTP_URL
is set (smtp://user:password@host:587 with STARTTLS when the server offers it, and never a
password without it; smtps:// for TLS from the start), and is written to the log otherwise, so
that development and tests see what would have been sent.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.carriers.carrier import Telephony, TelephonyError
from app.complaints.models import ComplaintMessage
from app.numbers.lines import sms_sender

log = logging.getLogger(__name__)


def masked_address(address: str) -> str:
    """someone@example.com -> s***@example.com: enough to tell messages apart in a log."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def send_email(smtp_url: str | None, sender: str, to: str, subject: str, body: str) -> None:
    if not smtp_url:
        # Development without SMTP: say that an email would go, without the address at INFO.
        log.info("email (no SMTP_URL: not sent)", extra={"to": masked_address(to)})
        log.debug("email not sent", extra={"to": to, "subject": subject, "body": body})
        return
    url = urlparse(smtp_url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    secure = url.scheme == "smtps"
    client_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    port = url.port or (465 if secure else 587)
    with client_class(url.hostname or "localhost", port, timeout=20) as client:
        client.ehlo()
        encrypted = secure
        if not secure and client.has_extn("starttls"):  # encrypt whenever the server can
            client.starttls()
            client.ehlo()
            encrypted = True
        if url.username and not encrypted:
            raise smtplib.SMTPException("refusing to send the SMTP password unencrypted")
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)


def send_messages(
    session: Session,
    *,
    telephony: Telephony,
    smtp_url: str | None,
    mail_from: str,
    now: datetime,
    limit: int = 100,
) -> int:
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
    for message in due:  # marked first: a crash after this never sends twice
        message.sent_at = now
    session.commit()
    sent = 0
    for message in due:
        try:
            if message.channel == "sms":
                if sender is None:
                    raise TelephonyError("no official sms number")
                telephony.send_sms(to=message.to, from_=sender, body=message.body)
            else:
                send_email(smtp_url, mail_from, message.to, message.subject or "", message.body)
            sent += 1
        except (TelephonyError, OSError, smtplib.SMTPException) as exc:
            message.error = f"{type(exc).__name__}: {exc}"[:200]
            log.warning("complaint message not sent", extra={"id": message.id})
    session.commit()
    return sent

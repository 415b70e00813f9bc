"""The one outbox: domains queue texts, e-mails and webhooks; one worker tick delivers them.

Delivery happens in three steps, so that no transaction (and no row lock) is open while the
network is asked: claim a batch (`claimed_by`, `claimed_until`, one more attempt) and commit; send
each message; record each result in a transaction of its own. Texts and e-mails go out at most
once (a claim whose worker vanished is given up, never sent again); webhooks are retried with
back-off, and carry the same id each time so that the core system can drop a repeat; a webhook is
never given up (the core system must learn of a denial), and a supervisor is alerted (an audit
entry, the console's dashboard, a warning in the log) when one is overdue or a message gives up.
"""

from __future__ import annotations

import json
import logging
import secrets
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.carriers.carrier import Telephony, TelephonyError
from app.messaging import webhooks
from app.messaging.email import send_email
from app.messaging.models import MessageKind, MessageState, OutboxMessage

log = logging.getLogger(__name__)

#: How long a claim is good for: longer than a batch of slow sends.
LEASE = timedelta(minutes=10)
BATCH = 50


@dataclass(frozen=True)
class AuditOnSend:
    """The audit entry written once the message is sent (e.g. fraud_case.receipt_sent)."""

    actor: str
    action: str
    subject_type: str
    subject_id: object


def enqueue(
    session: Session,
    *,
    kind: MessageKind,
    recipient: str,
    body: str,
    now: datetime,
    sender: str | None = None,
    subject: str | None = None,
    dedupe_key: str | None = None,
    audit: AuditOnSend | None = None,
) -> OutboxMessage | None:
    """Queue a message in the caller's transaction (it goes out once that commits).

    A message whose dedupe key was queued before is not queued again (answers None).
    """
    if dedupe_key is not None:
        seen = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if seen is not None:
            return None
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        sender=sender,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
        audit=None
        if audit is None
        else {
            "actor": audit.actor,
            "action": audit.action,
            "subject_type": audit.subject_type,
            "subject_id": str(audit.subject_id),
        },
        state=MessageState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    if dedupe_key is None:  # nothing to clash on: it goes in with the caller's next flush
        session.add(message)
        return message
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same dedupe key raced in from another worker
        return None
    return message


def notify_core(session: Session, *, type: str, payload: dict[str, Any], now: datetime) -> None:
    """Queue a webhook to the core system in the caller's transaction."""
    enqueue(
        session,
        kind=MessageKind.WEBHOOK,
        recipient="core",
        subject=type,
        body=json.dumps(payload, separators=(",", ":"), default=str),
        now=now,
    )


@dataclass(frozen=True)
class Channels:
    """How each kind of message leaves: the carrier, SMTP (or the log), the core system's URL."""

    telephony: Telephony | None = None
    smtp_url: str | None = None
    mail_from: str = ""
    webhook_url: str | None = None
    webhook_secret: str | None = None

    def open(self) -> set[MessageKind]:
        """The kinds that can be sent now; the others wait, visible, until configured."""
        kinds = {MessageKind.EMAIL}
        if self.telephony is not None:
            kinds.add(MessageKind.SMS)
        if self.webhook_url and self.webhook_secret:
            kinds.add(MessageKind.WEBHOOK)
        return kinds


@dataclass(frozen=True)
class _Claimed:
    """A claimed message, copied out of the session so that sending touches no database."""

    id: int
    kind: MessageKind
    recipient: str
    sender: str | None
    subject: str | None
    body: str
    attempts: int
    created_at: datetime
    audit: dict[str, Any] | None


def deliver_due(
    session: Session,
    *,
    channels: Channels,
    worker: str,
    now: datetime,
    kinds: Iterable[MessageKind] | None = None,
    limit: int = BATCH,
) -> int:
    """Deliver the messages that are due; answers how many were delivered."""
    open_kinds = channels.open() & set(kinds if kinds is not None else MessageKind)
    claimed = _claim(session, kinds=open_kinds, worker=worker, now=now, limit=limit)
    delivered = 0
    for message in claimed:  # no transaction is open from here until _record
        error = _send(message, channels, now)
        _record(session, message, error, now)
        delivered += error is None
    alert_overdue(session, now=now)
    return delivered


def _no_attempt_left() -> Any:
    """Texts and e-mails get one attempt; a webhook is retried until the core system takes it."""
    return OutboxMessage.kind != MessageKind.WEBHOOK


def overdue_webhooks(now: datetime) -> Any:
    """The condition of a core notification still undelivered past the threshold."""
    return (
        (OutboxMessage.kind == MessageKind.WEBHOOK)
        & (OutboxMessage.state == MessageState.PENDING)
        & (OutboxMessage.created_at < now - webhooks.OVERDUE)
    )


def alert_overdue(session: Session, *, now: datetime) -> int:
    """Alert a supervisor, once per message, of core notifications undelivered for too long:
    an audit entry and a warning in the log (no personal data: the id, the type, the tries).
    Answers how many were alerted now."""
    overdue = list(
        session.execute(
            update(OutboxMessage)
            .where(overdue_webhooks(now), OutboxMessage.alerted_at.is_(None))
            .values(alerted_at=now)
            .returning(
                OutboxMessage.id,
                OutboxMessage.subject,
                OutboxMessage.attempts,
                OutboxMessage.last_error,
            )
            .execution_options(synchronize_session=False)
        )
    )
    for id, type, attempts, error in overdue:
        _alert(session, "outbox.overdue", id, type=type, attempts=attempts, error=error, now=now)
    session.commit()
    return len(overdue)


def _alert(
    session: Session,
    action: str,
    id: int,
    *,
    type: str | None,
    attempts: int,
    error: str | None,
    now: datetime,
) -> None:
    reason = (error or "").split(":")[0] or None
    record(
        session,
        actor=Actor("system:outbox"),
        action=action,
        subject_type="outbox_message",
        subject_id=id,
        changes={"type": type, "attempts": attempts, "error": reason, "at": now},
    )
    log.warning(
        "core notification overdue" if action == "outbox.overdue" else "message given up",
        extra={"id": id, "type": type, "attempts": attempts, "error": reason},
    )


def _claim(
    session: Session, *, kinds: set[MessageKind], worker: str, now: datetime, limit: int
) -> list[_Claimed]:
    # A claim whose worker vanished mid-send: a text may have gone, so it is never sent again.
    vanished = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == MessageState.PENDING,
            OutboxMessage.claimed_until < now,
            _no_attempt_left(),
        )
        .values(
            state=MessageState.FAILED,
            last_error="the sender stopped mid-send: not known whether it went",
            claimed_until=None,
            alerted_at=now,
        )
        .returning(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    for id, kind, attempts in vanished:
        _alert(
            session,
            "outbox.given_up",
            id,
            type=str(kind),
            attempts=attempts,
            error="SenderVanished: not known whether it went",
            now=now,
        )
    claimable = (
        OutboxMessage.state == MessageState.PENDING,
        OutboxMessage.kind.in_([kind.value for kind in kinds]),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )
    ids = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(*claimable)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    claimed: list[_Claimed] = []
    if ids:
        token = f"{worker}:{secrets.token_hex(4)}"[-64:]
        # The conditions again: on a database without SKIP LOCKED, two workers may have read the
        # same ids; only one of them moves each row.
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *claimable)
            .values(
                claimed_by=token,
                claimed_until=now + LEASE,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.claimed_by == token)
            .order_by(OutboxMessage.id)
        ).scalars()
        claimed = [
            _Claimed(
                id=row.id,
                kind=MessageKind(row.kind),
                recipient=row.recipient,
                sender=row.sender,
                subject=row.subject,
                body=row.body,
                attempts=row.attempts,
                created_at=row.created_at,
                audit=row.audit,
            )
            for row in rows
        ]
    session.commit()  # the claim is kept before anything is sent
    return claimed


def _send(message: _Claimed, channels: Channels, now: datetime) -> str | None:
    """Send one message; answers None when it went, else why not."""
    try:
        if message.kind is MessageKind.SMS:
            assert channels.telephony is not None
            if not message.sender:
                raise TelephonyError("no official sms number")
            channels.telephony.send_sms(
                to=message.recipient, from_=message.sender, body=message.body
            )
        elif message.kind is MessageKind.EMAIL:
            send_email(
                channels.smtp_url,
                message.sender or channels.mail_from,
                message.recipient,
                message.subject or "",
                message.body,
            )
        else:
            assert channels.webhook_url and channels.webhook_secret
            body = webhooks.envelope(
                message.id, message.subject or "", message.created_at, json.loads(message.body)
            )
            return webhooks.post(channels.webhook_url, channels.webhook_secret, body, now=now)
    except (TelephonyError, OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


def _record(session: Session, message: _Claimed, error: str | None, now: datetime) -> None:
    values: dict[str, Any] = {"claimed_until": None, "last_error": error}
    if error is None:
        values.update(state=MessageState.SENT, sent_at=now)
        if message.audit:
            record(
                session,
                actor=Actor(message.audit["actor"]),
                action=message.audit["action"],
                subject_type=message.audit["subject_type"],
                subject_id=message.audit["subject_id"],
                changes={"to": message.recipient},
            )
    elif message.kind is MessageKind.WEBHOOK:  # never given up: tried again, capped back-off
        values["next_attempt_at"] = now + webhooks.backoff(message.attempts)
    else:
        values.update(state=MessageState.FAILED, alerted_at=now)
        _alert(
            session,
            "outbox.given_up",
            message.id,
            type=message.kind.value,
            attempts=message.attempts,
            error=error,
            now=now,
        )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()

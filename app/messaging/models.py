"""The outbox: every text, e-mail and core-system webhook, kept until delivered or given up."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utcnow


class MessageKind(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"  # to the core system


class MessageState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused, given up, or its sender vanished mid-send


class OutboxMessage(Base):
    """One message, added in the transaction of the change it reports; the worker delivers it.

    A worker claims a message by writing `claimed_by` and `claimed_until` and committing before
    it talks to the network, so that no row lock is held across an HTTP call.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[MessageKind] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))  # E.164, an address, or "core"
    sender: Mapped[str | None] = mapped_column(String(254))  # the official SMS number, MAIL_FROM
    subject: Mapped[str | None] = mapped_column(String(200))  # an e-mail's; a webhook's type
    body: Mapped[str] = mapped_column(Text)  # a webhook's is its JSON payload
    # One message per thing it reports (e.g. "fraud_case.receipt:FRD-..."): queued twice, kept once.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # What to write in the audit log once the message is sent: actor, action, subject.
    audit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[MessageState] = mapped_column(String(8), default=MessageState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # When a supervisor was alerted (a webhook overdue, a message given up): once per message.
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

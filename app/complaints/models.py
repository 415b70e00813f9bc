"""Complaints, their notes, and the messages that tell the customer what changed."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class ComplaintStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ComplaintChannel(enum.StrEnum):
    WEB = "web"
    API = "api"
    PHONE = "phone"


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_status_due", "status", "first_response_due"),
        Index("ix_complaints_keypad_phone", "reference_keypad", "phone"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(12), unique=True)  # C-7K3Q-2M
    reference_keypad: Mapped[str] = mapped_column(String(8))  # the digits a caller keys for it
    phone: Mapped[str] = mapped_column(String(16))  # E.164: status lookups need it
    email: Mapped[str | None] = mapped_column(String(254))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(32), index=True)
    routing_reason: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[ComplaintChannel] = mapped_column(
        enum_by_value(ComplaintChannel, "complaint_channel")
    )
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[ComplaintStatus] = mapped_column(
        enum_by_value(ComplaintStatus, "complaint_status"), default=ComplaintStatus.NEW
    )
    assigned_to: Mapped[str | None] = mapped_column(String(120))
    # The reference of one of our calls as the complainant gave it (linked below only if it
    # matches a call to their number; the public is never told whether it did).
    call_reference: Mapped[str | None] = mapped_column(String(12))
    # What the complaint is about, when known: one of our calls (by its reference) or a callback.
    about_call_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL")
    )
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL")
    )
    # The call that filed it (the complaints line), its recording and Twilio's transcription.
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_seconds: Mapped[int | None]
    transcription: Mapped[str | None] = mapped_column(Text)
    # The complainant asked to be called back about it: the complaint's team calls them (as it
    # does for a complaint the phone line filed without a message), customer or not.
    call_me: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The clocks.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    final_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComplaintNote(Base):
    __tablename__ = "complaint_notes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    complaint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(120))
    to_customer: Mapped[bool] = mapped_column(default=False)  # else internal
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ComplaintMessage(Base):
    """A text or an email to the complainant, sent once by the worker (an outbox)."""

    __tablename__ = "complaint_messages"
    __table_args__ = (Index("ix_complaint_messages_unsent", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    complaint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(8))  # sms, email
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))


class SatisfactionLink(Base):
    """The one-time link a closed complaint's text carries: "how satisfied are you?", 1 to 5.

    Only the token's SHA-256 is kept; it is used once and expires (SATISFACTION_LINK_DAYS)."""

    __tablename__ = "satisfaction_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

"""Events from the core system, the callbacks they queue, and each attempt to place one."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from app.database import Base, UTCDateTime, enum_by_value, utcnow
from app.outcomes import Outcome


class EventType(enum.StrEnum):
    TRANSACTION = "transaction"
    REGISTRATION = "registration"
    WITHDRAWAL_REQUEST = "withdrawal_request"
    ACCOUNT_CHANGE = "account_change"
    FEEDBACK = "feedback"  # a customer rated us (1-5) in the app; a low rating or call_me calls
    CAMPAIGN = "campaign"  # queued by a supervisor's campaign, not by an event
    AGENT = "agent"  # one of our people asked us to call the customer for them


#: The kinds of event the core system may send (campaign callbacks come from the console).
EVENT_KINDS = tuple(kind for kind in EventType if kind not in (EventType.CAMPAIGN, EventType.AGENT))


class Priority(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]


class CallbackStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for next_attempt_at
    CLAIMED = "claimed"  # leased by a worker that is about to dial
    IN_CALL = "in_call"  # an attempt was placed; waiting for the call to end
    DONE = "done"  # outcome set


class DialHold(enum.StrEnum):
    """Why its campaign holds a callback back (stored here: callbacks import no campaign)."""

    PAUSED = "paused"  # waits until its campaign resumes
    CANCELLED = "cancelled"  # ends, cancelled, the next time it would be dialed


class AttemptStatus(enum.StrEnum):
    DIALING = "dialing"  # committed before the carrier was asked; the outcome may be unknown
    PLACED = "placed"  # the carrier answered with a call id
    FAILED = "failed"  # the carrier refused; nothing was placed
    UNKNOWN = "unknown"  # the carrier's answer was lost: reconcile, never re-dial blindly
    ENDED = "ended"  # the call is over


class Event(Base):
    """An event as the core system sent it, with the decision we took (returned again on retry)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_customer_type_time", "customer_id", "type", "occurred_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(128), unique=True)  # the integrator's id
    type: Mapped[EventType] = mapped_column(enum_by_value(EventType, "event_type"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    anomalous: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[Priority | None] = mapped_column(enum_by_value(Priority, "priority"))
    callback_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("callbacks.id"), index=True)
    policy_version: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Callback(Base):
    """One verification call to make (and retry) about one open incident of one customer."""

    __tablename__ = "callbacks"
    __table_args__ = (
        # Counting the calls in flight (pacing). Partial, so queued inserts never touch it.
        Index(
            "ix_callbacks_in_flight",
            "status",
            sqlite_where=text("status IN ('claimed', 'in_call')"),
            postgresql_where=text("status IN ('claimed', 'in_call')"),
        ),
        # The dispatcher's claim: queued callbacks in deadline order, read from the index.
        Index(
            "ix_callbacks_queued_by_deadline",
            "due_by",
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
        # One open callback per customer and matter: a new anomaly joins it.
        Index(
            "uq_callbacks_open_incident",
            "customer_id",
            "flow",
            unique=True,
            sqlite_where=text("status != 'done'"),
            postgresql_where=text("status != 'done'"),
        ),
        # One live callback per number: two workers never both dial one person (the claim
        # skips a number with a live callback; this is the database's own guard on that).
        Index(
            "uq_callbacks_live_number",
            "to_number",
            unique=True,
            sqlite_where=text("status IN ('claimed', 'in_call')"),
            postgresql_where=text("status IN ('claimed', 'in_call')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    trigger: Mapped[EventType] = mapped_column(enum_by_value(EventType, "event_type"))
    flow: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(16))  # E.164; the previous number on changes
    priority: Mapped[Priority] = mapped_column(enum_by_value(Priority, "priority"))
    status: Mapped[CallbackStatus] = mapped_column(
        enum_by_value(CallbackStatus, "callback_status"), default=CallbackStatus.QUEUED
    )
    due_by: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    machine_retries: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(enum_by_value(Outcome, "callback_outcome"))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the flow's prompts speak: amount, currency, merchant, time.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    policy_version: Mapped[int]
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Why the last dial-time check put the call off (window, cap, do-not-call), for supervisors.
    waiting_for: Mapped[str | None] = mapped_column(String(120))
    #: Not stored: the reference of its latest call, where a query asks for it (the events API).
    reference: Mapped[str | None] = query_expression()
    # Given up as unreachable: a text asks the customer to call us back (sent by the worker).
    notice_due: Mapped[bool] = mapped_column(default=False)
    notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The campaign that queued it (its pacing and concurrency group), if any.
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    # How it is dialed (window, retry ladder, attempts, pacing, concurrency: see
    # policy.DialProfile); none: the policy's defaults.
    dial_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dial_hold: Mapped[DialHold | None] = mapped_column(enum_by_value(DialHold, "dial_hold"))


class CallbackAttempt(Base):
    """One try at placing a callback's call; committed as dialing before the carrier is asked."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint("callback_id", "number", name="uq_callback_attempts_number"),
        Index("ix_callback_attempts_customer_started", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    callback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    number: Mapped[int]
    status: Mapped[AttemptStatus] = mapped_column(enum_by_value(AttemptStatus, "attempt_status"))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id"))
    worker: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(String(32))  # busy, no-answer, machine, answered
    error: Mapped[str | None] = mapped_column(Text)


class DoNotCall(Base):
    """Numbers we must not call (the person asked, or the line is not theirs)."""

    __tablename__ = "do_not_call"

    phone: Mapped[str] = mapped_column(String(16), primary_key=True)  # E.164
    reason: Mapped[str] = mapped_column(String(200))
    # "all" calls, or only "campaigns" (an opt-out on a campaign call: security calls still come).
    scope: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DialPacing(Base):
    """The shared pacing clock: the next moment a call may start, across all workers."""

    __tablename__ = "dial_pacing"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_slot_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HoldStatus(enum.StrEnum):
    VERIFYING = "verifying"  # requested, and the verification call is queued or under way
    AUTHORIZED = "authorized"
    REJECTED = "rejected"


class WithdrawalHold(Base):
    """A withdrawal on an account with open problems, held until the call verifies or rejects it."""

    __tablename__ = "withdrawal_holds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)  # the core system's id
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    callback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("callbacks.id"), index=True)
    amount: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[HoldStatus] = mapped_column(enum_by_value(HoldStatus, "hold_status"))
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Feedback(Base):
    """What a customer told us about our service: a rating of 1 to 5, perhaps words, and where."""

    __tablename__ = "feedback"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    rating: Mapped[int]
    text: Mapped[str | None] = mapped_column(Text)
    call_me: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(16))  # "app": a feedback event from the core
    event_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    callback_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("callbacks.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Satisfaction(Base):
    """A 1-5 answer to "how satisfied are you?": at the end of a call, or to a closed complaint."""

    __tablename__ = "satisfaction"
    __table_args__ = (Index("ix_satisfaction_created_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # One answer per call: a webhook replayed records nothing new.
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    # The flow the call ended in (its agent, if any, is the call's queue entry's: the console
    # reads it there, as the callbacks domain knows no agents).
    flow: Mapped[str | None] = mapped_column(String(64))
    # A closed complaint's answer by text or page (its reference; no call).
    complaint_reference: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), index=True)
    score: Mapped[int]
    # A low score's reason: too_long, not_clear or other (none when the caller gave none).
    reason: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

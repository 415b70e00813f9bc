"""Phone calls, each status transition Twilio reported, and what was said and keyed."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class CallDirection(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class CallStatus(enum.StrEnum):
    """Twilio's CallStatus values."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def rank(self) -> int:
        """Order of the call's life; a report of a lower rank never moves a call back."""
        return _RANKS[self]

    @property
    def is_final(self) -> bool:
        return self.rank == _RANKS[CallStatus.COMPLETED]


#: STIR/SHAKEN verification results Twilio posts as `StirVerstat` on an inbound call: whether the
#: network vouched for the caller ID, and how far (A: the caller owns the number; B: the carrier
#: knows the caller, not the number; C: it only knows where the call entered its network).
STIR_VERSTATS = frozenset(
    {
        "TN-Validation-Passed-A",
        "TN-Validation-Passed-B",
        "TN-Validation-Passed-C",
        "TN-Validation-Failed-A",
        "TN-Validation-Failed-B",
        "TN-Validation-Failed-C",
        "TN-Validation-Failed",
        "No-TN-Validation",
    }
)
#: The one result that lets a caller ID find a customer's matter before a code from the app.
FULLY_ATTESTED = "TN-Validation-Passed-A"


def stir_verstat(value: str | None) -> str | None:
    """The attestation as Twilio posted it, if it is one we know; None for anything else."""
    return value if value in STIR_VERSTATS else None


_RANKS = {
    CallStatus.QUEUED: 0,
    CallStatus.INITIATED: 1,
    CallStatus.RINGING: 2,
    CallStatus.IN_PROGRESS: 3,
    CallStatus.COMPLETED: 4,
    CallStatus.BUSY: 4,
    CallStatus.NO_ANSWER: 4,
    CallStatus.FAILED: 4,
    CallStatus.CANCELED: 4,
}


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        # The calls on a person's number, either way (one live call per person; quiet after).
        Index("ix_calls_to_number", "to_number"),
        Index("ix_calls_from_number", "from_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # Twilio's CallSid
    direction: Mapped[CallDirection] = mapped_column(enum_by_value(CallDirection, "call_direction"))
    from_number: Mapped[str] = mapped_column(String(16))  # E.164
    to_number: Mapped[str] = mapped_column(String(16))  # E.164
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    # The callback this call is an attempt of (outbound verification calls).
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL"), index=True
    )
    flow: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int]
    locale: Mapped[str] = mapped_column(String(8))
    # Inbound: the network's STIR/SHAKEN verdict on the caller ID (STIR_VERSTATS); None when
    # Twilio sent none (an outbound call, or a caller ID nobody vouched for).
    caller_id_attestation: Mapped[str | None] = mapped_column(String(32))
    # The short reference spoken near the start of an outbound call ("4 8 2 1 9 7").
    reference: Mapped[str | None] = mapped_column(String(12), index=True)
    status: Mapped[CallStatus] = mapped_column(
        enum_by_value(CallStatus, "call_status"), default=CallStatus.QUEUED
    )
    answered_by: Mapped[str | None] = mapped_column(String(32))
    # What the flow established (confirmed, denied, verification_failed, voicemail, ...).
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Values the prompts may speak (amount, merchant, ...) and non-secret answers. Never codes.
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_seconds: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan"
    )
    turns: Mapped[list[CallTurn]] = relationship(
        back_populates="call", order_by="CallTurn.id", cascade="all, delete-orphan"
    )

    @property
    def caller_id_attested(self) -> bool:
        """Whether the network vouched that the caller owns the number they call from (A)."""
        return self.caller_id_attestation == FULLY_ATTESTED

    def add_turn(self, node: str, speaker: str, text: str) -> None:
        """A line of the call's transcript (the flows engine's call-state port writes here)."""
        session = object_session(self)
        if session is None:
            raise RuntimeError("a call's transcript is written through its session")
        session.add(CallTurn(call_id=self.id, node=node, speaker=speaker, text=text))


class CallEvent(Base):
    """One status transition as Twilio reported it; each status is kept once per call."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "status", name="uq_call_events_call_status"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    status: Mapped[CallStatus] = mapped_column(enum_by_value(CallStatus, "call_status"))
    sequence_number: Mapped[int | None]
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="events")


class CallTurn(Base):
    """A line of the call's transcript: a prompt we spoke, or keys the caller pressed."""

    __tablename__ = "call_turns"
    __table_args__ = (Index("ix_call_turns_call", "call_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(64))
    speaker: Mapped[str] = mapped_column(String(8))  # "system" or "caller"
    # Prompts in full; keys as pressed for menus, masked ("******") for codes.
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="turns")


class CallStep(Base):
    """A webhook step of a call's flow that was answered, and the TwiML it was answered with.

    Twilio may send a step again (a retry), and anyone who saw a signed request may replay it: a
    step seen before gets the same answer without running its effects (a code check, an outcome)
    again. The key is a keyed digest (HMAC-SHA256 under SECRET_KEY) of the step's URL (node,
    attempt, step number) and of what the caller did (Digits, the recording, the transfer's
    result), so that no typed code can be read back from it.
    """

    __tablename__ = "call_steps"
    __table_args__ = (UniqueConstraint("call_id", "key", name="uq_call_steps_call_key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256
    twiml: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Agents (staff who take calls), what they can handle, and the callers waiting for them.

An agent is a staff user with a presence, the skills they handle and the languages they speak
(one row each in agent_skills and agent_languages, so the router's match is plain SQL on SQLite
and PostgreSQL alike). A queue entry is one caller's place in the queue: it keeps `entered_at`
whatever happens (an offer nobody answered, an agent who went away, virtual hold), so the caller
never loses their place.

    waiting --route--> offered --accept--> connected --hang up--> ended --wrap up--> (wrapped_at)
       ^                  |
       +--expired/away----+        waiting/offered --caller hangs up--> abandoned
    waiting --virtual hold--> virtual_hold --route--> offered (we call the caller back)

A warm transfer hands the caller on (offered to a colleague, or waiting for a team) and leaves a
handoff: the first agent's own part of the call, which they wrap up with their own disposition
and notes once they have left the line; the caller's matter stays with whoever ends the call.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class Skill(enum.StrEnum):
    """What a caller needs, and what an agent can handle."""

    FRAUD = "fraud"
    WITHDRAWALS = "withdrawals"
    COMPLAINTS = "complaints"
    GENERAL = "general"


class Presence(enum.StrEnum):
    """An agent's state: they choose available or away; the rest follows their calls."""

    AVAILABLE = "available"
    RINGING = "ringing"  # the router offered them a caller
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after a call, writing its disposition and notes
    AWAY = "away"


class QueueState(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # ringing at an agent's desk, until offer_expires_at
    CONNECTED = "connected"
    VIRTUAL_HOLD = "virtual_hold"  # the caller hung up; we call them back when it is their turn
    ABANDONED = "abandoned"  # the caller hung up while waiting or ringing
    ENDED = "ended"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATES


#: The states of a caller still in the queue or with an agent: at most one per call.
OPEN_STATES = frozenset(
    {QueueState.WAITING, QueueState.OFFERED, QueueState.CONNECTED, QueueState.VIRTUAL_HOLD}
)
#: The states of a caller waiting for their turn (the router's candidates; their position).
WAITING_STATES = (QueueState.WAITING, QueueState.VIRTUAL_HOLD)
#: The states that hold an agent: at most one per agent.
HOLDING_STATES = (QueueState.OFFERED, QueueState.CONNECTED)


class Disposition(enum.StrEnum):
    """How the agent says a call ended, at wrap-up."""

    RESOLVED = "resolved"
    CONFIRMED = "confirmed"  # the customer confirmed the matter (it was them)
    DENIED = "denied"  # "it was not me": fraud
    FOLLOW_UP = "follow_up"  # we call them back at a time agreed with them
    COMPLAINT_FILED = "complaint_filed"


def _in(states: tuple[QueueState, ...] | frozenset[QueueState]) -> str:
    return "state IN (" + ", ".join(f"'{state.value}'" for state in sorted(states)) + ")"


#: SQL of the partial indexes (the migration uses the same text).
OPEN_SQL = _in(OPEN_STATES)
HOLDING_SQL = _in(HOLDING_STATES)
WAITING_SQL = _in(WAITING_STATES)


class Agent(Base):
    """A staff member who takes calls: created on first use, away."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_presence", "presence", "presence_since"),)

    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    presence: Mapped[Presence] = mapped_column(
        enum_by_value(Presence, "agent_presence"), default=Presence.AWAY
    )
    # Since when in this presence: the longest-idle available agent gets the next caller.
    presence_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    skill_rows: Mapped[list[AgentSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgentSkill.skill"
    )
    language_rows: Mapped[list[AgentLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgentLanguage.locale"
    )

    @property
    def skills(self) -> tuple[Skill, ...]:
        return tuple(row.skill for row in self.skill_rows)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(row.locale for row in self.language_rows)


class AgentSkill(Base):
    __tablename__ = "agent_skills"
    __table_args__ = (Index("ix_agent_skills_skill", "skill"),)

    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.staff_id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[Skill] = mapped_column(enum_by_value(Skill, "agent_skill"), primary_key=True)


class AgentLanguage(Base):
    __tablename__ = "agent_languages"
    __table_args__ = (Index("ix_agent_languages_locale", "locale"),)

    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.staff_id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)  # en, it, pl, zh


class QueueEntry(Base):
    """One caller's place in the queue, from entering it to the agent's wrap-up."""

    __tablename__ = "queue_entries"
    __table_args__ = (
        # The router's candidates, most urgent first, read from the index.
        Index(
            "ix_queue_entries_waiting",
            "priority",
            "entered_at",
            sqlite_where=text(WAITING_SQL),
            postgresql_where=text(WAITING_SQL),
        ),
        # One caller at a time per agent: the database's own guard on the router.
        Index(
            "uq_queue_entries_agent_holding",
            "agent_id",
            unique=True,
            sqlite_where=text(HOLDING_SQL),
            postgresql_where=text(HOLDING_SQL),
        ),
        # One open place per call: enqueueing a call again answers its place.
        Index(
            "uq_queue_entries_open_call",
            "call_id",
            unique=True,
            sqlite_where=text(OPEN_SQL),
            postgresql_where=text(OPEN_SQL),
        ),
        Index("ix_queue_entries_entered_at", "entered_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The caller's leg (for virtual hold: the call they made before hanging up).
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    # The matter the caller is about, if any: the wrap-up's disposition decides it.
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL"), index=True
    )
    skill: Mapped[Skill] = mapped_column(enum_by_value(Skill, "agent_skill"))
    priority: Mapped[int]  # higher first: 3 high, 2 medium, 1 low
    locale: Mapped[str] = mapped_column(String(8))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[QueueState] = mapped_column(
        enum_by_value(QueueState, "queue_state"), default=QueueState.WAITING
    )
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.staff_id", ondelete="SET NULL"), index=True
    )
    # Kept for one agent: the one who asked us to call the customer ("call now", a follow-up);
    # offered to anyone with the skill only while that agent is away.
    reserved_for: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.staff_id", ondelete="SET NULL")
    )
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The call ringing (then joined) at the agent's browser phone, in the caller's conference:
    # the carrier's call id, so that only that call's end ends the talk.
    agent_call_sid: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The caller chose to be called back: when (their place is still entered_at).
    virtual_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How and when the caller was verified ("app_code"); never the code, never any digit.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[str | None] = mapped_column(String(32))
    # The wrap-up.
    disposition: Mapped[Disposition | None] = mapped_column(
        enum_by_value(Disposition, "queue_disposition")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Handoff(Base):
    """An agent's part of a call they handed on (a warm transfer): from the transfer to their
    leaving the line, then their own wrap-up, which decides nothing about the caller's matter."""

    __tablename__ = "queue_handoffs"
    __table_args__ = (Index("ix_queue_handoffs_agent_id", "agent_id", "wrapped_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("queue_entries.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.staff_id", ondelete="CASCADE"))
    # The first agent's browser phone in the caller's conference: its end is their leaving.
    agent_call_sid: Mapped[str | None] = mapped_column(String(64))
    # To whom: a colleague, or a team (skill).
    to_agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.staff_id", ondelete="SET NULL")
    )
    to_skill: Mapped[Skill | None] = mapped_column(enum_by_value(Skill, "agent_skill"))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Their own wrap-up.
    disposition: Mapped[Disposition | None] = mapped_column(
        enum_by_value(Disposition, "queue_disposition")
    )
    notes: Mapped[str | None] = mapped_column(Text)
    wrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerCallStatus(Base):
    """The call status the core system was last told of, so that it hears each change once."""

    __tablename__ = "customer_call_statuses"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

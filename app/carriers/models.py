"""The simulator's calls waiting for a person at the softphone page, every call's state as all
the app's processes see it, and its conferences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utcnow


class SimulatorCall(Base):
    """A call the simulator is ringing or playing for a person at the softphone page.

    Only the simulator writes here; it keeps the call between the person's clicks, since the
    web process may answer each click from another worker.
    """

    __tablename__ = "simulator_calls"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    status_callback: Mapped[str | None] = mapped_column(Text)
    machine_detection: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # ringing, in-progress, ended
    # The TwiML still to play, starting with the <Gather> that waits for the person's keys.
    pending: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    seconds: Mapped[int] = mapped_column(default=0)
    sequence: Mapped[int] = mapped_column(default=-1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SimulatorCallState(Base):
    """Every call the simulator placed or took, as every process of the app sees it: its last
    status (and that status's SequenceNumber) and whether the app hung it up.

    Only the simulator writes here. The web processes and the worker each play calls with their
    own objects; this row is what one asks of a call another placed or plays (its status for the
    reaper, a hang-up the playing process must obey, a call to find after a lost create).
    """

    __tablename__ = "simulator_call_states"
    __table_args__ = (Index("ix_simulator_call_states_to_number", "to_number", "placed_at"),)

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(160))  # a number, or client:<identity>
    url: Mapped[str] = mapped_column(Text, default="")
    status_callback: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))  # None until its first report
    sequence: Mapped[int] = mapped_column(default=-1)
    seconds: Mapped[int] = mapped_column(default=0)
    hung_up: Mapped[bool] = mapped_column(default=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SimulatorConference(Base):
    """A conference of the simulator (a caller waiting, agents and supervisors with them).

    Only the simulator writes here, so that every process (the web workers, the worker that rings
    agents) sees one conference: `live_name` is its FriendlyName while it lasts, None once it
    has ended (a name is reused by the next caller of that queue entry).
    """

    __tablename__ = "simulator_conferences"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    live_name: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # init, in-progress, completed
    status_callback: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    sequence: Mapped[int] = mapped_column(default=0)
    # What happened, in order: {"who": "carrier" or a label, "text": ...}.
    log: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SimulatorParticipant(Base):
    """One call in a simulated conference, with what it heard and its own call's progress."""

    __tablename__ = "simulator_participants"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    conference_sid: Mapped[str] = mapped_column(
        ForeignKey("simulator_conferences.sid", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)  # the order they came in
    label: Mapped[str] = mapped_column(String(16))  # caller, agent, transfer, supervisor
    state: Mapped[str] = mapped_column(String(16))  # ringing, joined, left
    muted: Mapped[bool] = mapped_column(default=False)
    hold: Mapped[bool] = mapped_column(default=False)
    coaching: Mapped[bool] = mapped_column(default=False)
    call_sid_to_coach: Mapped[str | None] = mapped_column(String(64))
    start_conference_on_enter: Mapped[bool] = mapped_column(default=True)
    end_conference_on_exit: Mapped[bool] = mapped_column(default=False)
    action: Mapped[str | None] = mapped_column(Text)
    then: Mapped[str | None] = mapped_column(Text)
    heard: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # The participant's call: enough to report its status and show it, from any process.
    direction: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(160))
    url: Mapped[str] = mapped_column(Text, default="")
    status_callback: Mapped[str | None] = mapped_column(Text)
    lines: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    statuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    seconds: Mapped[int] = mapped_column(default=0)
    sequence: Mapped[int] = mapped_column(default=-1)

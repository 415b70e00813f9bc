"""The simulator's calls waiting for a person at the softphone page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
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

"""Staff accounts for the console: supervisors, agents, auditors."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class Role(enum.StrEnum):
    SUPERVISOR = "supervisor"  # everything
    AGENT = "agent"  # works complaints and fraud cases
    AUDITOR = "auditor"  # reads


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_by_value(Role, "staff_role"))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The console's language for them (en, it, pl, zh) and the zone its times are shown in (an
    # IANA name; none: the console's CONSOLE_TIME_ZONE).
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    time_zone: Mapped[str | None] = mapped_column(String(64))


class StaffSession(Base):
    """A signed-in console session, kept server-side so sign-out and expiry revoke every copy."""

    __tablename__ = "staff_sessions"

    # The cookie carries a random token; the database keeps only its SHA-256.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last thing a person did
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # signed_out, idle, too_old

"""Staff accounts for the console: supervisors, agents, auditors."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Uuid
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
    # The second factor: a TOTP secret sealed with VERIFICATION_KEYS ("key id:base64 of nonce and
    # ciphertext"), the time step of the last code accepted (a code works once), and an
    # enrolment begun but not yet confirmed by a code.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(200))


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
    end_reason: Mapped[str | None] = mapped_column(String(20))  # an EndReason


class EndReason(enum.StrEnum):
    """Why a console session ended."""

    SIGNED_OUT = "signed_out"
    IDLE = "idle"
    TOO_OLD = "too_old"
    DEACTIVATED = "deactivated"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
    ROLE_CHANGED = "role_changed"
    SECOND_FACTOR_RESET = "second_factor_reset"


class SignInEvent(enum.StrEnum):
    """The audit actions that make up an account's sign-in history."""

    SIGNED_IN = "console.signed_in"
    SIGN_IN_FAILED = "console.sign_in_failed"
    SIGNED_OUT = "console.signed_out"


class SignInFailure(enum.StrEnum):
    """Why a sign-in attempt failed (kept in its audit entry)."""

    PASSWORD = "password"  # noqa: S105 - a reason, not a password
    CODE = "code"
    TOO_MANY = "too_many"


class SecondFactorUsed(enum.StrEnum):
    """What a sign-in passed its second step with."""

    NONE = "none"  # not enrolled, and their role does not require one
    AUTHENTICATOR = "authenticator"
    RECOVERY_CODE = "recovery_code"


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator; only its keyed hash is kept."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(12))  # which VERIFICATION_KEYS key hashed it
    digest: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Base):
    """A one-time link a supervisor made so someone can set a new password; its token is hashed."""

    __tablename__ = "staff_password_resets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

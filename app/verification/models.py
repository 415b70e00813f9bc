"""What verifies a customer: an authenticator (TOTP) and app codes, every try, and locks.

Nothing here holds a code or a secret in the clear: secrets are AES-GCM ciphertext, codes are
keyed hashes, and attempts keep only their result.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class Authenticator(Base):
    """The customer's TOTP secret (RFC 6238); enrolling again replaces it."""

    __tablename__ = "authenticators"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(16))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    digits: Mapped[int] = mapped_column(default=6)
    period: Mapped[int] = mapped_column(default=30)
    # The newest time step a code was accepted for: that step and every older one are spent.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CodePurpose(enum.StrEnum):
    CALLBACK = "callback"  # we call the customer (a verification callback)
    INBOUND_CALL = "inbound_call"  # the customer calls one of our lines


class AppCode(Base):
    """A one-time code the app shows; only its keyed hash is kept. A new one replaces the old."""

    __tablename__ = "app_codes"
    __table_args__ = (
        # At most one live code per customer.
        Index(
            "uq_app_codes_live",
            "customer_id",
            unique=True,
            sqlite_where=text("used_at IS NULL AND replaced_at IS NULL"),
            postgresql_where=text("used_at IS NULL AND replaced_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[CodePurpose] = mapped_column(enum_by_value(CodePurpose, "code_purpose"))
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL")
    )
    key_id: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AttemptResult(enum.StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"  # matched nothing (or a code that expired, or was for another callback)
    REPLAYED = "replayed"  # a code, or an authenticator step, that was already used
    LOCKED = "locked"  # refused without a check: the customer is locked
    NOTHING_ENROLLED = "nothing_enrolled"  # no authenticator and no live app code


class VerificationAttempt(Base):
    """One code typed on a call, with its result; never the code."""

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_customer_time", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL")
    )
    method: Mapped[str | None] = mapped_column(String(16))  # authenticator, app_code
    result: Mapped[AttemptResult] = mapped_column(
        enum_by_value(AttemptResult, "verification_result")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerificationLock(Base):
    """Code verification stopped for a customer after too many failures; cleared, never deleted."""

    __tablename__ = "verification_locks"
    __table_args__ = (
        Index(
            "uq_verification_locks_active",
            "customer_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    failures: Mapped[int]
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(120))  # app, supervisor:<name>
    clear_note: Mapped[str | None] = mapped_column(String(200))

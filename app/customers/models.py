"""A customer as the call center knows them: a number to call, a language, a time zone."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The id in the company's core system; events name customers by it.
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)  # E.164
    locale: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(200))
    # The callee's zone: set by an integrator, or the number's own when it names only one.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    time_zone_overridden: Mapped[bool] = mapped_column(default=False)
    # A fact the core system confirms (the date of birth), to match a caller who asks to freeze
    # the account without the app: only a keyed hash ("key id:hex"), never the date itself.
    birth_date_hash: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PhoneChange(Base):
    """A number a customer had before: from when, until when, and who changed it."""

    __tablename__ = "customer_phone_changes"
    __table_args__ = (Index("ix_customer_phone_changes_number", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(16))  # E.164: the old number
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(160))  # the audit log's actor

"""Fraud cases: opened when a verified customer says "it was not me"."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class FraudCase(Base):
    __tablename__ = "fraud_cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # FRD-XXXX-XXXX
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    # One case per callback: a denial is reported once, however often it is repeated.
    callback_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("callbacks.id", ondelete="SET NULL"), unique=True
    )
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(32))  # transaction, withdrawal_request, ...
    action: Mapped[str] = mapped_column(String(32))  # freeze_card, reject_withdrawal, ...
    status: Mapped[CaseStatus] = mapped_column(
        enum_by_value(CaseStatus, "fraud_case_status"), default=CaseStatus.OPEN
    )
    # The text receipt: sent once, by the worker, to the number we called.
    receipt_to: Mapped[str] = mapped_column(String(16))
    receipt_due: Mapped[bool] = mapped_column(default=True)
    receipt_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

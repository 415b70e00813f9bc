"""A request to freeze a customer's account, from the phone lines, the public page or the API."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class FreezeChannel(enum.StrEnum):
    PHONE = "phone"  # one of our lines: the hotline or the service line
    WEB = "web"  # the public page /freeze
    API = "api"  # the company's other channels, which identified the customer themselves


class FreezeStatus(enum.StrEnum):
    FROZEN = "frozen"  # the core system was told to freeze; stays until a strong unfreeze
    LIFTED = "lifted"


class FreezeRequest(Base):
    __tablename__ = "freeze_requests"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    # The customer's id while the freeze stands, else null: unique, so that two requests at
    # once make one freeze (one webhook, one case, one text).
    frozen_customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    channel: Mapped[FreezeChannel] = mapped_column(enum_by_value(FreezeChannel, "freeze_channel"))
    status: Mapped[FreezeStatus] = mapped_column(
        enum_by_value(FreezeStatus, "freeze_status"), default=FreezeStatus.FROZEN
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    fraud_case_reference: Mapped[str | None] = mapped_column(String(16))
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the customer proved who they are before the freeze was lifted: app_code, branch, agent,
    # supervisor; and who says so (an API key's label, a staff member).
    lifted_verified_by: Mapped[str | None] = mapped_column(String(16))
    lifted_by: Mapped[str | None] = mapped_column(String(200))
    lift_note: Mapped[str | None] = mapped_column(String(500))

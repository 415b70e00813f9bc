"""Reports of calls that pretended to be us: the fraud team's queue."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class ReportStatus(enum.StrEnum):
    NEW = "new"
    REVIEWING = "reviewing"
    CLOSED = "closed"


class ReportChannel(enum.StrEnum):
    WEB = "web"
    API = "api"
    PHONE = "phone"
    APP = "app"  # the customer's app, in one step, with our calls to them at that moment


#: What the caller asked for: the fraud team sorts reports by it.
ASKED_FOR = ("password", "pin", "sms_code", "card_details", "move_money", "install_app", "other")


class ScamReport(Base):
    __tablename__ = "scam_reports"
    __table_args__ = (
        Index("ix_scam_reports_number_created", "reported_number", "created_at"),
        Index("ix_scam_reports_status_created", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # RPT-XXXX-XXXX
    # The number the call showed: E.164 when valid, else its digits as the person saw them.
    # (None for a fraud complaint that names no number.)
    reported_number: Mapped[str | None] = mapped_column(String(20))
    # Whether it is one of our numbers (then it was spoofed), at the time of the report.
    number_official: Mapped[bool] = mapped_column(default=False)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reporter_phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    description: Mapped[str | None] = mapped_column(Text)
    asked_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[ReportChannel] = mapped_column(enum_by_value(ReportChannel, "report_channel"))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    # Filed from the customer's app: who they are, and the app's call status at that moment
    # (app.agents.call_status: on a call with us, calling now, scheduled, called, not called).
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    call_status: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A complaint routed to the fraud team appears in this queue too.
    complaint_reference: Mapped[str | None] = mapped_column(String(12), index=True)
    status: Mapped[ReportStatus] = mapped_column(
        enum_by_value(ReportStatus, "report_status"), default=ReportStatus.NEW
    )
    staff_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

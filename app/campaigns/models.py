"""Campaigns: calls a supervisor schedules for an audience, through the callback engine."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # started, waiting for its start date (or its next repeat)
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Segment(Base):
    """A saved audience: customers by language and number prefix."""

    __tablename__ = "segments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    locales: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: any
    phone_prefix: Mapped[str | None] = mapped_column(String(8))  # e.g. +39
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(300))
    # What it is about in each language ({"it": "..."}): the call speaks the callee's.
    purposes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    flow: Mapped[str] = mapped_column(String(64))
    status: Mapped[CampaignStatus] = mapped_column(
        enum_by_value(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    segment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("segments.id"))
    # A CSV audience: its rows' problems, reported back (the first 500).
    row_errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rows_read: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_start: Mapped[str] = mapped_column(String(5))  # "10:00", inside the legal window
    window_end: Mapped[str] = mapped_column(String(5))
    repeat_cron: Mapped[str | None] = mapped_column(String(120))  # "0 10 * * MON"
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(default=0)
    # Its dial profile (defaults: config/callback_policy.yaml, campaign_defaults).
    calls_per_second: Mapped[float]
    max_concurrent: Mapped[int]
    max_attempts: Mapped[int]
    retry_minutes: Mapped[list[int]] = mapped_column(JSON)
    queued: Mapped[int] = mapped_column(default=0)  # callbacks queued by its runs
    created_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignRecipient(Base):
    """One customer of a CSV audience."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (Index("ix_campaign_recipients_campaign", "campaign_id", "customer_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))

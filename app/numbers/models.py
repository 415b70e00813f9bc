"""Official numbers, with their history: a retired number keeps its row and dates."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, UTCDateTime, enum_by_value, utcnow


class NumberPurpose(enum.StrEnum):
    OUTBOUND_VERIFICATION = "outbound_verification"
    INBOUND_HOTLINE = "inbound_hotline"
    COMPLAINTS = "complaints"
    SMS = "sms"
    # The general service line: the caller verifies with an app code, then waits for a person.
    SERVICE_LINE = "service_line"


class OfficialNumber(Base):
    __tablename__ = "official_numbers"
    __table_args__ = (
        # A number is in service at most once at a time; its retired periods stay as history.
        Index(
            "uq_official_numbers_phone_active",
            "phone",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    phone: Mapped[str] = mapped_column(String(16), index=True)  # E.164
    purpose: Mapped[NumberPurpose] = mapped_column(enum_by_value(NumberPurpose, "number_purpose"))
    label: Mapped[str] = mapped_column(String(120))  # shown to the public by the lookup
    # The label in each language ({"it": "..."}); a language without one gets `label`.
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # Inbound-only lines never appear as a caller ID (candidates for do-not-originate lists).
    inbound_only: Mapped[bool] = mapped_column(default=False)
    # The call flow that answers this line (inbound lines); see call_flows/.
    flow: Mapped[str | None] = mapped_column(String(64))
    active_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def label_in(self, locale: str) -> str:
        """The label a person who speaks this language is told."""
        return self.labels.get(locale) or self.label

"""Which official number to use: the caller ID of a call, the hotline, the sender of texts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.numbers.models import NumberPurpose, OfficialNumber
from app.phones import parse_phone


class CallerIds:
    """The official outbound numbers, loaded once per batch; the callee's country first."""

    def __init__(self, session: Session) -> None:
        numbers = list(
            session.scalars(
                select(OfficialNumber)
                .where(
                    OfficialNumber.retired_at.is_(None),
                    OfficialNumber.inbound_only.is_(False),
                    OfficialNumber.purpose == NumberPurpose.OUTBOUND_VERIFICATION,
                )
                .order_by(OfficialNumber.active_from)
            )
        )
        if not numbers:
            raise Conflict(
                _l("no official outbound_verification number is in service to call from"),
                code="no_caller_id",
            )
        self.default = numbers[0]
        self.by_region: dict[str | None, OfficialNumber] = {}
        for number in numbers:
            self.by_region.setdefault(parse_phone(number.phone).region, number)

    def for_callee(self, callee: str) -> OfficialNumber:
        return self.by_region.get(parse_phone(callee).region, self.default)


def caller_id_for(session: Session, callee: str) -> OfficialNumber:
    """An official outbound number, never an inbound-only or retired one; same country first."""
    return CallerIds(session).for_callee(callee)


def hotline_number(session: Session) -> str | None:
    """The number people can call back on (spoken in voicemails)."""
    return session.scalar(
        select(OfficialNumber.phone)
        .where(
            OfficialNumber.retired_at.is_(None),
            OfficialNumber.purpose == NumberPurpose.INBOUND_HOTLINE,
        )
        .order_by(OfficialNumber.active_from)
        .limit(1)
    )


def sms_sender(session: Session) -> str | None:
    """The official number our texts come from."""
    return session.scalar(
        select(OfficialNumber.phone)
        .where(OfficialNumber.retired_at.is_(None), OfficialNumber.purpose == NumberPurpose.SMS)
        .order_by(OfficialNumber.active_from)
        .limit(1)
    )

"""Is this number ours? Did we call you? Report a call that pretended to be us.

The lookup reads only the registry of official numbers: it never reveals whether a number belongs
to a customer, and every answer has the same keys whatever the number.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.authenticity import texts
from app.authenticity.models import ASKED_FOR, ReportChannel, ReportStatus, ScamReport
from app.calls.models import Call, CallDirection, CallStatus
from app.errors import InvalidInput, NotFound
from app.locales import babel_locale
from app.numbers.models import NumberPurpose, OfficialNumber
from app.phones import (
    REGIONS,
    TypedNumber,
    example_number,
    read_own_number,
    read_typed_number,
    regions_of,
)
from app.references import readable_reference

REFERENCE_WINDOW = timedelta(hours=24)


def _date(moment: datetime | None, locale: str) -> str:
    return format_date(moment, "long", locale=babel_locale(locale)) if moment else ""


def registry_regions(session: Session) -> list[str]:
    """The countries of every number we have had, in service or retired."""
    return regions_of(session.scalars(select(OfficialNumber.phone).distinct()))


def read_seen_number(
    session: Session, raw: object, *, regions: Sequence[str | None], keypad: bool = False
) -> TypedNumber:
    """A number someone saw: read in their country (the first known of regions: the one they
    chose, else the one their language suggests) and in every country we have numbers in, since
    they may type ours as their phone shows it."""
    # Only the first: a country the person picked replaces their language's guess (a Chinese
    # speaker in the US who picks the US reads (415) 555-0100 as American, not also Chinese).
    # Dropping the guess never hides one of ours: each of ours is read in its own country below.
    own = next((r.upper() for r in regions if r and r.upper() in REGIONS), None)
    return read_typed_number(
        raw, regions=[own, *registry_regions(session)], field="number", keypad=keypad
    )


def lookup(session: Session, seen: TypedNumber, *, locale: str, company: str) -> dict[str, Any]:
    """The one answer every front door gives about a number read by read_seen_number.

    A number that can be several numbers, one of them ours, is "unreadable", never "ours" nor
    "not ours": a scam number must not pass for ours, nor ours for a scam. Only when none of
    its readings is ours is it not ours.
    """
    numbers = [reading.e164 for reading in seen.readings]
    rows = (
        list(
            session.scalars(
                select(OfficialNumber)
                .where(OfficialNumber.phone.in_(numbers))
                .order_by(OfficialNumber.active_from.desc())
            )
        )
        if numbers
        else []
    )
    unreadable = not numbers or (seen.single is None and bool(rows))
    if unreadable:
        rows = []  # no number at all, or one that may or may not be ours: tell nothing of ours
    active = next((row for row in rows if row.retired_at is None), None)
    latest = active or (rows[0] if rows else None)
    if unreadable:
        status, calls = "unreadable", False
    elif active is not None:
        calls = active.purpose is NumberPurpose.OUTBOUND_VERIFICATION and not active.inbound_only
        status = "calls_you" if calls else "never_calls"
    elif latest is not None:
        status, calls = "retired", False
    else:
        status, calls = "not_ours", False
    message = texts.pick(texts.LOOKUP[status], locale).format(
        label=latest.label_in(locale) if latest else "",
        since=_date(latest.active_from if latest else None, locale),
        until=_date(latest.retired_at if latest else None, locale),
        company=company,
        example=example_number(seen.regions[0] if seen.regions else None),
    )
    return {
        "number": seen.single.e164 if seen.single else seen.digits,
        "official": active is not None,
        "status": status,
        "calls_from_this_number": calls,
        "purpose": latest.purpose.value if latest else None,
        "label": latest.label_in(locale) if latest else None,
        "inbound_only": latest.inbound_only if latest else None,
        "active_from": latest.active_from if latest else None,
        "retired_at": latest.retired_at if latest else None,
        "message": message,
        "advice": texts.pick(texts.ADVICE, locale),
        "language": locale if locale in texts.ADVICE else "en",
    }


def normalize_reference(raw: object) -> str:
    text = "".join(str(raw or "").split())
    if not text.isdigit() or len(text) != 6:
        raise InvalidInput(
            _l("reference: the call's reference has 6 digits"), field="reference", code="invalid"
        )
    return text


def check_reference(
    session: Session,
    *,
    reference: object,
    phone: object,
    regions: Sequence[str | None],
    now: datetime,
    locale: str,
) -> dict[str, Any]:
    """Did we call this number with this reference in the last 24 hours? Yes or no, nothing more.
    The phone is the person's own, read in their countries (their choice, then their language's)."""
    ref = normalize_reference(reference)
    number = read_own_number(phone, regions=regions, field="phone", locale=locale).e164
    called = (
        session.scalar(
            select(func.count())
            .select_from(Call)
            .where(
                Call.direction == CallDirection.OUTBOUND,
                Call.reference == ref,
                Call.to_number == number,
                Call.sid.is_not(None),
                Call.created_at >= now - REFERENCE_WINDOW,
            )
        )
        or 0
    ) > 0
    return {
        "called": called,
        "message": texts.pick(texts.REFERENCE[called], locale),
        "advice": texts.pick(texts.ADVICE, locale),
    }


_LIVE = [CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS]


def active_call(session: Session, customer_id: uuid.UUID, *, now: datetime) -> Call:
    """The call we are placing to the customer right now, for the app to show its reference."""
    call = session.scalar(
        select(Call)
        .where(
            Call.customer_id == customer_id,
            Call.direction == CallDirection.OUTBOUND,
            Call.status.in_(_LIVE),
            Call.created_at >= now - timedelta(hours=1),
        )
        .order_by(Call.created_at.desc())
        .limit(1)
    )
    if call is None:
        raise NotFound(_l("we are not calling this customer now"), code="no_active_call")
    return call


def recent_calls_to(session: Session, number: str, *, now: datetime) -> list[Call]:
    """Our outbound calls to a number in the last 24 hours, newest first (the phone line's ANI)."""
    return list(
        session.scalars(
            select(Call)
            .where(
                Call.direction == CallDirection.OUTBOUND,
                Call.to_number == number,
                Call.sid.is_not(None),
                Call.created_at >= now - REFERENCE_WINDOW,
            )
            .order_by(Call.created_at.desc())
        )
    )


# ----- reports -----


def new_report_reference() -> str:
    return readable_reference("RPT")


def file_report(
    session: Session,
    *,
    number: object,
    channel: ReportChannel,
    now: datetime,
    actor: Actor,
    locale: str = "en",
    regions: Sequence[str | None] = (),
    keypad: bool = False,
    called_at: datetime | None = None,
    reporter_phone: object = None,
    description: str | None = None,
    asked_for: list[str] | None = None,
    call_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    call_status: dict[str, Any] | None = None,
) -> ScamReport:
    """File a report of a scam call. The number it showed is kept in E.164 when it reads as one
    number; else as typed (no country uses it, or it may be a number of several), and it is
    flagged official when any of the numbers it may be is one of ours in service, so that a
    spoofed number of ours is never hidden among "not official" ones. From the customer's app
    the number may be left out (the call they are on), and the report keeps who they are and
    our calls to them at that moment (`call_status`)."""
    seen = (
        None
        if number is None and channel is ReportChannel.APP
        else read_seen_number(session, number, regions=regions, keypad=keypad)
    )
    reported = None if seen is None else seen.single.e164 if seen.single else seen.digits
    if called_at is not None:
        if called_at > now + timedelta(minutes=5):
            raise InvalidInput(_l("called_at: this is in the future"), field="called_at")
        if called_at < now - timedelta(days=365):
            raise InvalidInput(
                _l("called_at: reports are for calls of the last year"), field="called_at"
            )
    reporter = (
        read_own_number(reporter_phone, regions=regions, field="reporter_phone", locale=locale).e164
        if reporter_phone not in (None, "")
        else None
    )
    unknown = sorted(set(asked_for or []) - set(ASKED_FOR))
    if unknown:
        raise InvalidInput(
            _l(
                "asked_for: %(unknown)s is not one of %(choices)s",
                unknown=", ".join(unknown),
                choices=", ".join(ASKED_FOR),
            ),
            field="asked_for",
        )
    readings = [reading.e164 for reading in seen.readings] if seen is not None else []
    official = bool(readings) and (
        session.scalar(
            select(OfficialNumber.id)
            .where(
                OfficialNumber.phone.in_(readings),
                OfficialNumber.retired_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )
    report = ScamReport(
        id=uuid.uuid4(),
        reference=new_report_reference(),
        reported_number=reported,
        number_official=official,
        called_at=called_at,
        reporter_phone=reporter,
        description=(description or "").strip() or None,
        asked_for=sorted(set(asked_for or [])),
        channel=channel,
        locale=locale,
        call_id=call_id,
        customer_id=customer_id,
        call_status=call_status,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    record(
        session,
        actor=actor,
        action="scam_report.filed",
        subject_type="scam_report",
        subject_id=report.reference,
        changes={
            "number": reported,
            "official": official,
            "channel": channel.value,
            "asked_for": report.asked_for,
            **({"call_status": call_status} if call_status is not None else {}),
        },
    )
    return report


def get_report(session: Session, reference: str) -> ScamReport:
    report = session.scalar(select(ScamReport).where(ScamReport.reference == reference.upper()))
    if report is None:
        raise NotFound(_l("no report %(reference)s", reference=reference))
    return report


def list_reports(
    session: Session,
    *,
    status: ReportStatus | None = None,
    number: str | None = None,
    limit: int = 100,
) -> list[ScamReport]:
    query = select(ScamReport).order_by(ScamReport.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(ScamReport.status == status)
    if number:
        typed = read_typed_number(number, regions=(), field="number")
        query = query.where(
            ScamReport.reported_number == (typed.single.e164 if typed.single else typed.digits)
        )
    return list(session.scalars(query))


def update_report(
    session: Session,
    reference: str,
    *,
    status: ReportStatus,
    note: str | None,
    actor: Actor,
    now: datetime,
) -> ScamReport:
    report = get_report(session, reference)
    before = (report.status.value, report.staff_note)
    report.status, report.staff_note, report.updated_at = status, note, now
    record(
        session,
        actor=actor,
        action="scam_report.updated",
        subject_type="scam_report",
        subject_id=report.reference,
        changes={"status": [before[0], status.value], "note": [before[1], note]},
    )
    return report


def report_stats(session: Session, *, days: int, now: datetime) -> dict[str, Any]:
    """Reports per reported number and per day, for supervisors: which numbers are being spoofed."""
    since = now - timedelta(days=days)
    rows = session.execute(
        select(ScamReport.reported_number, ScamReport.number_official, ScamReport.created_at).where(
            ScamReport.created_at >= since, ScamReport.reported_number.is_not(None)
        )
    ).all()
    per_number: dict[str, dict[str, Any]] = {}
    per_day: dict[str, int] = defaultdict(int)
    per_number_day: dict[tuple[str, str], int] = defaultdict(int)
    for number, official, created_at in rows:
        assert number is not None  # the query keeps the reports that read as a number
        day = created_at.date().isoformat()
        entry = per_number.setdefault(
            number, {"number": number, "official": official, "reports": 0, "last_at": created_at}
        )
        entry["reports"] += 1
        entry["official"] = entry["official"] or official
        entry["last_at"] = max(entry["last_at"], created_at)
        per_day[day] += 1
        per_number_day[(number, day)] += 1
    return {
        "days": days,
        "total": len(rows),
        "by_number": sorted(per_number.values(), key=lambda e: (-e["reports"], e["number"])),
        "by_day": [{"date": d, "reports": per_day[d]} for d in sorted(per_day)],
        "by_number_and_day": [
            {"number": n, "date": d, "reports": c} for (n, d), c in sorted(per_number_day.items())
        ],
    }


def reports_query(
    *,
    status: ReportStatus | None = None,
    channel: ReportChannel | None = None,
    number: str | None = None,
) -> Select[Any]:
    """The fraud queue's reports, filtered: by status, channel, and the number the call showed
    (typed in any format; read as E.164 when it is a valid number, else as its digits)."""
    query = select(ScamReport)
    if status is not None:
        query = query.where(ScamReport.status == status)
    if channel is not None:
        query = query.where(ScamReport.channel == channel)
    if number:
        typed = read_typed_number(number, regions=(), field="number")
        query = query.where(
            ScamReport.reported_number == (typed.single.e164 if typed.single else typed.digits)
        )
    return query


def reports_about(session: Session, report: ScamReport, *, limit: int = 50) -> list[ScamReport]:
    """The other reports of the number this report names, newest first."""
    if not report.reported_number:
        return []
    return list(
        session.scalars(
            select(ScamReport)
            .where(
                ScamReport.reported_number == report.reported_number,
                ScamReport.id != report.id,
            )
            .order_by(ScamReport.created_at.desc())
            .limit(limit)
        )
    )


def calls_from(session: Session, number: str, *, limit: int = 20) -> list[Call]:
    """Our latest calls that showed this number (a report of one of ours: were they ours?)."""
    return list(
        session.scalars(
            select(Call)
            .where(Call.from_number == number, Call.direction == CallDirection.OUTBOUND)
            .order_by(Call.created_at.desc())
            .limit(limit)
        )
    )


def number_periods(session: Session, number: str) -> list[OfficialNumber]:
    """Every period of service of one of our numbers (empty: it was never ours)."""
    return list(
        session.scalars(
            select(OfficialNumber)
            .where(OfficialNumber.phone == number)
            .order_by(OfficialNumber.active_from.desc())
        )
    )

"""Complaints: intake from every channel, routing, the clocks, staff work, status lookups."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.service import Actor, record
from app.authenticity.models import ReportChannel, ScamReport
from app.authenticity.service import new_report_reference
from app.callbacks import service as callbacks
from app.callbacks.models import Callback, Satisfaction
from app.callbacks.satisfaction import REASONS
from app.calls.models import Call, CallDirection
from app.complaints import references, texts
from app.complaints.models import (
    Complaint,
    ComplaintChannel,
    ComplaintMessage,
    ComplaintNote,
    ComplaintStatus,
    SatisfactionLink,
)
from app.complaints.policy import CATEGORIES, ComplaintsPolicy
from app.customers.models import Customer
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import lazy_label
from app.locales import babel_locale
from app.phones import read_own_number, read_typed_number

MAX_TEXT = 5000
#: Receipts of complaints that anyone may file, per recipient in 24 hours.
ACKNOWLEDGEMENTS_PER_DAY = {"sms": 3, "email": 1}
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[A-Za-z]{2,}$")
#: Status changes the customer hears about (by text, and email when they gave one).
NOTIFIED = {
    ComplaintStatus.ACKNOWLEDGED,
    ComplaintStatus.WAITING_FOR_CUSTOMER,
    ComplaintStatus.RESOLVED,
    ComplaintStatus.CLOSED,
}
ALLOWED = {
    ComplaintStatus.NEW: set(ComplaintStatus) - {ComplaintStatus.NEW},
    ComplaintStatus.ACKNOWLEDGED: set(ComplaintStatus) - {ComplaintStatus.NEW},
    ComplaintStatus.IN_PROGRESS: set(ComplaintStatus) - {ComplaintStatus.NEW},
    ComplaintStatus.WAITING_FOR_CUSTOMER: set(ComplaintStatus) - {ComplaintStatus.NEW},
    ComplaintStatus.RESOLVED: {ComplaintStatus.IN_PROGRESS, ComplaintStatus.CLOSED},
    ComplaintStatus.CLOSED: set(),
}


def due_date(moment: datetime, locale: str, policy: ComplaintsPolicy) -> str:
    return format_date(moment.astimezone(policy.zone), "long", locale=babel_locale(locale))


def _clean_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(_l("text: tell us what happened"), field="text", code="required")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _l("text: at most %(most)d characters (%(sent)d sent)", most=MAX_TEXT, sent=len(text)),
            field="text",
            code="too_long",
        )
    # Kept as typed (markup is escaped wherever it is shown); control characters are dropped.
    return _without_controls(text).strip()


def _without_controls(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())


def file_complaint(
    session: Session,
    *,
    policy: ComplaintsPolicy,
    phone: object,
    text: object,
    channel: ComplaintChannel,
    now: datetime,
    actor: Actor,
    company: str,
    category: str | None = None,
    locale: str = "en",
    regions: Sequence[str | None] = (),
    email: str | None = None,
    call_reference: str | None = None,
    callback_id: uuid.UUID | None = None,
    call_id: uuid.UUID | None = None,
    recording_url: str | None = None,
    recording_seconds: int | None = None,
    call_me: bool = False,
) -> Complaint:
    """The one way a complaint is made, whatever the channel; answers it with its reference.
    The phone is the complainant's own, read in their countries (their choice, then their
    language's); one that cannot be read is refused, asking for its country code."""
    number = read_own_number(phone, regions=regions, field="phone", locale=locale).e164
    body = _clean_text(text)
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(
            _l("category: one of %(choices)s", choices=", ".join(CATEGORIES)),
            field="category",
            code="invalid",
        )
    if email is not None and (len(email) > 254 or not _EMAIL.match(email.strip())):
        raise InvalidInput(_l("email: not an email address"), field="email", code="invalid")
    # What the complaint is about. Whether a reference or a callback matches is never said back:
    # this public door must not tell anyone which calls we made to which number.
    reference_given = _call_reference(call_reference)
    about_call = (
        session.scalar(
            select(Call)
            .where(
                Call.direction == CallDirection.OUTBOUND,
                Call.reference == reference_given,
                Call.to_number == number,
                Call.sid.is_not(None),
            )
            .order_by(Call.created_at.desc())
            .limit(1)
        )
        if reference_given
        else None
    )
    if (
        callback_id is not None
        and session.scalar(
            select(Callback.id).where(Callback.id == callback_id, Callback.to_number == number)
        )
        is None
    ):
        callback_id = None
    routing = policy.route(category, body)
    customer_id = session.scalar(select(Customer.id).where(Customer.phone == number).limit(1))
    complaint = Complaint(
        id=uuid.uuid4(),
        phone=number,
        email=email.strip() if email else None,
        customer_id=customer_id,
        category=category or "other",
        department=routing.department,
        routing_reason=routing.reason[:300],
        text=body,
        channel=channel,
        locale=locale,
        call_reference=reference_given,
        about_call_id=about_call.id if about_call else None,
        callback_id=callback_id or (about_call.callback_id if about_call else None),
        call_id=call_id,
        recording_url=recording_url,
        recording_seconds=recording_seconds,
        call_me=call_me,
        received_at=now,
        first_response_due=policy.first_response_due(now),
        final_response_due=policy.final_response_due(now),
        created_at=now,
        updated_at=now,
    )
    for _ in range(10):  # 24 million references: a clash is rare, and then we draw again
        complaint.reference = references.new_reference()
        complaint.reference_keypad = references.keypad_digits(complaint.reference)
        try:
            with session.begin_nested():
                session.add(complaint)
            break
        except IntegrityError:
            session.expunge(complaint)
    else:  # pragma: no cover - ten clashes in a row
        raise Conflict(_l("could not make a unique reference; try again"))
    record(
        session,
        actor=actor,
        action="complaint.filed",
        subject_type="complaint",
        subject_id=complaint.reference,
        changes={
            "channel": channel.value,
            "category": complaint.category,
            "department": complaint.department,
            "routing_reason": complaint.routing_reason,
            "first_response_due": complaint.first_response_due,
            "final_response_due": complaint.final_response_due,
            "call_me": call_me,
        },
    )
    if routing.department == "fraud":  # the fraud team's queue sees it too
        session.add(
            ScamReport(
                id=uuid.uuid4(),
                reference=new_report_reference(),
                reported_number=None,
                reporter_phone=number,
                description=body[:2000],
                asked_for=[],
                channel=ReportChannel(channel.value),
                locale=locale,
                call_id=call_id,
                complaint_reference=complaint.reference,
                created_at=now,
                updated_at=now,
            )
        )
    due = due_date(complaint.first_response_due, locale, policy)
    _tell(
        session,
        complaint,
        texts.pick(texts.RECEIVED, locale).format(
            company=company, reference=complaint.reference, due=due
        ),
        now=now,
        unsolicited=actor,
    )
    return complaint


def _call_reference(raw: object) -> str | None:
    """The 6 digits of one of our calls' references as typed (spaces and dashes ignored)."""
    if raw is None or raw == "":
        return None
    text = "".join(ch for ch in str(raw) if ch not in " -")
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        raise InvalidInput(
            _l("call_reference: our calls' references have 6 digits"), field="call_reference"
        )
    return text


def _recipient_allows(session: Session, channel: str, to: str, *, now: datetime) -> bool:
    """May a complaint filed by anyone send this recipient one more acknowledgement?

    Anyone can type any number or address into a complaint, so acknowledgements are capped per
    recipient (texts: SMS pumping; e-mails: no address is confirmed, so at most one a day).
    """
    if session.get_bind().dialect.name == "postgresql":  # overlapping filings count one by one
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"ack:{to}", 0))))
    sent = session.scalar(
        select(func.count())
        .select_from(ComplaintMessage)
        .where(
            ComplaintMessage.channel == channel,
            ComplaintMessage.to == to,
            ComplaintMessage.created_at > now - timedelta(days=1),
        )
    )
    cap = ACKNOWLEDGEMENTS_PER_DAY[channel]
    return (sent or 0) < cap


def _tell(
    session: Session,
    complaint: Complaint,
    body: str,
    *,
    now: datetime,
    unsolicited: Actor | None = None,
) -> None:
    """Queue a text (and an email, if we have an address) for the worker to send once.

    An unsolicited message (the receipt of a complaint anyone may file, naming any recipient)
    goes only while the recipient's daily cap allows; what is held back is audited."""
    subject = texts.pick(texts.SUBJECT, complaint.locale).format(reference=complaint.reference)
    held = [
        channel
        for channel, to in (("sms", complaint.phone), ("email", complaint.email))
        if to and unsolicited is not None and not _recipient_allows(session, channel, to, now=now)
    ]
    if held and unsolicited is not None:
        record(
            session,
            actor=unsolicited,
            action="complaint.receipt_held",
            subject_type="complaint",
            subject_id=complaint.reference,
            changes={"channels": held, "reason": "recipient's daily cap"},
        )
    if "sms" not in held:
        session.add(
            ComplaintMessage(
                complaint_id=complaint.id,
                channel="sms",
                to=complaint.phone,
                body=body,
                created_at=now,
            )
        )
    if complaint.email and "email" not in held:
        session.add(
            ComplaintMessage(
                complaint_id=complaint.id,
                channel="email",
                to=complaint.email,
                subject=subject,
                body=body,
                created_at=now,
            )
        )


# ----- the customer's view -----


def next_due(complaint: Complaint) -> datetime | None:
    if complaint.status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        return None
    if complaint.first_responded_at is None:
        return complaint.first_response_due
    return complaint.final_response_due


def find_for_customer(
    session: Session, reference: object, phone: object, *, regions: Sequence[str | None] = ()
) -> Complaint:
    """By reference and the phone that filed it (read in the person's countries, their own
    first); a wrong pair, or a phone that reads as no number, is exactly an unknown reference."""
    not_found = NotFound(_l("no complaint with this reference and phone number"), code="not_found")
    ref = references.normalize(reference)
    try:
        readings = read_typed_number(phone, regions=regions, field="phone").readings
    except InvalidInput:
        raise not_found from None
    if not readings:
        raise not_found
    number = readings[0].e164
    complaint = session.scalar(select(Complaint).where(Complaint.reference == ref)) if ref else None
    if complaint is None or complaint.phone != number:
        raise not_found
    return complaint


def find_by_keypad(session: Session, keyed: str, phone: str) -> Complaint | None:
    """The complaints line: the reference keyed as digits, from the phone that filed it."""
    return session.scalar(
        select(Complaint)
        .where(Complaint.reference_keypad == keyed, Complaint.phone == phone)
        .order_by(Complaint.received_at.desc())
        .limit(1)
    )


def public_view(complaint: Complaint) -> dict[str, Any]:
    return {
        "reference": complaint.reference,
        "status": complaint.status.value,
        "category": complaint.category,
        "due_by": next_due(complaint),
        "updated_at": complaint.updated_at,
    }


# ----- staff -----


def get(session: Session, reference: str) -> Complaint:
    complaint = session.scalar(
        select(Complaint).where(Complaint.reference == (references.normalize(reference) or ""))
    )
    if complaint is None:
        raise NotFound(_l("no complaint %(reference)s", reference=reference))
    return complaint


def queue(
    session: Session,
    *,
    status: ComplaintStatus | None = None,
    department: str | None = None,
    overdue: bool = False,
    now: datetime,
    limit: int = 100,
) -> list[Complaint]:
    query = queue_query(status=status, department=department, overdue=overdue)
    return list(session.scalars(query.order_by(Complaint.first_response_due).limit(limit)))


def queue_query(
    *,
    status: ComplaintStatus | None = None,
    department: str | None = None,
    category: str | None = None,
    assigned_to: str | None = None,
    overdue: bool = False,
) -> Select[Any]:
    """The complaints queue's rows, filtered (unordered: the caller pages through them)."""
    query = select(Complaint)
    if status is not None:
        query = query.where(Complaint.status == status)
    if department:
        query = query.where(Complaint.department == department)
    if category:
        query = query.where(Complaint.category == category)
    if assigned_to:
        query = query.where(Complaint.assigned_to == assigned_to)
    if overdue:
        query = query.where(
            or_(
                Complaint.first_response_breached_at.is_not(None),
                Complaint.final_response_breached_at.is_not(None),
            )
        )
    return query


def update(
    session: Session,
    reference: str,
    *,
    actor: Actor,
    now: datetime,
    company: str,
    policy: ComplaintsPolicy,
    status: ComplaintStatus | None = None,
    assigned_to: str | None = None,
    satisfaction_link: Callable[[str, str], str] | None = None,
) -> Complaint:
    """Assign a complaint or move its status.

    `satisfaction_link` makes the public address of a one-time token (in the complainant's
    language): a complaint that becomes closed texts it, asking "how satisfied are you?"."""
    complaint = get(session, reference)
    changes: dict[str, Any] = {}
    if assigned_to is not None and (assigned_to or None) != complaint.assigned_to:
        # An empty assignee takes the complaint off everyone's list.
        changes["assigned_to"] = [complaint.assigned_to, assigned_to or None]
        complaint.assigned_to = assigned_to or None
    if status is not None and status is not complaint.status:
        if status not in ALLOWED[complaint.status]:
            raise Conflict(
                _l(
                    "status: a complaint whose status is %(before)s cannot become %(after)s",
                    before=lazy_label(complaint.status),
                    after=lazy_label(status),
                ),
                field="status",
                code="invalid_transition",
            )
        changes["status"] = [complaint.status.value, status.value]
        _move(complaint, status, now)
        if status in NOTIFIED:
            word = texts.pick(texts.STATUS[status.value], complaint.locale)
            _tell(
                session,
                complaint,
                texts.pick(texts.CHANGED, complaint.locale).format(
                    company=company, reference=complaint.reference, status=word
                ),
                now=now,
            )
        if status is ComplaintStatus.CLOSED and satisfaction_link is not None:
            _ask_satisfaction(session, complaint, now=now, company=company, link=satisfaction_link)
    if changes:
        complaint.updated_at = now
        record(
            session,
            actor=actor,
            action="complaint.updated",
            subject_type="complaint",
            subject_id=complaint.reference,
            changes=changes,
        )
    return complaint


#: How long a closed complaint's satisfaction link may be answered.
SATISFACTION_LINK_LIFE = timedelta(days=14)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ask_satisfaction(
    session: Session,
    complaint: Complaint,
    *,
    now: datetime,
    company: str,
    link: Callable[[str, str], str],
) -> None:
    """Text the complainant a one-time link: how satisfied are they, 1 to 5 (and why, if low)."""
    token = secrets.token_urlsafe(24)
    session.add(
        SatisfactionLink(
            token_hash=_token_hash(token),
            complaint_id=complaint.id,
            created_at=now,
            expires_at=now + SATISFACTION_LINK_LIFE,
        )
    )
    body = texts.pick(texts.SATISFACTION, complaint.locale).format(
        company=company, reference=complaint.reference, link=link(token, complaint.locale)
    )
    session.add(
        ComplaintMessage(
            complaint_id=complaint.id, channel="sms", to=complaint.phone, body=body, created_at=now
        )
    )


def satisfaction_asked(session: Session, token: str, *, now: datetime) -> Complaint:
    """The closed complaint a satisfaction link asks about; NotFound when it is unknown, used or
    expired (the page says the same for all three)."""
    asked = session.scalar(
        select(SatisfactionLink).where(SatisfactionLink.token_hash == _token_hash(token))
    )
    if asked is None or asked.used_at is not None or asked.expires_at <= now:
        raise NotFound(_l("this link has expired or has been used"))
    return session.get_one(Complaint, asked.complaint_id)


def answer_satisfaction(
    session: Session, token: str, *, score: object, reason: object, now: datetime, actor: Actor
) -> Satisfaction:
    """Keep the answer a satisfaction link brought, once: the link is spent."""
    asked = session.scalar(
        select(SatisfactionLink)
        .where(SatisfactionLink.token_hash == _token_hash(token))
        .with_for_update()
    )
    if asked is None or asked.used_at is not None or asked.expires_at <= now:
        raise NotFound(_l("this link has expired or has been used"))
    if not (isinstance(score, str) and score in ("1", "2", "3", "4", "5")):
        raise InvalidInput(_l("score: choose from 1 to 5"), field="score")
    if reason not in (None, "", *REASONS.values()):
        raise InvalidInput(_l("reason: choose one of the reasons"), field="reason")
    complaint = session.get_one(Complaint, asked.complaint_id)
    asked.used_at = now
    answer = Satisfaction(
        complaint_reference=complaint.reference,
        customer_id=complaint.customer_id,
        score=int(score),
        reason=(reason or None) if int(score) <= 2 else None,
        created_at=now,
    )
    session.add(answer)
    record(
        session,
        actor=actor,
        action="satisfaction.recorded",
        subject_type="complaint",
        subject_id=complaint.reference,
        changes={"score": answer.score, "reason": answer.reason},
    )
    return answer


def _move(complaint: Complaint, status: ComplaintStatus, now: datetime) -> None:
    """The clocks follow the status: answered, paused, resumed."""
    if complaint.status is ComplaintStatus.WAITING_FOR_CUSTOMER and complaint.paused_at:
        paused = now - complaint.paused_at  # the clocks stood still meanwhile
        if complaint.first_responded_at is None:
            complaint.first_response_due += paused
        if complaint.final_responded_at is None:
            complaint.final_response_due += paused
        complaint.paused_at = None
    if status is ComplaintStatus.WAITING_FOR_CUSTOMER:
        complaint.paused_at = now
    if status is not ComplaintStatus.NEW and complaint.first_responded_at is None:
        complaint.first_responded_at = now
    if status in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED):
        complaint.final_responded_at = complaint.final_responded_at or now
    complaint.status = status


def add_note(
    session: Session,
    reference: str,
    *,
    text: object,
    to_customer: bool,
    actor: Actor,
    now: datetime,
    company: str,
) -> ComplaintNote:
    complaint = get(session, reference)
    body = _clean_text(text)
    note = ComplaintNote(
        complaint_id=complaint.id,
        author=actor.label,
        to_customer=to_customer,
        text=body,
        created_at=now,
    )
    session.add(note)
    if to_customer:
        if complaint.first_responded_at is None:  # a message to the customer is a response
            complaint.first_responded_at = now
        _tell(
            session,
            complaint,
            texts.pick(texts.NOTE, complaint.locale).format(
                company=company, reference=complaint.reference, text=body[:600]
            ),
            now=now,
        )
    complaint.updated_at = now
    record(
        session,
        actor=actor,
        action="complaint.note_added",
        subject_type="complaint",
        subject_id=complaint.reference,
        changes={"to_customer": to_customer, "length": len(body)},
    )
    return note


# ----- calling the complainant back -----

#: The team our call for a complaint's call back is for (the queue's skill).
CALL_BACK_SKILL = "complaints"
#: What the audit log keeps of each call back: our call queued, or one the team made by hand.
CALL_BACK_QUEUED = "complaint.call_back_queued"
CALLED_BACK = "complaint.called_back"


def customer_to_call(session: Session, complaint: Complaint, *, hold: bool = False) -> Customer:
    """The customer our call could verify for this complaint: the one it was filed by, while the
    complaint's number is still their registered one. Anyone else is a Conflict (code
    not_a_customer or number_changed): the team calls them from a phone.

    `hold` reads the number again, holding it (FOR SHARE) until the caller commits: a change of
    number waits for the call queued meanwhile (and then moves it, as it moves the others)."""
    if complaint.customer_id is None:
        raise Conflict(
            _l("the complainant is not a customer we can verify: call them from your phone"),
            code="not_a_customer",
        )
    customer = (
        session.get(
            Customer, complaint.customer_id, with_for_update={"read": True}, populate_existing=True
        )
        if hold
        else session.get(Customer, complaint.customer_id)
    )
    if customer is None or customer.phone != complaint.phone:
        raise Conflict(
            _l(
                "the customer's registered number is no longer the one on this complaint, so "
                "our call could not verify them: call the complainant from your phone"
            ),
            code="number_changed",
        )
    return customer


def call_back(
    session: Session,
    reference: str,
    *,
    agent_id: uuid.UUID,
    policy_version: int,
    actor: Actor,
    now: datetime,
) -> Callback:
    """The complaint's team calls the complainant back: our agent_callback call greets them,
    verifies them with a code from their app and only then rings this member of staff's desk.

    Only a customer we know can be verified, and only on their registered number, read again
    now (it may have changed since the complaint was filed): anyone else is refused (a
    Conflict, see `customer_to_call`), to be called from a phone. An open call of ours to the
    customer waiting for the dialer becomes this call; one being dialed is a Conflict. Answers
    our call."""
    complaint = get(session, reference)
    customer = customer_to_call(session, complaint, hold=True)
    calling = callbacks.queue_agent_callback(
        session,
        None,
        customer_id=customer.id,
        to_number=customer.phone,
        policy_version=policy_version,
        at=now,
        agent_call={
            "agent_id": str(agent_id),
            "skill": CALL_BACK_SKILL,
            "complaint": complaint.reference,  # the desk says what the call is about
        },
        actor=actor,
        now=now,
        why="a complaint's call back",
    )
    complaint.updated_at = now
    record(
        session,
        actor=actor,
        action=CALL_BACK_QUEUED,
        subject_type="complaint",
        subject_id=complaint.reference,
        changes={"callback_id": calling.id, "agent_id": agent_id, "to": calling.to_number},
    )
    return calling


def called_back(
    session: Session,
    reference: str,
    *,
    text: object,
    actor: Actor,
    now: datetime,
    company: str,
) -> ComplaintNote:
    """A member of the team called the complainant from their own phone: an internal note
    says so (and what was said), and the audit log keeps it as a call back."""
    note = add_note(
        session, reference, text=text, to_customer=False, actor=actor, now=now, company=company
    )
    complaint = get(session, reference)
    record(
        session,
        actor=actor,
        action=CALLED_BACK,
        subject_type="complaint",
        subject_id=complaint.reference,
        changes={},
    )
    return note


def call_backs(session: Session, complaint: Complaint) -> list[dict[str, Any]]:
    """The complaint's call backs, oldest first: who and when, and for our calls the call
    itself (its status and outcome), once each."""
    rows = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.subject_type == "complaint",
            AuditEvent.subject_id == complaint.reference,
            AuditEvent.action.in_((CALL_BACK_QUEUED, CALLED_BACK)),
        )
        .order_by(AuditEvent.id)
    )
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for event in rows:
        calling = None
        if event.action == CALL_BACK_QUEUED:
            callback_id = str((event.changes or {}).get("callback_id") or "")
            if callback_id in seen:
                continue  # asked again while it waited: the same call
            seen.add(callback_id)
            try:
                calling = session.get(Callback, uuid.UUID(callback_id))
            except ValueError:
                calling = None
        found.append(
            {
                "by": event.actor,
                "at": event.occurred_at,
                "ours": event.action == CALL_BACK_QUEUED,
                "callback": calling,
            }
        )
    return found


def notes(session: Session, complaint: Complaint) -> list[ComplaintNote]:
    return list(
        session.scalars(
            select(ComplaintNote)
            .where(ComplaintNote.complaint_id == complaint.id)
            .order_by(ComplaintNote.id)
        )
    )


def attach_transcription(session: Session, call_id: uuid.UUID, text: str) -> Complaint | None:
    complaint = session.scalar(select(Complaint).where(Complaint.call_id == call_id))
    if complaint is not None and text:
        # Twilio's text, signed: what a control character would break is dropped, not refused.
        complaint.transcription = _without_controls(text)[:MAX_TEXT]
        record(
            session,
            actor=Actor(f"call:{call_id}"),
            action="complaint.transcribed",
            subject_type="complaint",
            subject_id=complaint.reference,
            changes={"length": len(text)},
        )
    return complaint


def transcription_failed(
    session: Session, call_id: uuid.UUID, *, now: datetime
) -> Complaint | None:
    """Twilio could not transcribe the recording: an internal note asks staff to listen to it."""
    complaint = session.scalar(select(Complaint).where(Complaint.call_id == call_id))
    if complaint is None:
        return None
    actor = Actor(f"call:{call_id}")
    session.add(
        ComplaintNote(
            complaint_id=complaint.id,
            author=actor.label,
            to_customer=False,
            text=texts.NOT_TRANSCRIBED.format(seconds=complaint.recording_seconds or "?"),
            created_at=now,
        )
    )
    complaint.updated_at = now
    record(
        session,
        actor=actor,
        action="complaint.transcription_failed",
        subject_type="complaint",
        subject_id=complaint.reference,
        changes={"recording_seconds": complaint.recording_seconds},
    )
    return complaint


# ----- the worker: escalation and breaches -----


def watch_deadlines(
    session: Session, *, policy: ComplaintsPolicy, now: datetime, limit: int = 500
) -> dict[str, int]:
    """Alert a supervisor before a deadline; record the breach once it has passed."""
    actor = Actor("worker:complaints")
    open_ = [
        s for s in ComplaintStatus if s not in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)
    ]
    soon = now + policy.escalate_before
    candidates = session.scalars(
        select(Complaint)
        .where(
            Complaint.status.in_(open_),
            Complaint.paused_at.is_(None),
            or_(
                (Complaint.first_responded_at.is_(None) & (Complaint.first_response_due <= soon)),
                (Complaint.final_responded_at.is_(None) & (Complaint.final_response_due <= soon)),
            ),
        )
        .order_by(Complaint.first_response_due)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    counts = {"escalated": 0, "breached": 0}
    for complaint in candidates:
        for which in ("first_response", "final_response"):
            due = getattr(complaint, f"{which}_due")
            answered = getattr(complaint, f"{which.split('_')[0]}_responded_at")
            if answered is not None:
                continue
            if due <= now and getattr(complaint, f"{which}_breached_at") is None:
                setattr(complaint, f"{which}_breached_at", now)
                counts["breached"] += 1
                record(
                    session,
                    actor=actor,
                    action="complaint.breached",
                    subject_type="complaint",
                    subject_id=complaint.reference,
                    changes={"deadline": which, "due": due},
                )
            elif due <= soon and complaint.escalated_at is None:
                complaint.escalated_at = now
                counts["escalated"] += 1
                _alert_supervisors(session, complaint, which, due, now=now)
                record(
                    session,
                    actor=actor,
                    action="complaint.escalated",
                    subject_type="complaint",
                    subject_id=complaint.reference,
                    changes={"deadline": which, "due": due, "department": complaint.department},
                )
    session.commit()
    return counts


def _alert_supervisors(
    session: Session, complaint: Complaint, which: str, due: datetime, *, now: datetime
) -> None:
    """An email to every active supervisor: this complaint's deadline is near."""
    from app.staff.models import Role, StaffUser

    supervisors = session.scalars(
        select(StaffUser.email).where(StaffUser.role == Role.SUPERVISOR, StaffUser.active.is_(True))
    ).all()
    deadline = which.replace("_", " ")
    for email in supervisors:
        session.add(
            ComplaintMessage(
                complaint_id=complaint.id,
                channel="email",
                to=email,
                subject=f"Escalated: complaint {complaint.reference} ({complaint.department})",
                body=(
                    f"The {deadline} to complaint {complaint.reference} ({complaint.category}, "
                    f"{complaint.department}) is due at {due.isoformat()} and has not been given. "
                    f"Assigned to: {complaint.assigned_to or 'nobody'}."
                ),
                created_at=now,
            )
        )


# ----- recurring problems -----

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_STOPWORD_TEXT = """
a an and are as at be been but by for from had has have i in is it its me my no not of on or our so
that the their them there they this to was we were what when which who will with you your
il lo la i gli le un una di da in con su per tra fra e o ma che non mi ho ha sono è del della dei
delle al alla nel nella mio mia
w z i na do nie się że to jest jak mam mój moja ale po za od
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def recurring(session: Session, *, weeks: int, now: datetime, top: int = 10) -> dict[str, Any]:
    """Counts per category and ISO week, and the phrases that come back, for supervisors."""
    since = now - timedelta(weeks=weeks)
    rows = session.execute(
        select(
            Complaint.category, Complaint.received_at, Complaint.text, Complaint.transcription
        ).where(Complaint.received_at >= since)
    ).all()
    per_week: dict[tuple[str, str], int] = defaultdict(int)
    phrases: Counter[str] = Counter()
    for category, received_at, text, transcription in rows:
        year, week, _ = received_at.isocalendar()
        per_week[(f"{year}-W{week:02d}", category)] += 1
        phrases.update(set(_phrases(f"{text} {transcription or ''}")))
    return {
        "weeks": weeks,
        "total": len(rows),
        "by_week_and_category": [
            {"week": w, "category": c, "complaints": n} for (w, c), n in sorted(per_week.items())
        ],
        "top_phrases": [
            {"phrase": p, "complaints": n} for p, n in phrases.most_common(top) if n >= 2
        ],
    }


def _phrases(text: str) -> list[str]:
    """Two- and three-word phrases without stopwords at their ends; Chinese as character pairs."""
    out = []
    words = [w.lower() for w in _WORD.findall(_CJK.sub(" ", text))]
    for size in (2, 3):
        for i in range(len(words) - size + 1):
            gram = words[i : i + size]
            if gram[0] not in STOPWORDS and gram[-1] not in STOPWORDS:
                out.append(" ".join(gram))
    for run in _CJK.findall(text):
        out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out

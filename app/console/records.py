"""What the records' screens share: who did it (a person's name, not an actor label), what a
subject is (a link to its page), what changed (lines a person reads), and pages of a long list.

A list is paged by keyset (the last row's place, not an offset), newest first: a page never
skips or repeats a row when new ones arrive, and the thousandth page costs what the first does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from app.callbacks.models import Callback
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.console.complaints import CATEGORY_LABELS, DEPARTMENT_LABELS, routing_label
from app.console.fraud import ASKED_FOR_LABELS, CASE_WORDS
from app.console.labels import LANGUAGE_LABELS, VERIFIED_BY
from app.customers.models import Customer
from app.errors import InvalidInput
from app.i18n import LABELS, label, when
from app.staff.models import StaffUser

#: The page sizes a person picks from (any whole number in the range is accepted in the URL).
PAGE_SIZES = (25, 50, 100, 200)

#: Each flow in a supervisor's words (a flow's file name is its id, never shown as it is).
FLOWS: dict[str, Any] = {
    "registration_check": _l("New registration check"),
    "transaction_alert": _l("Unusual payment check"),
    "withdrawal_check": _l("Withdrawal check"),
    "account_change_check": _l("Account change check"),
    "agent_callback": _l("Call for an agent"),
    "campaign_notice": _l("Campaign message"),
    "complaints_line": _l("Complaints line"),
    "service_line": _l("Customer service line"),
    "verify_caller_line": _l("Number check line"),
}


def flow_name(flow: str | None) -> str:
    """A flow in words: "New registration check", not registration_check."""
    if not flow:
        return ""
    found = FLOWS.get(flow)
    return str(found) if found is not None else flow.replace("_", " ").capitalize()


# ----- who did it -----

#: Actors that are the call center itself: its worker, its router, its outbox, its calls.
_SYSTEM_PREFIXES = ("worker:", "system:", "call:", "simulator:")


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """Each actor label as a person reads it: a member of staff by name, the worker and the
    system as "The call center", the command line, the public pages, an integrator's key."""
    labels = set(actors)
    emails, ids = set(), set()
    for text in labels:
        if text.startswith("staff:"):
            who = text.removeprefix("staff:")
            try:
                ids.add(uuid.UUID(who))
            except ValueError:
                emails.add(who)
    names: dict[str, str] = {}
    if emails or ids:
        for staff_id, email, name in session.execute(
            select(StaffUser.id, StaffUser.email, StaffUser.name).where(
                or_(StaffUser.email.in_(emails), StaffUser.id.in_(ids))
            )
        ):
            names[f"staff:{email}"] = name
            names[f"staff:{staff_id}"] = name
    return {text: names.get(text) or actor_name(text) for text in labels}


def actor_name(text: str) -> str:
    """An actor label that names no member of staff we know, in words."""
    if text.startswith(_SYSTEM_PREFIXES):
        return _("The call center")
    if text.startswith("cli:"):
        return _("An operator (command line)")
    if text.startswith("public:"):
        return _("The public web page")
    if text == "anonymous":
        return _("Someone not signed in")
    if text.startswith("staff:"):
        return _("A former member of staff")
    if text.startswith("api_key:"):
        name = text.split(":")[1]
        if name == "env":
            return _("The core system (configured key)")
        return _("Partner system (key %(name)s)", name=name)
    return text


# ----- what it is about -----

SUBJECTS: dict[str, Any] = {
    "callback": _l("Callback"),
    "call": _l("Call"),
    "complaint": _l("Complaint"),
    "fraud_case": _l("Fraud case"),
    "campaign": _l("Campaign"),
    "customer": _l("Customer"),
    "staff": _l("Member of staff"),
    "staff_user": _l("Member of staff"),
    "agent": _l("Agent"),
    "queue_entry": _l("Caller in the queue"),
    "api_key": _l("API key"),
    "official_number": _l("Official number"),
    "phone": _l("Phone number"),
    "scam_report": _l("Scam report"),
    "outbox_message": _l("Message"),
    "segment": _l("Segment"),
    "withdrawal": _l("Withdrawal"),
}


#: What an audit entry says was done, in words (other actions: their subject and verb).
ACTIONS: dict[str, Any] = {
    "callback.queued": _l("Callback queued"),
    "callback.joined": _l("Joined an open callback"),
    "callback.done": _l("Callback finished"),
    "callback.retry": _l("Callback to be tried again"),
    "callback.escalated": _l("Callback near its deadline"),
    "callback.deadline_missed": _l("Callback missed its deadline"),
    "callback.rescheduled": _l("Callback given a new time"),
    "callback.follow_up": _l("Follow-up call agreed"),
    "callback.assigned": _l("Callback assigned to an agent"),
    "callback.with_agent": _l("Customer talked with an agent"),
    "callback.reconciled": _l("Call checked with the carrier"),
    "callback.continued_inbound": _l("Customer called us about it"),
    "callback.carried_in_call": _l("Handled in the customer's call"),
    "agent.call_now": _l("Call now asked"),
    "agent.call_scheduled": _l("Call for an agent scheduled"),
    "agent.presence": _l("Agent's presence changed"),
    "agent.skills": _l("Agent's skills changed"),
    "call.placed": _l("Call placed"),
    "call.failed": _l("Call failed"),
    "complaint.filed": _l("Complaint filed"),
    "complaint.updated": _l("Complaint updated"),
    "complaint.note_added": _l("Note added to a complaint"),
    "complaint.escalated": _l("Complaint near its deadline"),
    "complaint.breached": _l("Complaint missed its deadline"),
    "complaint.call_back_queued": _l("Our call to the complainant queued"),
    "complaint.called_back": _l("Complainant called back by phone"),
    "fraud_case.opened": _l("Fraud case opened"),
    "scam_report.filed": _l("Scam report filed"),
    "scam_report.updated": _l("Scam report updated"),
    "customer.created": _l("Customer added"),
    "customer.updated": _l("Customer changed"),
    "campaign.created": _l("Campaign created"),
    "staff.created": _l("Member of staff added"),
    "staff.settings_changed": _l("Settings changed"),
    "console.signed_in": _l("Signed in"),
    "console.signed_out": _l("Signed out"),
    "verification.attempt": _l("Code checked"),
    "verification.locked": _l("Locked after wrong codes"),
    "do_not_call.added": _l("Added to the do-not-call list"),
    "do_not_call.removed": _l("Removed from the do-not-call list"),
    "do_not_call.widened": _l("Do-not-call entry widened to all calls"),
    "queue.entered": _l("Caller joined the queue"),
    "queue.offered": _l("Caller offered to an agent"),
    "queue.answered": _l("Agent answered the caller"),
    "queue.returned": _l("Caller back in the queue"),
    "queue.hold": _l("Caller put on hold or taken off hold"),
    "queue.transferred": _l("Caller transferred"),
    "queue.supervised": _l("Supervisor joined the call"),
    "queue.virtual_hold": _l("Caller chose to be called back"),
    "queue.calling_back": _l("Calling the caller back"),
    "queue.called_back": _l("Caller called back"),
    "queue.abandoned": _l("Caller hung up while waiting"),
    "queue.ended": _l("Call with the agent ended"),
    "queue.wrapped_up": _l("Agent's wrap-up saved"),
    "agent.missed": _l("Agent missed a call"),
    "official_number.added": _l("Official number added"),
    "official_number.retired": _l("Official number retired"),
    "api_key.created": _l("API key created"),
    "api_key.revoked": _l("API key revoked"),
    "staff.enabled": _l("Member of staff enabled"),
    "verification.unlocked": _l("Unlocked"),
    "app_code.issued": _l("App code issued"),
    "authenticator.replaced": _l("Authenticator replaced"),
    "segment.created": _l("Segment created"),
    "campaign.run": _l("Campaign run"),
    "complaint.receipt_held": _l("Complaint receipt held"),
    "complaint.transcribed": _l("Complaint transcribed"),
    "complaint.transcription_failed": _l("Complaint transcription failed"),
    "campaign.scheduled": _l("Campaign scheduled"),
    "campaign.running": _l("Campaign started"),
    "campaign.paused": _l("Campaign paused"),
    "campaign.completed": _l("Campaign completed"),
    "campaign.cancelled": _l("Campaign cancelled"),
    "campaign.deleted": _l("Draft campaign deleted"),
    "official_number.relabelled": _l("Official number's labels changed"),
    "queue.handoff_left": _l("Agent left after a transfer"),
    "queue.handoff_wrapped_up": _l("Agent's wrap-up saved after a transfer"),
    "staff.role_changed": _l("Role changed"),
    "staff.password_changed": _l("Password changed"),
    "staff.password_reset_issued": _l("Password reset link issued"),
    "staff.password_reset": _l("Password set with a reset link"),
    "staff.second_factor_enrolled": _l("Second factor set up"),
    "staff.second_factor_reset": _l("Second factor removed"),
    "staff.recovery_codes_made": _l("Recovery codes made"),
}


def action_label(action: str) -> str:
    """An audit entry's action in words: "Callback given a new time"."""
    found = ACTIONS.get(action)
    if found is not None:
        return str(found)
    subject, _dot, verb = action.partition(".")
    return f"{subject_label(subject)}: {verb.replace('_', ' ')}"


def subject_label(subject_type: str) -> str:
    found = SUBJECTS.get(subject_type)
    return str(found) if found is not None else subject_type


def subject_names(
    session: Session, subjects: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """What a callback, a call, a customer or a campaign is, in words ("New registration check,
    Giulia Rossi"; "Call R-1234"; "Giulia Rossi"; "Card renewal"), for the subjects of one page;
    others are named by their id or reference."""
    wanted: dict[str, set[uuid.UUID]] = {
        "callback": set(),
        "call": set(),
        "customer": set(),
        "campaign": set(),
    }
    for subject_type, subject_id in subjects:
        if subject_type in wanted:
            try:
                wanted[subject_type].add(uuid.UUID(subject_id))
            except ValueError:
                continue
    names: dict[tuple[str, str], str] = {}
    if wanted["callback"]:
        for callback_id, flow, external_id, name in session.execute(
            select(Callback.id, Callback.flow, Customer.external_id, Customer.name)
            .join(Customer, Customer.id == Callback.customer_id)
            .where(Callback.id.in_(wanted["callback"]))
        ):
            names[("callback", str(callback_id))] = f"{flow_name(flow)}, {name or external_id}"
    if wanted["call"]:
        for call_id, reference, flow in session.execute(
            select(Call.id, Call.reference, Call.flow).where(Call.id.in_(wanted["call"]))
        ):
            names[("call", str(call_id))] = (
                f"{flow_name(flow)}, {reference}" if reference else flow_name(flow)
            )
    if wanted["customer"]:
        for customer_id, external_id, name in session.execute(
            select(Customer.id, Customer.external_id, Customer.name).where(
                Customer.id.in_(wanted["customer"])
            )
        ):
            names[("customer", str(customer_id))] = name or external_id
    if wanted["campaign"]:
        for campaign_id, name in session.execute(
            select(Campaign.id, Campaign.name).where(Campaign.id.in_(wanted["campaign"]))
        ):
            names[("campaign", str(campaign_id))] = name
    return names


def subject_link(subject_type: str, subject_id: str) -> str | None:
    """The console page of an audit entry's subject, where it has one."""
    try:
        if subject_type == "callback":
            return url_for("console.callback", callback_id=uuid.UUID(subject_id))
        if subject_type == "call":
            return url_for("console.call", call_id=uuid.UUID(subject_id))
        if subject_type == "campaign":
            return url_for("console.campaign", campaign_id=uuid.UUID(subject_id))
        if subject_type == "customer":
            return url_for("console.customer", customer_id=uuid.UUID(subject_id))
    except ValueError:
        return None
    if subject_type == "complaint":
        return url_for("console.complaint", reference=subject_id)
    if subject_type == "fraud_case":
        return url_for("console.fraud_cases")
    if subject_type == "scam_report":
        return url_for("console.fraud_report", reference=subject_id)
    if subject_type in ("staff", "staff_user"):
        return url_for("console.staff")
    return None


def audit_link(subject_type: str, subject_id: object) -> str:
    """The audit log filtered to one record's entries."""
    return url_for("console.audit", subject_type=subject_type, subject_id=str(subject_id))


# ----- what changed -----


@dataclass(frozen=True)
class Change:
    """One line of an audit entry's changes: "status: Waiting to be called -> Finished"."""

    name: str
    before: str | None
    after: str


#: Changes whose value is a list of things, not an [old, new] pair (audit.service.diff's).
LISTS = frozenset({"reasons", "skills", "languages", "event_ids", "asked_for", "rows", "flows"})


#: The names of the changes the log keeps most, in words (others: the key, spaced).
CHANGE_NAMES: dict[str, Any] = {
    "status": _l("status"),
    "outcome": _l("outcome"),
    "why": _l("why"),
    "reason": _l("reason"),
    "at": _l("at"),
    "due_by": _l("due by"),
    "due": _l("due"),
    "next_attempt_at": _l("next try"),
    "priority": _l("priority"),
    "role": _l("role"),
    "name": _l("name"),
    "language": _l("language"),
    "time_zone": _l("time zone"),
    "presence": _l("presence"),
    "flow": _l("flow"),
    "note": _l("note"),
    "error": _l("error"),
    "deadline": _l("deadline"),
    "agent_id": _l("agent"),
    "callback_id": _l("callback"),
    "call_id": _l("call"),
    "calling": _l("our call for the agent"),
    "reasons": _l("reasons"),
    "scope": _l("scope"),
    "label": _l("label"),
    "labels": _l("labels in other languages"),
    "phone": _l("phone"),
    "number": _l("number"),
    "to": _l("to"),
    "from": _l("from"),
    "purpose": _l("purpose"),
    "purposes": _l("purpose's languages"),
    "inbound_only": _l("inbound only"),
    "active_from": _l("in service from"),
    "retired_at": _l("retired at"),
    "expires_at": _l("expires at"),
    "external_id": _l("customer number"),
    "customer_id": _l("customer"),
    "locale": _l("language"),
    "time_zone_overridden": _l("time zone set by hand"),
    "channel": _l("channel"),
    "category": _l("category"),
    "department": _l("team"),
    "routing_reason": _l("why this team"),
    "first_response_due": _l("first answer due"),
    "final_response_due": _l("final answer due"),
    "official": _l("one of our numbers"),
    "asked_for": _l("asked for"),
    "trigger": _l("about"),
    "action": _l("action asked of the core system"),
    "skill": _l("team"),
    "verified_by": _l("verified by"),
    "reserved_for": _l("kept for"),
    "virtual_hold": _l("chose to be called back"),
    "second_factor": _l("second factor"),
    "skills": _l("teams"),
    "languages": _l("languages"),
    "address": _l("address"),
    "count": _l("how many"),
    "replaced": _l("replaced earlier ones"),
    "run": _l("run"),
    "queued": _l("callbacks queued"),
    "audience": _l("audience"),
    "rows": _l("rows"),
    "row_errors": _l("rows refused"),
    "before": _l("before"),
    "after": _l("after"),
}


def change_name(key: str) -> str:
    """What a change's key is, in the reader's words (a key not named yet: its words, spaced)."""
    known = CHANGE_NAMES.get(key)
    return str(known) if known is not None else key.replace("_", " ")


def change_lines(changes: dict[str, Any]) -> list[Change]:
    """An audit entry's changes as lines a person reads; [old, new] pairs show both."""
    lines = []
    for key, value in changes.items():
        name = change_name(key)
        if isinstance(value, list) and len(value) == 2 and key not in LISTS:
            lines.append(Change(name, _readable(key, value[0]), _readable(key, value[1])))
        else:
            lines.append(Change(name, None, _readable(key, value)))
    return lines


def _words_for(key: str) -> dict[str, Any] | None:
    """The words for the values of a change whose key names a kind of thing, not an enum."""
    return {
        "flow": FLOWS,
        "flows": FLOWS,
        "trigger": CASE_WORDS,
        "action": CASE_WORDS,
        "asked_for": ASKED_FOR_LABELS,
        "category": CATEGORY_LABELS,
        "department": DEPARTMENT_LABELS,
        "verified_by": VERIFIED_BY,
        "locale": LANGUAGE_LABELS,
        "language": LANGUAGE_LABELS,
        "languages": LANGUAGE_LABELS,
    }.get(key)


def _readable(key: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_readable(key, item) for item in value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{change_name(k)}: {_readable(k, v)}" for k, v in value.items())
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return when(moment)
        found = _label_of(key, value)
        if found is not None:
            return found
        if key == "routing_reason":
            return routing_label(value)
        words = _words_for(key)
        if words is not None and value in words:
            return str(words[value])
    return str(value)


def _moment(text: str) -> datetime | None:
    """An ISO time the audit log kept (its changes keep times as text)."""
    if len(text) < 19 or text[4:5] != "-" or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


#: Which enums a change's key names (a value is looked up in these first, then in every enum).
_KEYS = {
    "status": ("CallbackStatus", "ComplaintStatus", "CampaignStatus", "CallStatus"),
    # A campaign's change of state keeps the state it left as "from" (its action names the new one).
    "from": ("CampaignStatus",),
    "outcome": ("Outcome",),
    "priority": ("Priority",),
    "role": ("Role",),
    "presence": ("Presence",),
    "disposition": ("Disposition",),
    "skill": ("Skill",),
    "skills": ("Skill",),
    "purpose": ("NumberPurpose",),
    "channel": ("ComplaintChannel", "ReportChannel"),
    "second_factor": ("SecondFactorUsed",),
}


def _label_of(key: str, value: str) -> str | None:
    """A kept value's label when the key names a kind of value that has labels."""
    names = _KEYS.get(key) or _KEYS.get(key.rsplit("_", 1)[-1])
    if not names:
        return None
    for name in names:  # in order of preference: a callback's "queued" before a call's
        for (enum_type, kept), text in LABELS.items():
            if enum_type.__name__ == name and kept == value:
                return str(text)
    return None


def shown(value: Any) -> str:
    """A value for a cell: an enum by its label, a time in the reader's zone."""
    if isinstance(value, Enum):
        return label(value)
    if isinstance(value, datetime):
        return when(value)
    return "" if value is None else str(value)


# ----- pages of a long list -----


@dataclass
class Page:
    """One page of a list, newest first, and where the pages before and after it start."""

    rows: list[Any]
    size: int
    next_after: str | None = None  # the "Next" link's cursor (older rows)
    previous_before: str | None = None  # the "Previous" link's cursor (newer rows)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Keyset:
    """How a list is ordered (newest first) and how a row's place is written in a URL."""

    columns: Sequence[Any]  # e.g. (Callback.created_at, Callback.id): unique together
    place: Callable[[Any], tuple[Any, ...]]  # a row's values of those columns
    read: Callable[[str], tuple[Any, ...]]  # a URL's cursor back to those values
    write: Callable[[tuple[Any, ...]], str]


def _older(columns: Sequence[Any], values: tuple[Any, ...]) -> ColumnElement[bool]:
    """Rows after this place in newest-first order (a row value comparison, spelled out)."""
    first, *rest = columns
    if not rest:
        return first < values[0]
    return or_(first < values[0], and_(first == values[0], _older(rest, values[1:])))


def _newer(columns: Sequence[Any], values: tuple[Any, ...]) -> ColumnElement[bool]:
    first, *rest = columns
    if not rest:
        return first > values[0]
    return or_(first > values[0], and_(first == values[0], _newer(rest, values[1:])))


def paged(
    session: Session,
    query: Select[Any] | Any,
    keyset: Keyset,
    *,
    size: int,
    after: str | None,
    before: str | None,
    row: Callable[[Any], Any] = lambda r: r,
) -> Page:
    """One page of `query`: the first, the one after `after` or the one before `before`.

    A cursor that is not one of ours is refused (422) naming its field."""
    columns = keyset.columns
    if before:
        place = _cursor(keyset, before, "before")
        found = list(
            session.execute(
                query.where(_newer(columns, place))
                .order_by(*(c.asc() for c in columns))
                .limit(size + 1)
            )
        )
        more_newer = len(found) > size
        rows = [row(r) for r in reversed(found[:size])]
        return _page(keyset, rows, size, has_older=True, has_newer=more_newer)
    query = query.order_by(*(c.desc() for c in columns)).limit(size + 1)
    if after:
        query = query.where(_older(columns, _cursor(keyset, after, "after")))
    found = list(session.execute(query))
    rows = [row(r) for r in found[:size]]
    return _page(keyset, rows, size, has_older=len(found) > size, has_newer=bool(after))


def _page(keyset: Keyset, rows: list[Any], size: int, *, has_older: bool, has_newer: bool) -> Page:
    return Page(
        rows=rows,
        size=size,
        next_after=keyset.write(keyset.place(rows[-1])) if rows and has_older else None,
        previous_before=keyset.write(keyset.place(rows[0])) if rows and has_newer else None,
    )


def _cursor(keyset: Keyset, text: str, name: str) -> tuple[Any, ...]:
    try:
        return keyset.read(text)
    except (ValueError, TypeError, IndexError):
        raise InvalidInput(
            _("%(field)s: not a place in this list (use the Next and Previous links)", field=name),
            field=name,
        ) from None


def time_and_id_keyset(moment: Any, ident: Any, place: Callable[[Any], tuple[Any, ...]]) -> Keyset:
    """A keyset by a time and a UUID (ties broken by the id): "2026-11-30T10:00:00+00:00~<hex>"."""

    def read(text: str) -> tuple[Any, ...]:
        at, _sep, hex_id = text.partition("~")
        moment_value = datetime.fromisoformat(at)
        if moment_value.tzinfo is None:
            raise ValueError("a time without its zone")
        return moment_value, uuid.UUID(hex_id)

    def write(values: tuple[Any, ...]) -> str:
        return f"{values[0].isoformat()}~{values[1].hex}"

    return Keyset(columns=(moment, ident), place=place, read=read, write=write)


def whole_number_keyset(ident: Any, place: Callable[[Any], tuple[Any, ...]]) -> Keyset:
    """A keyset by an increasing whole-number id."""

    def read(text: str) -> tuple[Any, ...]:
        if not (text.isascii() and text.isdecimal()) or len(text) > 18:
            raise ValueError("not an id")
        return (int(text),)

    return Keyset(columns=(ident,), place=place, read=read, write=lambda v: str(v[0]))

"""The do-not-call list: numbers we must not call, at all or for campaigns only.

The one place that adds to, removes from and reads the list, with the audit entries; the API,
the console and the flows' opt-out go through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks.models import DoNotCall
from app.errors import NotFound
from app.phones import parse_phone

#: An entry of this scope stops every call to the number.
ALL = "all"
#: An opt-out on a campaign call: campaigns stop, security calls still come.
CAMPAIGNS = "campaigns"
REASON_MAX = 200


def add(
    session: Session,
    *,
    actor: Actor,
    phone: str,
    reason: str,
    scope: str = ALL,
    context: dict[str, Any] | None = None,
) -> DoNotCall:
    """Put the number on the list (a number already there keeps its entry); the caller commits."""
    e164 = parse_phone(phone, field="phone").e164
    entry = session.get(DoNotCall, e164)
    if entry is None:
        entry = DoNotCall(
            phone=e164, reason=reason.strip()[:REASON_MAX] or "not given", scope=scope
        )
        session.add(entry)
        record(
            session,
            actor=actor,
            action="do_not_call.added",
            subject_type="phone",
            subject_id=e164,
            changes={"reason": entry.reason, **(context or {})},
        )
    elif entry.scope == CAMPAIGNS and scope == ALL:
        # A number that only opted out of campaigns, now asked off every call: the wider ask wins.
        entry.scope = ALL
        entry.reason = reason.strip()[:REASON_MAX] or entry.reason
        record(
            session,
            actor=actor,
            action="do_not_call.widened",
            subject_type="phone",
            subject_id=e164,
            changes={"scope": ALL, "reason": entry.reason, **(context or {})},
        )
    return entry


def remove(session: Session, *, actor: Actor, phone: str) -> None:
    """Allow calls to the number again; NotFound when it is not on the list."""
    e164 = parse_phone(phone, field="phone").e164
    entry = session.get(DoNotCall, e164)
    if entry is None:
        raise NotFound(
            _l("phone: %(phone)s is not on the do-not-call list", phone=e164), field="phone"
        )
    session.delete(entry)
    record(
        session,
        actor=actor,
        action="do_not_call.removed",
        subject_type="phone",
        subject_id=e164,
        changes={},
    )


def entries(
    session: Session, *, newest_first: bool = False, limit: int | None = None
) -> list[DoNotCall]:
    """The list, oldest entry first unless asked otherwise."""
    order = DoNotCall.created_at.desc() if newest_first else DoNotCall.created_at
    return list(session.scalars(select(DoNotCall).order_by(order).limit(limit)))


def added_since(session: Session, since: datetime) -> int:
    """How many numbers joined the list since then (the dashboard's opt-outs)."""
    return session.scalar(select(func.count()).where(DoNotCall.created_at >= since)) or 0


def is_listed(session: Session, phone: str, *, campaign: bool = False) -> bool:
    """True when a call to this E.164 number must not be made (a campaign's or any call)."""
    return bool(session.scalar(select(listed(phone, campaign=campaign))))


def listed(phone: Any, *, campaign: bool = False) -> ColumnElement[bool]:
    """The SQL condition "this number is on the list", for queries over many numbers.

    `phone` is a column (or a value); `campaign` says the call is a campaign's, which any entry
    stops, while other calls are stopped only by an entry of scope ALL.
    """
    condition = exists().where(DoNotCall.phone == phone)
    if not campaign:
        condition = condition.where(DoNotCall.scope == ALL)
    return condition

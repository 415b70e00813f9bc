"""The supervisors' alerts about callbacks: one near its deadline (80% of its time gone, or the
last minutes), and one that missed it; an email to each active supervisor, once per callback and
kind (as complaints alert them), beside the dashboard's and the callbacks screen's marks."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callbacks.models import Callback
from app.messaging.models import MessageKind
from app.messaging.outbox import enqueue
from app.staff.models import Role, StaffUser

#: A callback is near its deadline once this share of its time (queued to due) is gone...
NEAR_SHARE = 0.8
#: ... or once its deadline is this close, whichever comes first.
LAST_MINUTES = timedelta(minutes=15)


def near_from(callback: Callback) -> datetime:
    """The moment a callback counts as near its deadline."""
    share = callback.created_at + (callback.due_by - callback.created_at) * NEAR_SHARE
    return min(share, callback.due_by - LAST_MINUTES)


def look_ahead(longest_deadline: timedelta) -> timedelta:
    """How far before its deadline any callback may become near (bounds the worker's query)."""
    return max(LAST_MINUTES, longest_deadline * (1 - NEAR_SHARE))


def alert_supervisors(session: Session, callback: Callback, *, missed: bool, now: datetime) -> int:
    """Email every active supervisor that this callback is near (or past) its deadline, in the
    caller's transaction; once per callback, kind and supervisor. Answers how many were queued."""
    kind = "missed" if missed else "near"
    emails = session.scalars(
        select(StaffUser.email).where(StaffUser.role == Role.SUPERVISOR, StaffUser.active.is_(True))
    ).all()
    due = callback.due_by.isoformat(timespec="minutes")
    if missed:
        subject = f"Missed: a callback's deadline ({callback.flow}, due {due})"
        body = (
            f"Callback {callback.id} ({callback.flow}, {callback.priority.value} priority) was due "
            f"by {due} and has not been finished. Open it in the console: Callbacks, "
            f"deadline missed."
        )
    else:
        subject = f"Near its deadline: a callback ({callback.flow}, due {due})"
        body = (
            f"Callback {callback.id} ({callback.flow}, now high priority) is due by {due} and "
            f"has not been finished. Open it in the console: Callbacks, near its deadline."
        )
    queued = 0
    for email in emails:
        message = enqueue(
            session,
            kind=MessageKind.EMAIL,
            recipient=email,
            subject=subject,
            body=body,
            now=now,
            dedupe_key=f"callback_alert:{kind}:{callback.id}:{email}",
        )
        queued += message is not None
    return queued

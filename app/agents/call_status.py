"""The app's view of our calls to a customer, and the core system told of each change.

One of five states, the first that holds, in this order:

1. `on_call`: the customer is on a call with us now (`with`: "ivr", or the agent's first name).
2. `calling_now`: a call of ours to them has not been answered yet (`reference`, and `number`: our
   number their phone shows). A customer on a suspicious call looks here first: a call that is
   not shown as ours, now, is not ours.
3. `scheduled`: a callback waits to be dialed (`at`: when it is due; a time already past means
   it is due now and comes soon). Before `called`: what comes next tells the customer more than
   what went before, and a retry of a call they missed shows as the coming call.
4. `called`: we called them in the last 24 hours (`at`: the last such call).
5. `not_called`: none of these: we have not called them in the last 24 hours.

The core system hears `customer.call_status_changed` (through the outbox, in the transaction of the
change) when a commit touched a customer's calls, callbacks or queue places and their state is not
the one it was last told. A change that only time makes (`called` turning `not_called` 24 hours
after the call, a call that never reported its end no longer shown as live after 4 hours) is
told by the worker's `call_status_clock` tick (`tell_time_changes`), within a minute. A scheduled
time coming changes nothing: a due callback stays `scheduled` until it is dialed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from flask import has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import clock
from app.agents.models import CustomerCallStatus, QueueEntry, QueueState
from app.callbacks.models import Callback, CallbackStatus
from app.calls.models import Call, CallDirection, CallStatus
from app.customers.models import Customer
from app.database import insert_new, utcnow
from app.messaging.outbox import notify_core
from app.staff.models import StaffUser

ON_CALL, CALLING_NOW, SCHEDULED = "on_call", "calling_now", "scheduled"
CALLED, NOT_CALLED = "called", "not_called"
STATES = (ON_CALL, CALLING_NOW, SCHEDULED, CALLED, NOT_CALLED)
#: How far back "called" looks.
RECENT = timedelta(hours=24)
#: A call older than this that never reported its end is not shown as live (a lost callback).
LIVE_AT_MOST = timedelta(hours=4)
WEBHOOK_TYPE = "customer.call_status_changed"

_RINGING = (CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING)
# A callback being dialed (claimed, or in_call before the carrier's ringing is recorded) is
# still the call to come; once its call rings or is answered, that call says more.
_WAITING = (CallbackStatus.QUEUED, CallbackStatus.CLAIMED, CallbackStatus.IN_CALL)
_KEY = "call_status_customers"


def call_status(session: Session, customer_id: uuid.UUID, *, now: datetime) -> dict[str, Any]:
    """The customer's call status: {"status", ...its details} (see the module's docstring)."""
    return call_statuses(session, {customer_id}, now=now)[customer_id]


def call_statuses(
    session: Session, customer_ids: Collection[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, dict[str, Any]]:
    """The call status of each of these customers, in three queries whatever their number (a
    dialer's commit touches a batch of customers at once: one round trip each would slow it)."""
    ids = list(customer_ids)
    statuses: dict[uuid.UUID, dict[str, Any]] = {}
    if not ids:
        return statuses
    live = session.scalars(
        select(Call)
        .where(
            Call.customer_id.in_(ids),
            Call.status.in_((*_RINGING, CallStatus.IN_PROGRESS)),
            Call.created_at >= now - LIVE_AT_MOST,
        )
        .order_by(Call.created_at.desc())
    ).all()
    for call in live:  # the newest first: an answered call, else one of ours ringing
        if call.customer_id is None or call.customer_id in statuses:
            continue
        if call.status is CallStatus.IN_PROGRESS:
            statuses[call.customer_id] = {"status": ON_CALL, "with": _with_whom(session, call)}
    for call in live:
        if call.customer_id is None or call.customer_id in statuses:
            continue
        if call.direction is CallDirection.OUTBOUND and call.sid:
            statuses[call.customer_id] = {
                "status": CALLING_NOW,
                "reference": call.reference,
                "number": call.from_number,
            }
    rest = [customer_id for customer_id in ids if customer_id not in statuses]
    if rest:
        for waiting, due in session.execute(
            select(Callback.customer_id, func.min(Callback.next_attempt_at))
            .where(
                Callback.customer_id.in_(rest),
                Callback.status.in_(_WAITING),
                Callback.dial_hold.is_(None),
            )
            .group_by(Callback.customer_id)
        ):
            if due is not None:
                statuses[waiting] = {"status": SCHEDULED, "at": due}
    rest = [customer_id for customer_id in rest if customer_id not in statuses]
    if rest:
        for called, last in session.execute(
            select(Call.customer_id, func.max(Call.created_at))
            .where(
                Call.customer_id.in_(rest),
                Call.direction == CallDirection.OUTBOUND,
                Call.sid.is_not(None),
                Call.created_at >= now - RECENT,
            )
            .group_by(Call.customer_id)
        ):
            if called is not None and last is not None:
                statuses[called] = {"status": CALLED, "at": last}
    for customer_id in ids:
        statuses.setdefault(customer_id, {"status": NOT_CALLED})
    return statuses


def _with_whom(session: Session, call: Call) -> str:
    """ "ivr", or the first name of the agent the caller is connected to."""
    name = session.scalar(
        select(StaffUser.name)
        .join(QueueEntry, QueueEntry.agent_id == StaffUser.id)
        .where(QueueEntry.call_id == call.id, QueueEntry.state == QueueState.CONNECTED)
        .order_by(QueueEntry.entered_at.desc())
        .limit(1)
    )
    if not name or not name.split():
        return "ivr"
    return name.split()[0]


def as_json(status: dict[str, Any]) -> dict[str, Any]:
    """A call status as JSON keeps it (times in ISO 8601)."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in status.items()
    }


def tell_changes(session: Session, customer_ids: set[uuid.UUID], *, now: datetime) -> int:
    """Queue `customer.call_status_changed` for each customer whose state is not the one the core
    system was last told; answers how many were queued.

    The states are computed for all of them at once and compared with what was told; only the
    changed ones are locked (in a fixed order) and compared again under the lock, so that two
    transactions never tell the same change twice and an unchanged batch costs no lock."""
    if not customer_ids:
        return 0
    statuses = {
        customer_id: as_json(status)
        for customer_id, status in call_statuses(session, customer_ids, now=now).items()
    }
    told_before = {
        row.customer_id: {"status": row.status, **row.detail}
        for row in session.scalars(
            select(CustomerCallStatus).where(CustomerCallStatus.customer_id.in_(list(statuses)))
        )
    }
    changed = [
        customer_id
        for customer_id, status in statuses.items()
        if told_before.get(customer_id) != status
        and not (customer_id not in told_before and status["status"] == NOT_CALLED)
    ]
    if not changed:
        return 0
    external_ids = {
        customer_id: external_id
        for customer_id, external_id in session.execute(
            select(Customer.id, Customer.external_id).where(Customer.id.in_(changed))
        )
        if external_id is not None
    }
    told: list[uuid.UUID] = []
    known = sorted((c for c in changed if c in told_before and c in external_ids), key=str)
    if known:  # locked in one statement, in a fixed order, and compared again under the lock
        for row in session.scalars(
            select(CustomerCallStatus)
            .where(CustomerCallStatus.customer_id.in_(known))
            .order_by(CustomerCallStatus.customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            status = statuses[row.customer_id]
            if {"status": row.status, **row.detail} == status:
                continue  # another transaction told this very state meanwhile
            row.status, row.detail, row.changed_at = status["status"], _detail(status), now
            told.append(row.customer_id)
    first = [c for c in changed if c not in told_before and c in external_ids]
    told += insert_new(  # a customer told for the first time; another transaction's row stands
        session,
        CustomerCallStatus,
        [
            {
                "customer_id": customer_id,
                "status": statuses[customer_id]["status"],
                "detail": _detail(statuses[customer_id]),
                "changed_at": now,
            }
            for customer_id in sorted(first, key=str)
        ],
        CustomerCallStatus.customer_id,
    )
    for customer_id in sorted(told, key=str):
        notify_core(
            session,
            type=WEBHOOK_TYPE,
            payload={
                "customer_id": str(customer_id),
                "customer_external_id": external_ids[customer_id],
                "call_status": statuses[customer_id],
            },
            now=now,
        )
    return len(told)


def _detail(status: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in status.items() if key != "status"}


#: How many customers one run of the clock looks at (the next run takes the rest).
TIME_BATCH = 500


def tell_time_changes(session: Session, *, now: datetime) -> int:
    """Tell the core system of the changes only time made: a `called` whose call is now more than
    24 hours old, a live state (`on_call`, `calling_now`) told more than LIVE_AT_MOST ago. Safe
    with racing workers: `tell_changes` compares under the row's lock, so each change is told
    once. Answers how many were told."""
    rows = session.execute(
        select(CustomerCallStatus.customer_id, CustomerCallStatus.status, CustomerCallStatus.detail)
        .where(
            (CustomerCallStatus.status == CALLED)
            | (
                CustomerCallStatus.status.in_((ON_CALL, CALLING_NOW))
                & (CustomerCallStatus.changed_at <= now - LIVE_AT_MOST)
            )
        )
        .order_by(CustomerCallStatus.changed_at)
    )
    due: set[uuid.UUID] = set()
    for customer_id, state, detail in rows:
        if state == CALLED and not _older_than(detail.get("at"), now - RECENT):
            continue
        due.add(customer_id)
        if len(due) >= TIME_BATCH:
            break
    return tell_changes(session, due, now=now) if due else 0


def _older_than(at: object, limit: datetime) -> bool:
    """Whether a told time (ISO 8601) is at or before `limit`; an unreadable one counts as old
    (telling the state again costs one webhook, never a wrong one: it is computed afresh)."""
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=limit.tzinfo)
    return moment <= limit


def call_status_clock(app: Any, worker: str) -> None:
    """The worker's tick: the changes only time makes, told and committed."""
    from app.extensions import db

    tell_time_changes(db.session(), now=clock.now())
    db.session.commit()


# ----- which commits touched whose calls -----

_WATCHED = (Call, Callback, QueueEntry)


@event.listens_for(Session, "after_flush")
def _note_customers(session: Session, _: Any) -> None:
    touched = session.info.setdefault(_KEY, set())
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, _WATCHED) and instance.customer_id is not None:
            touched.add(instance.customer_id)
    if not touched:
        session.info.pop(_KEY, None)


@event.listens_for(Session, "before_commit")
def _tell_before_commit(session: Session) -> None:
    if any(isinstance(instance, _WATCHED) for instance in (*session.new, *session.dirty)):
        session.flush()  # what is still pending names its customers too
    touched = session.info.pop(_KEY, set())
    if touched:
        now = clock.now() if has_app_context() else utcnow()
        tell_changes(session, touched, now=now)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)

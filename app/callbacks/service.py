"""Events in, callbacks out: the decision for each event and one open callback per incident."""

from __future__ import annotations

import base64
import binascii
import logging
import random
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from datetime import time as wall_time
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, with_expression

from app import wakeup
from app.audit.service import Actor, record
from app.callbacks import lifecycle
from app.callbacks.anomaly import Assessment, Past, assess_transaction, history, past_of
from app.callbacks.models import (
    EVENT_KINDS,
    Callback,
    CallbackStatus,
    Event,
    EventType,
    Feedback,
    HoldStatus,
    Priority,
    WithdrawalHold,
)
from app.callbacks.policy import Policy
from app.callbacks.window import callee_zones, inside, next_opening
from app.calls.models import Call
from app.customers.models import Customer
from app.database import lost_a_race, sqlstate, unique_violation
from app.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable
from app.inputs import refuse_control_characters
from app.outcomes import Outcome
from app.phones import parse_phone

log = logging.getLogger(__name__)

#: How many times a decision that lost a race with a concurrent request (a deadlock, a
#: serialization failure, a unique key another request inserted first) is run again, whole,
#: before the request answers 503 with Retry-After. Locks are taken in one order (customers by
#: id, then their open callbacks by id, events by id), so in practice the first try wins.
# Why we call, kept with the callback in English (the console shows each in its reader's words
# by these same texts).
NEW_REGISTRATION = "new registration: welcome and verification call"
WITHDRAWAL_WITH_PROBLEMS = "withdrawal requested on an account with open problems"
CONTACT_CHANGED = "{field} changed: confirming with the previous number"
FOR_AN_AGENT = "agent"
LOW_RATING = "feedback: a low rating ({rating} of 5)"
CALL_ME_ASKED = "feedback: the customer asked us to call"

#: The ratings that queue a call on their own (1 or 2 of 5); the longest feedback text kept.
LOW_RATINGS = (1, 2)
MAX_FEEDBACK_TEXT = 2000
FEEDBACK_CHANNEL = "app"

TRIES = 5
RETRY_AFTER_SECONDS = 1
_T = TypeVar("_T")

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def decide_event(
    session: Session, *, policy: Policy, actor: Actor, now: datetime, payload: dict[str, Any]
) -> dict[str, Any]:
    """Decide one validated event and commit; answers its decision (the same id again: the first).

    Run again whole when it loses a race with a concurrent request; 503 if it keeps losing.
    """

    def work() -> dict[str, Any]:
        return decision(
            ingest_event(
                session,
                policy=policy,
                actor=actor,
                now=now,
                event_id=payload["id"],
                type=payload["type"],
                customer_external_id=payload["customer_external_id"],
                occurred_at=payload["occurred_at"],
                data=payload["data"],
                call_at=payload.get("call_at"),
            )
        )

    return _committed(session, work, what="event")


def decide_batch(
    session: Session,
    *,
    policy: Policy,
    actor: Actor,
    now: datetime,
    items: Sequence[dict[str, Any]],
) -> list[dict[str, Any] | DomainError]:
    """Decide a batch of validated events and commit; answers each one's decision or refusal.

    Overlapping and retried batches are safe: the batch locks its customers in one order before
    it reads anything, so a retry racing the first delivery waits for it and answers its
    decisions, and a batch that still loses a race (a deadlock with another writer, a unique key
    inserted first) is rolled back and run again whole, a bounded number of times (then 503).
    """
    return _committed(
        session,
        lambda: ingest_batch(session, policy=policy, actor=actor, now=now, items=list(items)),
        what=f"batch of {len(items)} events",
    )


def _committed(
    session: Session,
    work: Callable[[], _T],
    *,
    what: str,
    tries: int = TRIES,
) -> _T:
    """work() then commit, in one transaction; run again whole (after a short random wait) when
    it lost a race with a concurrent transaction; Unavailable when every try lost."""
    for attempt in range(1, tries + 1):
        try:
            answer = work()
            session.commit()
            return answer
        except DBAPIError as error:
            session.rollback()
            if not (lost_a_race(error) or unique_violation(error)):
                raise
            log.warning(
                "%s lost a race with a concurrent request (%s), try %d of %d",
                what,
                sqlstate(error) or type(error.orig).__name__,
                attempt,
                tries,
            )
        except BaseException:
            session.rollback()
            raise
        if attempt < tries:
            _pause(attempt)
    log.error("%s lost a race %d times in a row; answered 503", what, tries)
    raise Unavailable(
        _l(
            "the events are being changed by concurrent requests; nothing was written: "
            "send the same request again"
        ),
        retry_after=RETRY_AFTER_SECONDS,
    )


def _pause(attempt: int) -> None:
    """A short random wait before try attempt + 1, so that the racers do not meet again."""
    time.sleep(random.uniform(0.01, 0.05 * 2**attempt))  # noqa: S311 (jitter, not a secret)


def decision(event: Event) -> dict[str, Any]:
    """What POST /api/v1/events answers, the first time and every time after."""
    return {
        "event_id": event.event_id,
        "anomalous": event.anomalous,
        "score": event.score,
        "reasons": list(event.reasons or []),
        "priority": event.priority.value if event.priority else None,
        "callback_id": str(event.callback_id) if event.callback_id else None,
    }


def ingest_event(
    session: Session,
    *,
    policy: Policy,
    actor: Actor,
    now: datetime,
    event_id: str,
    type: str,
    customer_external_id: str,
    occurred_at: datetime,
    data: dict[str, Any],
    call_at: datetime | None = None,
) -> Event:
    """Decide on an event once; the same id again answers the first decision, queuing nothing.

    `call_at`: the callback it queues is first dialed no earlier than then (see _new_callback).

    The customer is locked first (as a batch locks its customers), so an event racing a retry of
    itself or a batch over the same customer waits for it and then reads what it wrote. The
    caller commits, and runs it again whole when it lost a race (decide_event does both).
    """
    customer = session.scalar(
        select(Customer)
        .where(Customer.external_id == customer_external_id)
        .with_for_update(key_share=True)
    )
    existing = session.scalar(select(Event).where(Event.event_id == event_id))
    if existing is not None:
        return existing
    kind = _kind(type)
    if customer is None:
        raise InvalidInput(
            _l("customer_external_id: no customer has this external_id; register it first"),
            field="customer_external_id",
            code="unknown_customer",
        )
    if occurred_at.tzinfo is None:
        raise InvalidInput(
            _l("occurred_at: give a time zone (e.g. 2026-11-23T10:00:00Z)"), field="occurred_at"
        )
    data = _checked_data(kind, data)
    _not_past(call_at, now)
    assessment, to_number = _decide(
        lambda: history(session, policy, customer.id, occurred_at),
        policy,
        kind,
        customer,
        data,
        occurred_at,
    )
    event = Event(
        event_id=event_id,
        type=kind,
        customer_id=customer.id,
        occurred_at=occurred_at,
        data=data,
        anomalous=assessment.anomalous if kind is EventType.TRANSACTION else False,
        score=assessment.score,
        reasons=assessment.reasons,
        priority=assessment.priority,
        policy_version=policy.version,
    )
    if assessment.priority is not None:
        callback = queue_callback(
            session,
            policy=policy,
            actor=actor,
            now=now,
            customer=customer,
            trigger=kind,
            priority=assessment.priority,
            to_number=to_number,
            assessment=assessment,
            variables=_spoken(data, occurred_at),
            call_at=call_at,
        )
        event.callback_id = callback.id
        if kind is EventType.WITHDRAWAL_REQUEST:
            session.add(_hold(event_id, customer, callback.id, data))
    if kind is EventType.FEEDBACK:
        session.add(_feedback(event_id, customer, event.callback_id, data, now))
    session.add(event)
    # The same id inserted first by another request (with another customer) raises here; the
    # whole decision is then rolled back and run again, and answers that request's decision.
    session.flush()
    return event


def _kind(type: object) -> EventType:
    """The event's kind; campaign callbacks come from the console, never as an event."""
    for kind in EVENT_KINDS:
        if type == kind.value:
            return kind
    raise InvalidInput(
        f"type: use one of {', '.join(kind.value for kind in EVENT_KINDS)}", field="type"
    )


def _checked_data(kind: EventType, data: dict[str, Any]) -> dict[str, Any]:
    """The event's data, validated for its type; errors name the field as data.<name>."""
    if not isinstance(data, dict):
        raise InvalidInput(_l("data: must be an object"), field="data")
    clean = dict(data)
    if kind in (EventType.TRANSACTION, EventType.WITHDRAWAL_REQUEST):
        raw = data.get("amount")
        try:
            if isinstance(raw, bool) or raw is None:
                raise InvalidOperation
            amount = Decimal(str(raw))
            if not amount.is_finite() or amount <= 0 or amount > Decimal("1e12"):
                raise InvalidOperation
        except InvalidOperation:
            raise InvalidInput(
                _l("data.amount: give a positive amount, e.g. 249.90"), field="data.amount"
            ) from None
        clean["amount"] = str(amount)
        currency = str(data.get("currency") or "EUR").upper()
        if not _CURRENCY.match(currency):
            raise InvalidInput(
                _l("data.currency: use an ISO 4217 code such as EUR"), field="data.currency"
            )
        clean["currency"] = currency
    if "country" in data and data["country"] is not None:
        country = str(data["country"]).upper()
        if not _COUNTRY.match(country):
            raise InvalidInput(
                _l("data.country: use a two-letter country code"), field="data.country"
            )
        clean["country"] = country
    for key in ("merchant", "device", "beneficiary"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise InvalidInput(
                f"data.{key}: give a text of at most 200 characters", field=f"data.{key}"
            )
    if kind is EventType.WITHDRAWAL_REQUEST:
        flag = data.get("account_has_open_problems", False)
        if not isinstance(flag, bool):
            raise InvalidInput(
                _l("data.account_has_open_problems: true or false"),
                field="data.account_has_open_problems",
            )
    if kind is EventType.FEEDBACK:
        return _checked_feedback(data)
    if kind is EventType.ACCOUNT_CHANGE:
        if data.get("field") not in ("phone", "email"):
            raise InvalidInput(_l("data.field: phone or email"), field="data.field")
        if data.get("previous_phone") is not None:
            clean["previous_phone"] = parse_phone(
                data["previous_phone"], field="data.previous_phone"
            ).e164
        elif data["field"] == "phone":
            raise InvalidInput(
                _l(
                    "data.previous_phone: a phone change is confirmed by calling "
                    "the previous number; send it"
                ),
                field="data.previous_phone",
            )
    return clean


def _checked_feedback(data: dict[str, Any]) -> dict[str, Any]:
    """A feedback event's data: rating (a whole number 1-5), text (optional), call_me (a flag)."""
    rating = data.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_l("data.rating: give a whole number from 1 to 5"), field="data.rating")
    text = data.get("text")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_FEEDBACK_TEXT):
        raise InvalidInput(
            _l("data.text: give a text of at most 2000 characters"), field="data.text"
        )
    if text is not None:
        # Kept in a text column, which PostgreSQL refuses a NUL in: refused here, as a 422.
        refuse_control_characters({"data.text": text}, multiline=["data.text"])
    call_me = data.get("call_me", False)
    if not isinstance(call_me, bool):
        raise InvalidInput(_l("data.call_me: true or false"), field="data.call_me")
    return {"rating": rating, "text": text or None, "call_me": call_me}


def _feedback(
    event_id: str,
    customer: Customer,
    callback_id: uuid.UUID | None,
    data: dict[str, Any],
    now: datetime,
) -> Feedback:
    return Feedback(
        customer_id=customer.id,
        rating=data["rating"],
        text=data["text"],
        call_me=data["call_me"],
        channel=FEEDBACK_CHANNEL,
        event_id=event_id,
        callback_id=callback_id,
        created_at=now,
    )


def _decide(
    past: Callable[[], list[Past]],
    policy: Policy,
    kind: EventType,
    customer: Customer,
    data: dict[str, Any],
    occurred_at: datetime,
) -> tuple[Assessment, str]:
    """The assessment (score, reasons, priority or none) and the number to call."""
    to_number = customer.phone
    if kind is EventType.TRANSACTION:
        return assess_transaction(policy, data, occurred_at, past()), to_number
    trigger = policy.triggers[kind.value]
    assessment = Assessment(priority=Priority(trigger["priority"]))
    if kind is EventType.FEEDBACK:
        # A low rating calls at the trigger's priority; call_me alone, at low priority.
        if data["rating"] in LOW_RATINGS:
            assessment.reasons.append(LOW_RATING.format(rating=data["rating"]))
        elif data["call_me"]:
            assessment = Assessment(priority=Priority.LOW, reasons=[CALL_ME_ASKED])
        else:
            return Assessment(), to_number
        if data["call_me"] and data["rating"] in LOW_RATINGS:
            assessment.reasons.append(CALL_ME_ASKED)
    elif kind is EventType.REGISTRATION:
        assessment.reasons.append(NEW_REGISTRATION)
    elif kind is EventType.WITHDRAWAL_REQUEST:
        if not data.get("account_has_open_problems"):
            return Assessment(), to_number
        assessment.reasons.append(WITHDRAWAL_WITH_PROBLEMS)
    else:
        changed = data["field"]
        to_number = data.get("previous_phone") or customer.phone
        assessment.reasons.append(CONTACT_CHANGED.format(field=changed))
    return assessment, to_number


def _spoken(data: dict[str, Any], occurred_at: datetime) -> dict[str, Any]:
    spoken: dict[str, Any] = {
        k: data[k] for k in ("amount", "currency", "merchant", "country") if k in data
    }
    spoken["time"] = occurred_at.isoformat()
    return spoken


def queue_callback(
    session: Session,
    *,
    policy: Policy,
    actor: Actor,
    now: datetime,
    customer: Customer,
    trigger: EventType,
    priority: Priority,
    to_number: str,
    assessment: Assessment,
    variables: dict[str, Any],
    call_at: datetime | None = None,
) -> Callback:
    """Queue a call, or join the customer's open callback for the same matter (which keeps its
    time: `call_at` is the time of a new callback only)."""
    flow = policy.triggers[trigger.value]["flow"]
    for _ in range(2):
        open_callback = session.scalar(
            select(Callback)
            .where(
                Callback.customer_id == customer.id,
                Callback.flow == flow,
                Callback.status != CallbackStatus.DONE,
            )
            .with_for_update()
        )
        if open_callback is not None:
            return _join(
                session, policy, actor, now, open_callback, priority, assessment, variables
            )
        try:
            with session.begin_nested():
                callback = _new_callback(
                    session,
                    policy,
                    actor,
                    now,
                    customer,
                    trigger,
                    flow,
                    assessment,
                    to_number,
                    variables,
                    priority=priority,
                    call_at=call_at,
                )
        except IntegrityError:  # another event opened the incident first: join it instead
            continue
        return callback
    raise Conflict(_l("the customer's open callback changed while this event was decided; retry"))


def _join(
    session: Session,
    policy: Policy,
    actor: Actor,
    now: datetime,
    callback: Callback,
    priority: Priority,
    assessment: Assessment,
    variables: dict[str, Any],
) -> Callback:
    before = (callback.priority, callback.due_by)
    callback.reasons = list(dict.fromkeys([*callback.reasons, *assessment.reasons]))
    callback.score = max(callback.score, assessment.score)
    callback.variables = {**callback.variables, **variables}
    if priority.rank > callback.priority.rank:
        callback.priority = priority
    callback.due_by = min(callback.due_by, now + policy.deadlines[callback.priority.value])
    if (
        callback.status is CallbackStatus.QUEUED
        and callback.next_attempt_at > now
        and (callback.priority != before[0])
    ):
        callback.next_attempt_at = now  # a raised priority is dialed again at once
    if callback.priority is Priority.HIGH and before[0] is not Priority.HIGH:
        wakeup.hint(session, "dispatch")
    record(
        session,
        actor=actor,
        action="callback.joined",
        subject_type="callback",
        subject_id=callback.id,
        changes={
            "reasons": assessment.reasons,
            "priority": [before[0].value, callback.priority.value],
        },
    )
    return callback


def ingest_batch(
    session: Session,
    *,
    policy: Policy,
    actor: Actor,
    now: datetime,
    items: list[dict[str, Any]],
) -> list[dict[str, Any] | DomainError]:
    """Decide a batch of validated events with a handful of queries; answers their decisions.

    The batch's event ids, customers, their recent transactions and open callbacks are read once;
    each event is then decided in memory, in order (so a later event sees the earlier ones).
    Locks are taken in one order whatever the batch's order: its customers (by id) before
    anything is read, then their open callbacks (by id); events are inserted by id. The caller
    commits, and runs it again whole when it lost a race (decide_batch does both).
    """
    customers = {
        c.external_id: c
        for c in session.scalars(
            select(Customer)
            .where(Customer.external_id.in_({item["customer_external_id"] for item in items}))
            .order_by(Customer.id)
            # FOR NO KEY UPDATE: batches over one customer take turns, while rows that merely
            # refer to the customer (events, calls) are still written by others meanwhile.
            .with_for_update(key_share=True)
        )
    }
    ids = [item["id"] for item in items]
    known = {e.event_id: e for e in session.scalars(select(Event).where(Event.event_id.in_(ids)))}
    customer_ids = [c.id for c in customers.values()]
    histories: dict[uuid.UUID, list[Past]] = defaultdict(list)
    times = [i["occurred_at"] for i in items if i["type"] == EventType.TRANSACTION.value]
    if times and customer_ids:
        since = min(times) - timedelta(days=policy.history_days)
        for customer_id, occurred_at, data in session.execute(
            select(Event.customer_id, Event.occurred_at, Event.data).where(
                Event.customer_id.in_(customer_ids),
                Event.type == EventType.TRANSACTION,
                Event.occurred_at >= since,
            )
        ):
            histories[customer_id].append(past_of(occurred_at, data))
    open_callbacks = {
        (cb.customer_id, cb.flow): cb
        for cb in session.scalars(
            select(Callback)
            .where(Callback.customer_id.in_(customer_ids), Callback.status != CallbackStatus.DONE)
            .order_by(Callback.id)
            .with_for_update()
        )
    }

    def past(customer_id: uuid.UUID, before: datetime) -> list[Past]:
        oldest = before - timedelta(days=policy.history_days)
        recent = [p for p in histories[customer_id] if oldest <= p.occurred_at <= before]
        recent.sort(key=lambda p: p.occurred_at, reverse=True)
        return recent[: policy.history_max]

    answers = {event_id: decision(event) for event_id, event in known.items()}
    results: list[dict[str, Any] | DomainError] = []
    rows: list[dict[str, Any]] = []
    holds: list[WithdrawalHold] = []
    feedback: list[Feedback] = []
    for item in items:
        if item["id"] in answers:
            results.append(answers[item["id"]])
            continue
        try:
            kind = _kind(item["type"])
            customer = customers.get(item["customer_external_id"])
            if customer is None:
                raise InvalidInput(
                    _l("customer_external_id: no customer has this external_id; register it first"),
                    field="customer_external_id",
                    code="unknown_customer",
                )
            occurred_at, data = item["occurred_at"], _checked_data(kind, item["data"])
            _not_past(item.get("call_at"), now)
            assessment, to_number = _decide(
                partial(past, customer.id, occurred_at),
                policy,
                kind,
                customer,
                data,
                occurred_at,
            )
            callback = None
            if assessment.priority is not None:
                flow = policy.triggers[kind.value]["flow"]
                callback = open_callbacks.get((customer.id, flow))
                if callback is not None:
                    _join(
                        session,
                        policy,
                        actor,
                        now,
                        callback,
                        assessment.priority,
                        assessment,
                        _spoken(data, occurred_at),
                    )
                else:
                    # Refuses a call_at it cannot keep before it writes anything.
                    callback = _new_callback(
                        session,
                        policy,
                        actor,
                        now,
                        customer,
                        kind,
                        flow,
                        assessment,
                        to_number,
                        _spoken(data, occurred_at),
                        call_at=item.get("call_at"),
                    )
                    open_callbacks[(customer.id, flow)] = callback
        except DomainError as exc:
            results.append(exc)
            continue
        callback_id = None
        if kind is EventType.TRANSACTION:
            histories[customer.id].append(past_of(occurred_at, data))
        if callback is not None:
            callback_id = callback.id
            if kind is EventType.WITHDRAWAL_REQUEST:
                holds.append(_hold(item["id"], customer, callback.id, data))
        if kind is EventType.FEEDBACK:
            feedback.append(_feedback(item["id"], customer, callback_id, data, now))
        rows.append(
            {
                "event_id": item["id"],
                "type": kind,
                "customer_id": customer.id,
                "occurred_at": occurred_at,
                "data": data,
                "anomalous": assessment.anomalous,
                "score": assessment.score,
                "reasons": assessment.reasons,
                "priority": assessment.priority,
                "callback_id": callback_id,
                "policy_version": policy.version,
                "received_at": now,
            }
        )
        answers[item["id"]] = {
            "event_id": item["id"],
            "anomalous": assessment.anomalous,
            "score": assessment.score,
            "reasons": list(assessment.reasons),
            "priority": assessment.priority.value if assessment.priority else None,
            "callback_id": str(callback_id) if callback_id else None,
        }
        results.append(answers[item["id"]])
    session.flush()  # callbacks first: events and holds refer to them
    session.add_all(holds)
    session.add_all(feedback)
    if rows:
        # One multi-row INSERT through the ORM's column types, not a unit of work per event.
        session.execute(insert(Event), sorted(rows, key=lambda row: row["event_id"]))
    return results


def _hold(
    event_id: str, customer: Customer, callback_id: uuid.UUID, data: dict[str, Any]
) -> WithdrawalHold:
    """The withdrawal waits (requested -> verifying) until its call authorizes or rejects it."""
    return WithdrawalHold(
        event_id=event_id,
        customer_id=customer.id,
        callback_id=callback_id,
        amount=data["amount"],
        currency=data["currency"],
        status=HoldStatus.VERIFYING,
    )


def get_withdrawal(session: Session, event_id: str) -> WithdrawalHold:
    hold = session.scalar(select(WithdrawalHold).where(WithdrawalHold.event_id == event_id))
    if hold is None:
        raise NotFound(_l("no held withdrawal has this event id"), field="event_id")
    return hold


def _new_callback(
    session: Session,
    policy: Policy,
    actor: Actor,
    now: datetime,
    customer: Customer,
    trigger: EventType,
    flow: str,
    assessment: Assessment,
    to_number: str,
    variables: dict[str, Any],
    *,
    priority: Priority | None = None,
    call_at: datetime | None = None,
) -> Callback:
    """A new open callback (queued now, due by its priority's deadline), and its audit entry.

    With `call_at` it is first dialed no earlier than then; its deadline stays its priority's,
    so a time after it, or outside the callee's calling hours, is refused (InvalidInput).
    """
    priority = priority or assessment.priority or Priority.LOW
    due_by = now + policy.deadlines[priority.value]
    if call_at is not None:
        check_call_at(
            call_at,
            now=now,
            latest=due_by,
            zones=callee_zones(customer, to_number),
            window=policy.calling_window,
            too_late=f"after this callback's deadline ({due_by.isoformat()}, {priority.value} "
            "priority); choose an earlier time",
        )
    callback = Callback(
        id=uuid.uuid4(),
        customer_id=customer.id,
        trigger=trigger,
        flow=flow,
        to_number=to_number,
        priority=priority,
        status=CallbackStatus.QUEUED,
        due_by=due_by,
        next_attempt_at=max(now, call_at) if call_at is not None else now,
        waiting_for=lifecycle.ASKED_TIME if call_at is not None and call_at > now else None,
        score=assessment.score,
        reasons=list(assessment.reasons),
        variables=variables,
        policy_version=policy.version,
    )
    session.add(callback)
    if priority is Priority.HIGH and callback.next_attempt_at <= now:
        wakeup.hint(session, "dispatch")  # once committed: a fraud alert that waits succeeds
    changes: dict[str, Any] = {
        "priority": priority.value,
        "flow": flow,
        "reasons": callback.reasons,
    }
    if call_at is not None:
        changes["next_attempt_at"] = callback.next_attempt_at
    record(
        session,
        actor=actor,
        action="callback.queued",
        subject_type="callback",
        subject_id=callback.id,
        changes=changes,
    )
    return callback


# ----- the integrator's hand on a callback: a time asked for, a new time, a cancel -----

#: How far ahead the integrator may move a callback (as far as the console's new time).
LATEST_CALL_AT = timedelta(days=90)


def _not_past(call_at: datetime | None, now: datetime) -> None:
    """A call_at already gone is refused, whether or not the event queues a callback."""
    if call_at is not None and call_at < now:
        raise InvalidInput(
            "call_at: this time has passed; choose a time in the future",
            field="call_at",
            code="call_at_past",
        )


def check_call_at(
    at: datetime,
    *,
    now: datetime,
    latest: datetime,
    zones: tuple[str, ...],
    window: tuple[wall_time, wall_time],
    too_late: str,
) -> None:
    """A time a callback may be first dialed at: not past, not after `latest`, and inside the
    callee's calling hours (every zone the number may ring in); InvalidInput naming call_at."""
    _not_past(at, now)
    if at > latest:
        raise InvalidInput(f"call_at: {too_late}", field="call_at", code="call_at_too_late")
    start, end = window
    if not zones:
        raise InvalidInput(
            "call_at: the callee's time zone is unknown, so we cannot call at a chosen time",
            field="call_at",
            code="call_at_outside_calling_hours",
        )
    if not inside(at, zones, start, end):
        opening = next_opening(at, zones, start, end)
        then = f"; the next opening is {opening.isoformat()}" if opening is not None else ""
        raise InvalidInput(
            f"call_at: outside the callee's calling hours ({start:%H:%M}-{end:%H:%M} in "
            f"{', '.join(zones)}){then}",
            field="call_at",
            code="call_at_outside_calling_hours",
        )


def _open_for_change(session: Session, callback_id: uuid.UUID) -> Callback:
    """The callback, locked until the caller commits (a second change waits for the first and
    then sees what it did); NotFound, or Conflict when it has ended."""
    callback = session.get(Callback, callback_id, with_for_update=True, populate_existing=True)
    if callback is None:
        raise NotFound("no callback has this id", field="id")
    if callback.status is CallbackStatus.DONE:
        if callback.outcome is Outcome.CANCELLED:
            raise Conflict("this callback is already cancelled", code="already_cancelled")
        outcome = callback.outcome.value if callback.outcome is not None else "no outcome"
        raise Conflict(f"this callback is already done ({outcome})", code="already_done")
    return callback


def cancel_callback(
    session: Session, callback_id: uuid.UUID, *, now: datetime, actor: Actor
) -> Callback:
    """The integrator cancels a callback waiting to be called, as a supervisor's cancel does (its
    audit entry, the core system told); Conflict when it is being dialed, in a call or ended.
    The caller commits."""
    callback = _open_for_change(session, callback_id)
    lifecycle.cancel(session, callback, now=now, actor=actor, why="cancelled by the integrator")
    return callback


def reschedule_callback(
    session: Session,
    callback_id: uuid.UUID,
    at: datetime,
    *,
    policy: Policy,
    now: datetime,
    actor: Actor,
) -> Callback:
    """The integrator gives a waiting callback a new time, as a supervisor's new time does (its
    deadline moved past it); a time past, beyond LATEST_CALL_AT or outside the callee's calling
    hours is InvalidInput. The caller commits."""
    callback = _open_for_change(session, callback_id)
    customer = session.get_one(Customer, callback.customer_id)
    check_call_at(
        at,
        now=now,
        latest=now + LATEST_CALL_AT,
        zones=callee_zones(customer, callback.to_number),
        window=policy.profile(callback.dial_profile).window,
        too_late=f"choose a time within {LATEST_CALL_AT.days} days",
    )
    lifecycle.reschedule(session, callback, at, now=now, actor=actor, why=lifecycle.ASKED_TIME)
    return callback


#: A page of the callbacks list holds at most this many (and this many when not told).
MAX_PAGE, DEFAULT_PAGE = 200, 50


def _cursor(callback: Callback) -> str:
    """Where the next page starts: after this callback (newest first), opaque to integrators."""
    raw = f"{callback.created_at.isoformat()}|{callback.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, callback_id = raw.partition("|")
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None:
            raise ValueError(moment)
        return at, uuid.UUID(callback_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(
            "after: not a cursor this list gave; pass the `next` of the previous page",
            field="after",
        ) from None


def list_callbacks(
    session: Session,
    *,
    customer_external_id: str | None = None,
    status: CallbackStatus | None = None,
    limit: int = DEFAULT_PAGE,
    after: str | None = None,
) -> dict[str, Any]:
    """Callbacks of a customer and/or in a status, newest first, a page at a time: answers
    {callbacks, next} (next: the cursor of the following page, or None on the last)."""
    query = select(Callback)
    if customer_external_id is not None:
        customer_id = session.scalar(
            select(Customer.id).where(Customer.external_id == customer_external_id)
        )
        if customer_id is None:
            raise InvalidInput(
                "customer_external_id: no customer has this external_id",
                field="customer_external_id",
                code="unknown_customer",
            )
        query = query.where(Callback.customer_id == customer_id)
    if status is not None:
        query = query.where(Callback.status == status)
    if after is not None:
        at, callback_id = _after(after)
        query = query.where(
            or_(
                Callback.created_at < at,
                (Callback.created_at == at) & (Callback.id < callback_id),
            )
        )
    latest = (
        select(Call.reference)
        .where(Call.callback_id == Callback.id)
        .order_by(Call.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = list(
        session.scalars(
            query.options(with_expression(Callback.reference, latest))
            .order_by(Callback.created_at.desc(), Callback.id.desc())
            .limit(limit + 1)
            .execution_options(populate_existing=True)
        )
    )
    page = rows[:limit]
    return {"callbacks": page, "next": _cursor(page[-1]) if len(rows) > limit else None}


#: The flow of our calls for an agent (progressive dialing): greet, never-ask, reference, verify,
#: then the place kept for the agent (call_flows/agent_callback.yaml).
AGENT_CALLBACK_FLOW = "agent_callback"
#: What an agent's call needs to go on in the queue: its variables name no person and no digit.
AGENT_CALL_KEYS = ("agent_id", "matter_id", "skill", "entry_id", "complaint")
#: An agent's call is due soon after its time (someone waits for it): dialed before the
#: customer's other matters, its retries within this.
AGENT_CALL_DEADLINE = timedelta(minutes=15)


def queue_agent_callback(
    session: Session,
    matter: Callback | None,
    *,
    customer_id: uuid.UUID | None = None,
    to_number: str | None = None,
    policy_version: int | None = None,
    at: datetime,
    agent_call: dict[str, str],
    actor: Actor,
    now: datetime,
    why: str,
) -> Callback:
    """Call the customer of this matter for one of our people at `at` (now: "call now"): a
    callback of the agent_callback flow, high priority, so the dialer's pacing, calling hours,
    one call per person and retries apply. `agent_call` says for whom (agent_id, the skill, the
    matter; entry_id: the caller's place kept on virtual hold). The customer's open one, not in
    a call yet, is moved to this; one being dialed now is a Conflict. Answers the callback.

    Without a matter (a caller on virtual hold who called about none), `customer_id`,
    `to_number` (E.164) and `policy_version` say whom to call."""
    unknown = set(agent_call) - set(AGENT_CALL_KEYS)
    if unknown:
        raise ValueError(f"an agent's call carries {AGENT_CALL_KEYS}, not {sorted(unknown)}")
    if matter is not None:
        customer_id, to_number = matter.customer_id, matter.to_number
        policy_version = matter.policy_version
        variables = {**matter.variables, **agent_call, "matter_id": str(matter.id)}
    else:
        variables = dict(agent_call)
    if customer_id is None or to_number is None or policy_version is None:
        raise ValueError("an agent's call needs a matter, or a customer, a number and a policy")
    if at <= now:
        at = now
    for _ in range(2):
        open_callback = session.scalar(
            select(Callback)
            .where(
                Callback.customer_id == customer_id,
                Callback.flow == AGENT_CALLBACK_FLOW,
                Callback.status != CallbackStatus.DONE,
            )
            .with_for_update()
        )
        if open_callback is not None:
            if open_callback.status is not CallbackStatus.QUEUED:
                raise Conflict(
                    _l("we are calling this customer for someone right now; try again later")
                )
            open_callback.variables = variables
            open_callback.to_number, open_callback.priority = to_number, Priority.HIGH
            lifecycle.follow_up(session, open_callback, at, now=now, actor=actor, why=why)
            callback = open_callback
            break
        try:
            with session.begin_nested():
                callback = Callback(
                    id=uuid.uuid4(),
                    customer_id=customer_id,
                    trigger=EventType.AGENT,
                    flow=AGENT_CALLBACK_FLOW,
                    to_number=to_number,
                    priority=Priority.HIGH,
                    status=CallbackStatus.QUEUED,
                    due_by=at + AGENT_CALL_DEADLINE,
                    next_attempt_at=at,
                    reasons=[FOR_AN_AGENT],
                    variables=variables,
                    policy_version=policy_version,
                    dial_profile=matter.dial_profile if matter is not None else None,
                )
                session.add(callback)
        except IntegrityError:  # the same customer's, made at the same moment elsewhere
            continue
        record(
            session,
            actor=actor,
            action="callback.queued",
            subject_type="callback",
            subject_id=callback.id,
            changes={
                "priority": Priority.HIGH.value,
                "flow": AGENT_CALLBACK_FLOW,
                "for": {key: variables[key] for key in AGENT_CALL_KEYS if key in variables},
                "next_attempt_at": at,
                "why": why,
            },
        )
        break
    else:
        raise Conflict(_l("the customer's calls changed while this one was made; try again"))
    if at <= now:
        wakeup.hint(session, "dispatch")  # dialed at once, once committed
    return callback


def callback_stats(session: Session) -> dict[str, Any]:
    """Counts for supervisors: callbacks by state and outcome, escalated, deadlines missed."""
    by_status = dict(
        session.execute(select(Callback.status, func.count()).group_by(Callback.status)).all()
    )
    by_outcome = {
        outcome: count
        for outcome, count in session.execute(
            select(Callback.outcome, func.count())
            .where(Callback.outcome.is_not(None))
            .group_by(Callback.outcome)
        )
        if outcome is not None
    }
    escalated = (
        session.scalar(
            select(func.count())
            .select_from(Callback)
            .where(Callback.escalated_at.is_not(None), Callback.status != CallbackStatus.DONE)
        )
        or 0
    )
    missed = (
        session.scalar(
            select(func.count())
            .select_from(Callback)
            .where(Callback.deadline_missed_at.is_not(None))
        )
        or 0
    )
    return {
        "by_status": {status.value: by_status.get(status, 0) for status in CallbackStatus},
        "by_outcome": {outcome.value: count for outcome, count in by_outcome.items()},
        "open_escalated": escalated,
        "deadline_missed": missed,
    }


def get_callback(session: Session, callback_id: uuid.UUID) -> Callback:
    """A callback, with the reference of its latest call (what the app shows while we call)."""
    latest = (
        select(Call.reference)
        .where(Call.callback_id == Callback.id)
        .order_by(Call.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    callback = session.scalar(
        select(Callback)
        .where(Callback.id == callback_id)
        .options(with_expression(Callback.reference, latest))
        .execution_options(populate_existing=True)
    )
    if callback is None:
        raise NotFound(_l("no callback has this id"), field="id")
    return callback

"""A callback's life: every change of its status, with its audit entry, happens here.

    queued --claim--> claimed --call placed / outcome unknown--> in_call --call ended--> done
       ^                 |                                          |
       +----put off------+-------------- retry --------------------+
    queued --taken over by the hotline (a verified caller)--> in_call
    queued / in_call --an agent's follow-up--> queued, for the time agreed with the customer
    queued / in_call --talked with an agent--> queued, waiting for the agent's wrap-up
    any open --finish (an outcome) / cancel (its campaign)--> done

At most one callback per number is claimed or in a call (uq_callbacks_live_number): a person is
rung about one matter at a time; their other matters wait in the queue.

Everything else asks this module (tests/callbacks/test_lifecycle.py checks that no other module
sets a callback's status). Scheduling changes that only move a claim along (claim, attempt
started, call placed, put off) are recorded on the callback and its attempt rows; the changes a
supervisor or an auditor asks about (finished, retried, reconciled, taken over) get an audit entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, CursorResult, Exists, Update, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.audit.service import Actor, diff, record
from app.callbacks.matters import CARRIED_WORKER
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    DialHold,
    Event,
    EventType,
    HoldStatus,
    WithdrawalHold,
)
from app.callbacks.rules import (
    LIVE_CALL_LIMIT,
    NEXT_RETRY,
    PAUSED_UNTIL,
    Finish,
    PutOff,
    gives_up,
)
from app.calls.models import Call, CallStatus
from app.customers.models import Customer
from app.errors import Conflict
from app.fraud.service import open_case
from app.messaging.outbox import notify_core
from app.outcomes import CALLBACK_OUTCOMES, Outcome

OPEN = (CallbackStatus.QUEUED, CallbackStatus.CLAIMED, CallbackStatus.IN_CALL)
#: A callback on its way to a person or with them: at most one per number.
LIVE = (CallbackStatus.CLAIMED, CallbackStatus.IN_CALL)
#: A call that has not ended (a call without a carrier id reached nobody, unless its callback
#: is still live: that one is covered by LIVE).
LIVE_CALL = tuple(status for status in CallStatus if not status.is_final)

# ----- claiming and dialing -----


def claim_statement(*, worker: str, now: datetime, lease: timedelta, limit: int) -> Update:
    """Lease up to `limit` due callbacks, most urgent deadline first; answers their ids.

    One person, one call: it takes at most one callback per number, and none for a number that
    already has a live callback (claimed or in a call) or a live call with us, either way. On
    PostgreSQL the inner SELECT takes FOR UPDATE SKIP LOCKED, so workers never wait on or take
    each other's rows; SQLite ignores it (a single worker dispatches there). Two claims in flight
    at once that each pick a different callback of one number are stopped by the database
    (uq_callbacks_live_number): the later one fails whole and claims nothing.
    """
    live = aliased(Callback)
    due = (
        select(Callback.id, Callback.to_number, Callback.due_by)
        .where(
            Callback.status == CallbackStatus.QUEUED,
            Callback.next_attempt_at <= now,
            ~exists().where(live.to_number == Callback.to_number, live.status.in_(LIVE)),
            ~_live_call(Call.to_number == Callback.to_number, now),
            ~_live_call(Call.from_number == Callback.to_number, now),
        )
        .order_by(Callback.due_by)
        # Room for a person's other matters, which wait: one callback per number is taken.
        .limit(limit * 3)
        .with_for_update(skip_locked=True)
        .subquery()
    )
    ranked = select(
        due.c.id,
        due.c.due_by,
        func.row_number()
        .over(partition_by=due.c.to_number, order_by=(due.c.due_by, due.c.id))
        .label("rank"),
    ).subquery()
    chosen = select(ranked.c.id).where(ranked.c.rank == 1).order_by(ranked.c.due_by).limit(limit)
    return (
        update(Callback)
        .where(Callback.id.in_(chosen.scalar_subquery()))
        .values(status=CallbackStatus.CLAIMED, lease_owner=worker, lease_expires_at=now + lease)
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )


def _live_call(on_number: ColumnElement[bool], now: datetime) -> Exists:
    """SQL: a call on the number is live (the carrier has it and it has not reported its end)."""
    return exists().where(
        on_number,
        Call.status.in_(LIVE_CALL),
        Call.sid.is_not(None),
        Call.created_at > now - LIVE_CALL_LIMIT,
    )


def renew_lease_statement(
    ids: list[uuid.UUID], *, worker: str, now: datetime, lease: timedelta
) -> Update:
    """A batch still being dialed keeps its claim: the lease of its not-yet-dialed callbacks
    runs again from now (only those this worker still holds)."""
    return (
        update(Callback)
        .where(
            Callback.id.in_(ids),
            Callback.status == CallbackStatus.CLAIMED,
            Callback.lease_owner == worker,
        )
        .values(lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )


def start_attempt(
    callback: Callback, *, number: int, worker: str, now: datetime, call_id: uuid.UUID
) -> CallbackAttempt:
    """A claimed callback is about to be dialed: its attempt, as dialing (the caller adds it)."""
    callback.attempts += 1
    return CallbackAttempt(
        callback_id=callback.id,
        customer_id=callback.customer_id,
        number=number,
        status=AttemptStatus.DIALING,
        worker=worker,
        started_at=now,
        call_id=call_id,
    )


def call_placed(callback: Callback, attempt: CallbackAttempt) -> None:
    """The carrier took the call (a quick carrier may already have ended it meanwhile)."""
    if attempt.status is AttemptStatus.DIALING:
        attempt.status = AttemptStatus.PLACED
    if callback.status is CallbackStatus.CLAIMED:
        callback.status = CallbackStatus.IN_CALL
        callback.lease_owner = callback.lease_expires_at = None
        callback.waiting_for = None


def outcome_unknown(callback: Callback, attempt: CallbackAttempt, error: Exception) -> None:
    """The carrier's answer was lost: the call may exist, so the reaper reconciles it.

    An attempt whose call already reported its end keeps it (and its after-call decision).
    """
    callback.last_error = str(error)[:200]
    if attempt.status is AttemptStatus.ENDED:
        return
    attempt.status, attempt.error = AttemptStatus.UNKNOWN, str(error)[:500]
    if callback.status is CallbackStatus.CLAIMED:
        callback.status = CallbackStatus.IN_CALL
        # The dialer lets go of it: from here the reaper reconciles it with the carrier.
        callback.lease_owner = callback.lease_expires_at = None


def call_refused(
    callback: Callback, attempt: CallbackAttempt, error: Exception, now: datetime
) -> None:
    """The carrier refused: nothing was placed, so the attempt does not count."""
    callback.last_error = str(error)[:200]
    if attempt.status is AttemptStatus.ENDED:
        return
    attempt.status, attempt.error, attempt.ended_at = AttemptStatus.FAILED, str(error)[:500], now
    callback.attempts -= 1


def decide(
    session: Session, callback: Callback, decision: PutOff | Finish, *, now: datetime, actor: Actor
) -> None:
    """Carry out a rule's decision to put a callback off or to end it."""
    if isinstance(decision, Finish):
        finish(
            session,
            callback,
            decision.outcome,
            now,
            actor=actor,
            why=decision.reason,
            notify=decision.notify,
        )
    else:
        put_off(
            session,
            callback,
            decision.until,
            decision.reason,
            now=now,
            actor=actor,
            may_give_up=decision.may_give_up,
        )


def put_off(
    session: Session,
    callback: Callback,
    until: datetime,
    why: str,
    *,
    now: datetime,
    actor: Actor,
    may_give_up: bool = True,
) -> None:
    """Queue it again for later, saying why; a retry past its deadline gives up instead."""
    if may_give_up and gives_up(callback.attempts, callback.due_by, until):
        finish(
            session,
            callback,
            Outcome.UNREACHABLE,
            now,
            actor=actor,
            why=f"the deadline passed while waiting for {why}",
            notify=True,
        )
        return
    callback.status, callback.next_attempt_at, callback.waiting_for = (
        CallbackStatus.QUEUED,
        until,
        why,
    )
    callback.lease_owner = callback.lease_expires_at = None


# ----- after a call -----


def attempt_ended(attempt: CallbackAttempt, *, result: str, now: datetime) -> None:
    attempt.status, attempt.ended_at = AttemptStatus.ENDED, now
    attempt.result = result


def retry(
    session: Session,
    callback: Callback,
    until: datetime,
    *,
    actor: Actor,
    after: str | None,
    machine_retry: bool = False,
) -> None:
    """A call that decided nothing: queue the next try."""
    if machine_retry:
        callback.machine_retries += 1
    callback.status, callback.next_attempt_at = CallbackStatus.QUEUED, until
    callback.waiting_for = NEXT_RETRY
    record(
        session,
        actor=actor,
        action="callback.retry",
        subject_type="callback",
        subject_id=callback.id,
        changes={"next_attempt_at": until, "after": after},
    )


# ----- the reaper -----


def adopt_found_call(
    session: Session,
    callback: Callback,
    attempt: CallbackAttempt,
    *,
    call_id: uuid.UUID | None,
    sid: str,
    actor: Actor,
) -> None:
    """The carrier has the attempt's call after all: the callback is in that call."""
    attempt.status = AttemptStatus.PLACED
    if call_id is not None:
        attempt.call_id = call_id
    callback.status = CallbackStatus.IN_CALL
    callback.attempts = max(callback.attempts, attempt.number)
    callback.lease_owner = callback.lease_expires_at = None
    record(
        session,
        actor=actor,
        action="callback.reconciled",
        subject_type="callback",
        subject_id=callback.id,
        changes={"attempt": attempt.number, "found": sid},
    )


def attempt_never_placed(
    session: Session, callback: Callback, attempt: CallbackAttempt, *, now: datetime, actor: Actor
) -> None:
    """No call reached the carrier: the attempt failed, does not count, and the callback is
    dialed again (as when the carrier refuses a call)."""
    attempt.status, attempt.ended_at = AttemptStatus.FAILED, now
    attempt.error = "no call reached the carrier"
    callback.attempts = max(0, callback.attempts - 1)
    put_off(
        session, callback, now, "its last attempt never reached the carrier", now=now, actor=actor
    )
    record(
        session,
        actor=actor,
        action="callback.reconciled",
        subject_type="callback",
        subject_id=callback.id,
        changes={"attempt": attempt.number, "found": None},
    )


# ----- the "is this call really from us?" line -----


def take_over_inbound(session: Session, callback: Callback, *, call_id: uuid.UUID) -> bool:
    """A verified customer on our line takes their queued callback into that call.

    One conditional UPDATE, so neither our dialer nor another call on the line can take it at
    the same time; answers whether it was taken. Another callback of the number already live (a
    worker dialing them about another matter) leaves it queued: one live callback per number.
    """
    return _take_into_call(
        session,
        callback,
        call_id=call_id,
        worker="inbound-line",
        action="callback.continued_inbound",
    )


def matter_decided(
    session: Session,
    callback: Callback,
    outcome: Outcome,
    now: datetime,
    *,
    call_id: uuid.UUID,
    actor: Actor,
) -> None:
    """One matter of a call that carries several is decided: its attempt ends and it is done,
    while the call goes on with the next matter."""
    attempt = session.scalar(
        select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback.id, CallbackAttempt.call_id == call_id
        )
    )
    if attempt is not None:
        attempt_ended(attempt, result="completed", now=now)
    finish(
        session,
        callback,
        outcome,
        now,
        actor=actor,
        why=f"the call decided {outcome} and went on with the next matter",
        call_id=call_id,
    )


def carry_on_in_call(session: Session, callback: Callback, *, call_id: uuid.UUID) -> bool:
    """A queued matter the call carries is taken into it (the customer is verified already);
    answers whether it was taken (it may have ended, or be live elsewhere, meanwhile)."""
    return _take_into_call(
        session,
        callback,
        call_id=call_id,
        worker=CARRIED_WORKER,
        action="callback.carried_in_call",
    )


def _take_into_call(
    session: Session, callback: Callback, *, call_id: uuid.UUID, worker: str, action: str
) -> bool:
    """A queued callback joins a call under way: in_call, with an attempt on that call."""
    try:
        with session.begin_nested():
            claimed = _rows(
                session,
                update(Callback)
                .where(Callback.id == callback.id, Callback.status == CallbackStatus.QUEUED)
                .values(
                    status=CallbackStatus.IN_CALL,
                    attempts=Callback.attempts + 1,
                    waiting_for=None,
                    lease_owner=None,
                    lease_expires_at=None,
                )
                .execution_options(synchronize_session=False),
            )
    except IntegrityError:  # uq_callbacks_live_number
        return False
    if claimed != 1:  # a worker is dialing it right now, or it just ended
        return False
    session.refresh(callback)
    session.add(
        CallbackAttempt(
            callback_id=callback.id,
            customer_id=callback.customer_id,
            number=callback.attempts,
            status=AttemptStatus.PLACED,
            call_id=call_id,
            worker=worker,
        )
    )
    record(
        session,
        actor=Actor(f"call:{call_id}"),
        action=action,
        subject_type="callback",
        subject_id=callback.id,
        changes={"call_id": call_id, "attempt": callback.attempts},
    )
    return True


# ----- an agent's follow-up -----

#: Why a callback waits for the time an agent agreed with the customer; the end of the call it
#: was agreed in leaves it so (app/callbacks/after_call.py).
FOLLOW_UP = "an agent's follow-up"
#: A follow-up's deadline, past its time (the retries of its call fit in it).
FOLLOW_UP_DEADLINE = timedelta(hours=2)


def follow_up(
    session: Session, callback: Callback, at: datetime, *, now: datetime, actor: Actor, why: str
) -> None:
    """An agent agreed a time with the customer: the callback is queued for then, its deadline
    moved past it, and it is dialed as any callback at that time."""
    if callback.status is CallbackStatus.DONE:
        raise ValueError("a callback that is done has no follow-up")
    callback.status, callback.next_attempt_at = CallbackStatus.QUEUED, at
    callback.waiting_for = FOLLOW_UP
    callback.lease_owner = callback.lease_expires_at = None
    callback.due_by = max(callback.due_by, at + FOLLOW_UP_DEADLINE)
    record(
        session,
        actor=actor,
        action="callback.follow_up",
        subject_type="callback",
        subject_id=callback.id,
        changes={"next_attempt_at": at, "due_by": callback.due_by, "why": why, "at": now},
    )


# ----- a supervisor's hand on one callback -----

#: Why a callback waits when a supervisor gave it a new time.
RESCHEDULED = "a supervisor's new time"
#: Why it waits when the integrator asked for a time (an event's call_at, or PATCH): the
#: customer chose it in the bank's app, as a rule.
ASKED_TIME = "the time asked for"


def reschedule(
    session: Session,
    callback: Callback,
    at: datetime,
    *,
    now: datetime,
    actor: Actor,
    why: str = RESCHEDULED,
) -> None:
    """A supervisor (or the integrator) gives a waiting callback a new time: it is dialed then
    (its calling hours still apply), its deadline moved past that time if it was earlier.
    Conflict when it is being dialed, in a call or done."""
    if callback.status is not CallbackStatus.QUEUED:
        raise Conflict(
            _l("only a callback waiting to be called can get a new time"), code="not_waiting"
        )
    before = {"next_attempt_at": callback.next_attempt_at, "due_by": callback.due_by}
    callback.next_attempt_at, callback.waiting_for = at, why
    if at + FOLLOW_UP_DEADLINE > callback.due_by:
        # A later deadline: the alerts about the old one no longer hold.
        callback.due_by = at + FOLLOW_UP_DEADLINE
        callback.escalated_at = callback.deadline_missed_at = None
    changes = diff(before, {"next_attempt_at": at, "due_by": callback.due_by})
    if not changes:
        return  # the same time again (a request sent twice): nothing changed, nothing to record
    record(
        session,
        actor=actor,
        action="callback.rescheduled",
        subject_type="callback",
        subject_id=callback.id,
        changes=changes,
    )


def cancel(
    session: Session,
    callback: Callback,
    *,
    now: datetime,
    actor: Actor,
    why: str = "cancelled by a supervisor",
) -> None:
    """A supervisor (or the integrator) cancels a callback waiting to be called: it ends,
    cancelled (the core system is told, as for any end). Conflict when it is being dialed, in a
    call or done."""
    if callback.status is not CallbackStatus.QUEUED:
        raise Conflict(
            _l("only a callback waiting to be called can be cancelled"), code="not_waiting"
        )
    finish(session, callback, Outcome.CANCELLED, now, actor=actor, why=why)


def follow_new_number(
    session: Session, customer_id: uuid.UUID, *, old: str, new: str, actor: Actor
) -> int:
    """The customer's number changed: their callbacks waiting to be dialed on the old number
    will ring the new one (one being dialed or in a call goes on; one that calls a number on
    purpose, e.g. the previous number after an account change, keeps it). Answers how many."""
    moved = list(
        session.scalars(
            select(Callback).where(
                Callback.customer_id == customer_id,
                Callback.status == CallbackStatus.QUEUED,
                Callback.to_number == old,
            )
        )
    )
    for callback in moved:
        callback.to_number = new
        record(
            session,
            actor=actor,
            action="callback.number_changed",
            subject_type="callback",
            subject_id=callback.id,
            changes={"to_number": [old, new]},
        )
    return len(moved)


# ----- a customer who talked with an agent about their matter -----

#: Why a callback waits while the agent who talked with the customer about it writes their
#: wrap-up (the disposition decides it); the end of that call tries nothing.
WITH_AGENT = "an agent's wrap-up"
#: How long it waits for that wrap-up at most; then it is dialed as any callback.
WITH_AGENT_LONGEST = timedelta(hours=2)


def with_agent(session: Session, callback: Callback, *, now: datetime, actor: Actor) -> None:
    """An agent has talked with the customer about this callback: it waits for their wrap-up
    (at most WITH_AGENT_LONGEST, its deadline moved past that), not for a retry."""
    if callback.status is CallbackStatus.DONE:
        return
    until = now + WITH_AGENT_LONGEST
    callback.status, callback.next_attempt_at = CallbackStatus.QUEUED, until
    callback.waiting_for = WITH_AGENT
    callback.lease_owner = callback.lease_expires_at = None
    callback.due_by = max(callback.due_by, until + FOLLOW_UP_DEADLINE)
    record(
        session,
        actor=actor,
        action="callback.with_agent",
        subject_type="callback",
        subject_id=callback.id,
        changes={"next_attempt_at": until, "due_by": callback.due_by, "at": now},
    )


# ----- a campaign's callbacks, together -----


def _rows(session: Session, statement: Update) -> int:
    """Run an UPDATE; answers how many rows it changed."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _open_of_campaign(campaign_id: uuid.UUID, *statuses: CallbackStatus) -> Update:
    return update(Callback).where(
        Callback.campaign_id == campaign_id, Callback.status.in_(statuses or OPEN)
    )


def hold_campaign(session: Session, campaign_id: uuid.UUID, *, why: str) -> int:
    """Hold a campaign's open callbacks; answers how many queued ones now wait for its release."""
    session.execute(_open_of_campaign(campaign_id).values(dial_hold=DialHold.PAUSED))
    return _rows(
        session,
        _open_of_campaign(campaign_id, CallbackStatus.QUEUED).values(
            next_attempt_at=PAUSED_UNTIL, waiting_for=why
        ),
    )


def release_campaign(session: Session, campaign_id: uuid.UUID, *, now: datetime) -> int:
    """Release a held campaign's callbacks; answers how many queued ones are due again now."""
    session.execute(_open_of_campaign(campaign_id).values(dial_hold=None))
    return _rows(
        session,
        _open_of_campaign(campaign_id, CallbackStatus.QUEUED).values(
            next_attempt_at=now, waiting_for=None
        ),
    )


def cancel_campaign(
    session: Session, campaign_id: uuid.UUID, *, actor: Actor, now: datetime, why: str
) -> int:
    """The kill switch: queued callbacks end cancelled at once, each with its audit entry; one
    being dialed or in a call ends cancelled the next time it would be dialed. Answers how many
    ended now."""
    session.execute(_open_of_campaign(campaign_id).values(dial_hold=DialHold.CANCELLED))
    stopped = list(
        session.scalars(
            _open_of_campaign(campaign_id, CallbackStatus.QUEUED)
            .values(
                status=CallbackStatus.DONE,
                outcome=Outcome.CANCELLED,
                closed_at=now,
                waiting_for=None,
                updated_at=now,
            )
            .returning(Callback.id)
            .execution_options(synchronize_session=False)
        )
    )
    for callback_id in stopped:
        # As a cancelled callback's own finish says it (a campaign's tells the core nothing).
        record(
            session,
            actor=actor,
            action="callback.done",
            subject_type="callback",
            subject_id=callback_id,
            changes={"outcome": Outcome.CANCELLED.value, "why": why},
        )
    return len(stopped)


# ----- the end -----


def finish(
    session: Session,
    callback: Callback,
    outcome: Outcome,
    now: datetime,
    *,
    actor: Actor,
    why: str,
    notify: bool = False,
    call_id: uuid.UUID | None = None,
) -> None:
    """End a callback: its audit entry, a fraud case when denied, and the core system is told."""
    if outcome not in CALLBACK_OUTCOMES:
        raise ValueError(f"a callback cannot end {outcome}")
    callback.status, callback.outcome, callback.closed_at = CallbackStatus.DONE, outcome, now
    callback.lease_owner = callback.lease_expires_at = None
    callback.waiting_for = None
    callback.notice_due = notify
    record(
        session,
        actor=actor,
        action="callback.done",
        subject_type="callback",
        subject_id=callback.id,
        changes={"outcome": outcome.value, "why": why},
    )
    case = None
    if outcome is Outcome.DENIED:
        case = open_case(
            session,
            callback_id=callback.id,
            customer_id=callback.customer_id,
            trigger=callback.trigger.value,
            to_number=callback.to_number,
            call_id=call_id,
            now=now,
            actor=actor,
        )
    if callback.trigger in (EventType.CAMPAIGN, EventType.AGENT):
        # A campaign's calls, and our call for an agent (whose talk decides the matter, at the
        # wrap-up), decide nothing the core system must act on.
        return
    customer = session.get_one(Customer, callback.customer_id)
    event_ids = list(
        session.scalars(
            select(Event.event_id).where(Event.callback_id == callback.id).order_by(Event.id)
        )
    )
    notify_core(
        session,
        type=f"callback.{outcome.value}",
        now=now,
        payload={
            "callback_id": str(callback.id),
            "customer_external_id": customer.external_id,
            "trigger": callback.trigger.value,
            "event_ids": event_ids,
            "outcome": outcome.value,
            # What the core system should do now: freeze the card, block the change, ...
            "action": case.action if case is not None else None,
            "fraud_case": case.reference if case is not None else None,
        },
    )
    if callback.trigger is EventType.WITHDRAWAL_REQUEST:
        _decide_withdrawals(
            session,
            callback,
            outcome,
            now,
            actor=actor,
            why=why,
            fraud_case=case.reference if case is not None else None,
        )


def _decide_withdrawals(
    session: Session,
    callback: Callback,
    outcome: Outcome,
    now: datetime,
    *,
    actor: Actor,
    why: str,
    fraud_case: str | None = None,
) -> None:
    """Held withdrawals follow their call: authorized when confirmed, rejected otherwise."""
    holds = session.scalars(
        select(WithdrawalHold).where(
            WithdrawalHold.callback_id == callback.id, WithdrawalHold.status == HoldStatus.VERIFYING
        )
    )
    customer = session.get_one(Customer, callback.customer_id)
    for hold in holds:
        authorized = outcome is Outcome.CONFIRMED
        hold.status = HoldStatus.AUTHORIZED if authorized else HoldStatus.REJECTED
        hold.decided_at, hold.reason = now, f"call {outcome.value}: {why}"[:200]
        record(
            session,
            actor=actor,
            action=f"withdrawal.{hold.status.value}",
            subject_type="withdrawal",
            subject_id=hold.event_id,
            changes={"callback_id": str(callback.id), "outcome": outcome.value},
        )
        notify_core(
            session,
            type=f"withdrawal.{hold.status.value}",
            now=now,
            payload={
                "event_id": hold.event_id,
                "customer_external_id": customer.external_id,
                "amount": hold.amount,
                "currency": hold.currency,
                "callback_id": str(callback.id),
                "outcome": outcome.value,
                "fraud_case": fraud_case,
            },
        )

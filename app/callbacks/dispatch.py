"""The dispatcher: claim due callbacks atomically, check them at dial time, place each once.

The database is the schedule. A claim takes due callbacks under a short lock on the shared
pacing row (so the calls-per-second and concurrent-call limits hold across workers) with
FOR UPDATE SKIP LOCKED on PostgreSQL, and commits before any call is placed. Each attempt is
committed as `dialing` before the carrier is asked; an attempt whose answer was lost is
reconciled with the carrier by the reaper, never re-dialed blindly.
"""

from __future__ import annotations

import logging
import time as clock
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    DialPacing,
    DoNotCall,
    Outcome,
    Priority,
)
from app.callbacks.policy import Policy
from app.callbacks.window import callee_zones, next_day_opening, next_opening
from app.customers.models import Customer
from app.flows.definition import Flow
from app.telephony.calls import CallUrls, start_outbound_call
from app.telephony.carrier import (
    CarrierRefused,
    InvalidNumber,
    OutcomeUnknown,
    RetryLater,
    Telephony,
)
from app.telephony.models import Call

log = logging.getLogger(__name__)

PACING = "outbound"
RATE_LIMIT_BACKOFF = timedelta(seconds=30)
REFUSED_RETRY = timedelta(minutes=15)
ESCALATE_BEFORE = timedelta(minutes=15)


@dataclass
class Dispatcher:
    """One worker's view of the dispatching job."""

    session: Session
    policy: Policy
    telephony: Telephony
    urls: CallUrls
    flows: dict[str, Flow]
    worker: str
    now: Callable[[], datetime]
    sleep: Callable[[float], None] = clock.sleep
    batch: int = 50
    placed: list[str] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return Actor(f"worker:{self.worker}")

    # ----- claiming -----

    def claim(self) -> list[tuple[str, datetime]]:
        """Lease due callbacks to this worker; each comes with the moment it may be dialed."""
        now = self.now()
        session = self.session
        pacing = self._lock_pacing(now)
        in_flight = (
            session.scalar(
                select(func.count())
                .select_from(Callback)
                .where(Callback.status.in_([CallbackStatus.CLAIMED, CallbackStatus.IN_CALL]))
            )
            or 0
        )
        start = max(pacing.next_slot_at, now)
        interval = 1.0 / self.policy.calls_per_second
        # Slots that start within the next second; later ones are the next tick's.
        paced = int((now + timedelta(seconds=1) - start).total_seconds() // interval) + 1
        budget = max(0, min(self.batch, self.policy.max_concurrent_calls - in_flight, paced))
        if budget == 0:
            session.commit()
            return []
        claimed = list(
            session.scalars(
                claim_statement(worker=self.worker, now=now, lease=self.policy.lease, limit=budget)
            )
        )
        slots = [start + timedelta(seconds=i * interval) for i in range(len(claimed))]
        if claimed:
            pacing.next_slot_at = start + timedelta(seconds=len(claimed) * interval)
        session.commit()  # the claim is durable before any call is placed
        return [(str(callback_id), slot) for callback_id, slot in zip(claimed, slots, strict=True)]

    def _lock_pacing(self, now: datetime) -> DialPacing:
        """Take the shared pacing row for this transaction (a write, so SQLite locks too)."""
        session = self.session
        lock = text("UPDATE dial_pacing SET name = name WHERE name = :name")
        if not session.execute(lock, {"name": PACING}).rowcount:
            try:  # the migration seeds the row; this only covers a database emptied by hand
                with session.begin_nested():
                    session.add(DialPacing(name=PACING, next_slot_at=now))
            except IntegrityError:
                pass  # another worker created it first
            session.execute(lock, {"name": PACING})
        return session.get_one(DialPacing, PACING, populate_existing=True)

    # ----- dialing -----

    def dispatch(self) -> int:
        """One tick: claim what is due and dial it; answers how many calls were placed."""
        placed = 0
        for callback_id, slot in self.claim():
            wait = (slot - self.now()).total_seconds()
            if wait > 0:
                self.sleep(wait)
            if self.dial(callback_id):
                placed += 1
        return placed

    def dial(self, callback_id: str) -> bool:
        """Check a claimed callback at dial time and place its call; answers whether one was."""
        session = self.session
        now = self.now()
        callback = session.get(Callback, uuid.UUID(callback_id), populate_existing=True)
        if (
            callback is None
            or callback.status is not CallbackStatus.CLAIMED
            or (callback.lease_owner != self.worker)
        ):
            session.commit()
            return False  # the lease ran out and another worker has it
        customer = session.get_one(Customer, callback.customer_id)
        if not self._may_call(callback, customer, now):
            session.commit()
            return False
        attempt = CallbackAttempt(
            callback_id=callback.id,
            customer_id=customer.id,
            number=self._next_number(callback),
            status=AttemptStatus.DIALING,
            worker=self.worker,
            started_at=now,
        )
        session.add(attempt)
        callback.attempts += 1
        session.commit()  # committed as dialing before the carrier is asked
        attempt_id = attempt.id
        try:
            call = start_outbound_call(
                session,
                telephony=self.telephony,
                urls=self.urls,
                customer=customer,
                flow=self.flows[callback.flow],
                variables=callback.variables,
                actor=self.actor,
                to_number=callback.to_number,
                callback_id=callback.id,
            )
        except RetryLater as exc:
            self._carrier_said_no(
                attempt_id, callback_id, exc, retry_in=RATE_LIMIT_BACKOFF, slow_down=True
            )
            return False
        except InvalidNumber as exc:
            self._carrier_said_no(attempt_id, callback_id, exc, give_up=True)
            return False
        except CarrierRefused as exc:
            self._carrier_said_no(attempt_id, callback_id, exc, retry_in=REFUSED_RETRY)
            return False
        except OutcomeUnknown as exc:
            attempt = session.get_one(CallbackAttempt, attempt_id)
            attempt.status, attempt.error = AttemptStatus.UNKNOWN, str(exc)[:500]
            callback = session.get_one(Callback, uuid.UUID(callback_id))
            callback.status, callback.last_error = CallbackStatus.IN_CALL, str(exc)[:200]
            session.commit()
            log.warning(
                "call outcome unknown: the reaper will reconcile",
                extra={"callback_id": callback_id},
            )
            return False
        attempt = session.get_one(CallbackAttempt, attempt_id)
        callback = session.get_one(Callback, uuid.UUID(callback_id))
        if attempt.status is AttemptStatus.DIALING:  # (a quick carrier may have ended it already)
            attempt.status, attempt.call_id = AttemptStatus.PLACED, call.id
        else:
            attempt.call_id = call.id
        if callback.status is CallbackStatus.CLAIMED:
            callback.status = CallbackStatus.IN_CALL
            callback.lease_owner, callback.lease_expires_at, callback.waiting_for = None, None, None
        session.commit()
        self.placed.append(callback_id)
        return True

    def _may_call(self, callback: Callback, customer: Customer, now: datetime) -> bool:
        """The dial-time checks; a callback that may not be called now is put off or ended."""
        session = self.session
        if session.get(DoNotCall, callback.to_number) is not None:
            finish(
                session,
                callback,
                Outcome.CANCELLED,
                now,
                actor=self.actor,
                why="the number is on the do-not-call list",
            )
            return False
        zones = callee_zones(customer, callback.to_number)
        policy = self.policy
        opening = next_opening(now, zones, policy.window_start, policy.window_end)
        if opening is None:
            finish(
                session,
                callback,
                Outcome.UNREACHABLE,
                now,
                actor=self.actor,
                why="no calling hours: the callee's time zone is unknown or has no window",
            )
            return False
        if opening > now:
            self._put_off(callback, opening, "calling hours (08:00-21:00 local)")
            return False
        allowed_at = self._cap_lifts_at(customer, now)
        if allowed_at is not None:
            self._put_off(callback, allowed_at, "frequency cap")
            return False
        return True

    def _cap_lifts_at(self, customer: Customer, now: datetime) -> datetime | None:
        """When the customer may be called again, if a frequency cap forbids it now."""
        counted = [
            AttemptStatus.DIALING,
            AttemptStatus.PLACED,
            AttemptStatus.UNKNOWN,
            AttemptStatus.ENDED,
        ]
        starts = list(
            self.session.scalars(
                select(CallbackAttempt.started_at)
                .where(
                    CallbackAttempt.customer_id == customer.id,
                    CallbackAttempt.status.in_(counted),
                    CallbackAttempt.started_at > now - timedelta(days=7),
                )
                .order_by(CallbackAttempt.started_at.desc())
            )
        )
        day = [s for s in starts if s > now - timedelta(days=1)]
        lifts = []
        if len(day) >= self.policy.cap_per_day:
            lifts.append(day[self.policy.cap_per_day - 1] + timedelta(days=1))
        if len(starts) >= self.policy.cap_per_7_days:
            lifts.append(starts[self.policy.cap_per_7_days - 1] + timedelta(days=7))
        return max(lifts) if lifts else None

    def _put_off(self, callback: Callback, until: datetime, why: str) -> None:
        if callback.attempts > 0 and until > callback.due_by:
            # Retries stay within the deadline; a first call is still made, late.
            finish(
                self.session,
                callback,
                Outcome.UNREACHABLE,
                self.now(),
                actor=self.actor,
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

    def _next_number(self, callback: Callback) -> int:
        highest = self.session.scalar(
            select(func.max(CallbackAttempt.number)).where(
                CallbackAttempt.callback_id == callback.id
            )
        )
        return (highest or 0) + 1

    def _carrier_said_no(
        self,
        attempt_id: int,
        callback_id: str,
        exc: Exception,
        *,
        retry_in: timedelta | None = None,
        give_up: bool = False,
        slow_down: bool = False,
    ) -> None:
        session, now = self.session, self.now()
        attempt = session.get_one(CallbackAttempt, attempt_id)
        attempt.status, attempt.error, attempt.ended_at = AttemptStatus.FAILED, str(exc)[:500], now
        callback = session.get_one(Callback, uuid.UUID(callback_id))
        callback.last_error = str(exc)[:200]
        callback.attempts -= 1  # nothing was placed: the attempt does not count
        if give_up:
            finish(
                session,
                callback,
                Outcome.UNREACHABLE,
                now,
                actor=self.actor,
                why="the carrier says the number cannot be called",
            )
        else:
            self._put_off(callback, now + (retry_in or REFUSED_RETRY), "the carrier asked to wait")
        if slow_down:  # every worker waits: the pacing clock moves forward for all of them
            pacing = self._lock_pacing(now)
            pacing.next_slot_at = max(pacing.next_slot_at, now + RATE_LIMIT_BACKOFF)
        session.commit()

    # ----- the reaper and deadlines -----

    def reap(self) -> int:
        """Return expired leases; reconcile attempts whose carrier answer was lost."""
        session, now = self.session, self.now()
        returned = 0
        expired = list(
            session.scalars(
                select(Callback)
                .where(Callback.status == CallbackStatus.CLAIMED, Callback.lease_expires_at < now)
                .with_for_update(skip_locked=True)
            )
        )
        for callback in expired:
            open_attempt = self._open_attempt(callback)
            if open_attempt is None:
                self._put_off(callback, now, "its worker stopped before dialing")
                returned += 1
            else:
                self._reconcile(callback, open_attempt, now)
        lost = list(
            session.scalars(
                select(CallbackAttempt).where(
                    CallbackAttempt.status.in_([AttemptStatus.DIALING, AttemptStatus.UNKNOWN]),
                    # As old as a lease: its worker is gone; ask the carrier what happened.
                    CallbackAttempt.started_at < now - self.policy.lease,
                )
            )
        )
        for attempt in lost:
            callback = session.get_one(Callback, attempt.callback_id)
            if callback.status is not CallbackStatus.DONE:
                self._reconcile(callback, attempt, now)
        session.commit()
        return returned

    def _open_attempt(self, callback: Callback) -> CallbackAttempt | None:
        return self.session.scalar(
            select(CallbackAttempt).where(
                CallbackAttempt.callback_id == callback.id,
                CallbackAttempt.status.in_([AttemptStatus.DIALING, AttemptStatus.UNKNOWN]),
            )
        )

    def _reconcile(self, callback: Callback, attempt: CallbackAttempt, now: datetime) -> None:
        """Ask the carrier whether the attempt's call exists; adopt it, or mark it never placed."""
        since = attempt.started_at - timedelta(seconds=5)
        try:
            sids = self.telephony.calls_to(callback.to_number, since)
        except Exception as exc:  # the carrier is still unreachable: ask again next time
            log.warning("reconciliation postponed", extra={"error": type(exc).__name__})
            return
        call = self.session.scalar(
            select(Call)
            .where(Call.callback_id == callback.id, Call.created_at >= since)
            .order_by(Call.created_at.desc())
        )
        if sids:
            attempt.status = AttemptStatus.PLACED
            if call is not None:
                attempt.call_id = call.id
                call.sid = call.sid or sids[0]
            callback.status = CallbackStatus.IN_CALL
            callback.attempts = max(callback.attempts, attempt.number)
            callback.lease_owner = callback.lease_expires_at = None
            record(
                self.session,
                actor=self.actor,
                action="callback.reconciled",
                subject_type="callback",
                subject_id=callback.id,
                changes={"attempt": attempt.number, "found": sids[0]},
            )
        else:
            attempt.status, attempt.ended_at = AttemptStatus.FAILED, now
            attempt.error = "no call reached the carrier"
            self._put_off(callback, now, "its last attempt never reached the carrier")
            record(
                self.session,
                actor=self.actor,
                action="callback.reconciled",
                subject_type="callback",
                subject_id=callback.id,
                changes={"attempt": attempt.number, "found": None},
            )

    def escalate(self) -> tuple[int, int]:
        """Raise callbacks about to miss their deadline; count the ones that missed it."""
        session, now = self.session, self.now()
        open_ = Callback.status != CallbackStatus.DONE
        soon = list(
            session.scalars(
                select(Callback).where(
                    open_, Callback.escalated_at.is_(None), Callback.due_by < now + ESCALATE_BEFORE
                )
            )
        )
        for callback in soon:
            callback.escalated_at = now
            callback.priority = Priority.HIGH
            record(
                session,
                actor=self.actor,
                action="callback.escalated",
                subject_type="callback",
                subject_id=callback.id,
                changes={"due_by": callback.due_by},
            )
        missed = list(
            session.scalars(
                select(Callback).where(
                    open_, Callback.deadline_missed_at.is_(None), Callback.due_by < now
                )
            )
        )
        for callback in missed:
            callback.deadline_missed_at = now
            record(
                session,
                actor=self.actor,
                action="callback.deadline_missed",
                subject_type="callback",
                subject_id=callback.id,
                changes={"due_by": callback.due_by},
            )
            log.warning("callback missed its deadline", extra={"callback_id": str(callback.id)})
        session.commit()
        return len(soon), len(missed)


def claim_statement(*, worker: str, now: datetime, lease: timedelta, limit: int):  # type: ignore[no-untyped-def]
    """Lease up to `limit` due callbacks, most urgent deadline first; answers their ids.

    On PostgreSQL the inner SELECT takes FOR UPDATE SKIP LOCKED, so workers never wait on or
    take each other's rows; SQLite ignores it (a single worker dispatches there).
    """
    due = (
        select(Callback.id)
        .where(Callback.status == CallbackStatus.QUEUED, Callback.next_attempt_at <= now)
        .order_by(Callback.due_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        update(Callback)
        .where(Callback.id.in_(due.scalar_subquery()))
        .values(status=CallbackStatus.CLAIMED, lease_owner=worker, lease_expires_at=now + lease)
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )


# ----- when a call ends -----

CALL_OUTCOMES = {
    "confirmed": Outcome.CONFIRMED,
    "denied": Outcome.DENIED,
    "verification_failed": Outcome.VERIFICATION_FAILED,
    "locked": Outcome.LOCKED,
}


def call_ended(call: Call, *, session: Session, policy: Policy, now: datetime) -> None:
    """Move the call's callback on: done with the flow's outcome, or the next retry."""
    if call.callback_id is None:
        return
    callback = session.get(Callback, call.callback_id)
    attempt = session.scalar(select(CallbackAttempt).where(CallbackAttempt.call_id == call.id))
    if attempt is None:  # the call ended before its attempt learnt the call's id
        attempt = session.scalar(
            select(CallbackAttempt)
            .where(
                CallbackAttempt.callback_id == call.callback_id,
                CallbackAttempt.status.in_(
                    [AttemptStatus.DIALING, AttemptStatus.PLACED, AttemptStatus.UNKNOWN]
                ),
            )
            .order_by(CallbackAttempt.number.desc())
            .limit(1)
        )
        if attempt is not None:
            attempt.call_id = call.id
    machine = call.outcome == "voicemail"
    if attempt is not None:
        attempt.status, attempt.ended_at = AttemptStatus.ENDED, now
        attempt.result = "machine" if machine else call.status.value
    if callback is None or callback.status is CallbackStatus.DONE:
        return
    actor = Actor("system:call-ended")
    outcome = CALL_OUTCOMES.get(call.outcome or "")
    if outcome is not None:
        finish(session, callback, outcome, now, actor=actor, why=f"the call ended {outcome}")
        return
    customer = session.get_one(Customer, callback.customer_id)
    zones = callee_zones(customer, callback.to_number)
    retry_at: datetime | None = None
    if machine and callback.machine_retries < policy.retry_machine:
        callback.machine_retries += 1
        retry_at = next_day_opening(now, zones, policy.window_start, policy.window_end)
    elif not machine:
        unanswered = callback.attempts - callback.machine_retries
        if 1 <= unanswered <= len(policy.retry_no_answer):
            retry_at = now + policy.retry_no_answer[unanswered - 1]
    if retry_at is None or callback.attempts >= policy.max_attempts or retry_at > callback.due_by:
        finish(
            session,
            callback,
            Outcome.UNREACHABLE,
            now,
            actor=actor,
            why="no answer within the attempts and the deadline",
            notify=True,
        )
        return
    callback.status, callback.next_attempt_at = CallbackStatus.QUEUED, retry_at
    callback.waiting_for = "the next retry"
    record(
        session,
        actor=actor,
        action="callback.retry",
        subject_type="callback",
        subject_id=callback.id,
        changes={"next_attempt_at": retry_at, "after": attempt.result if attempt else None},
    )


def finish(
    session: Session,
    callback: Callback,
    outcome: Outcome,
    now: datetime,
    *,
    actor: Actor,
    why: str,
    notify: bool = False,
) -> None:
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

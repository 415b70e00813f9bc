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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

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
    Event,
    EventType,
    HoldStatus,
    Outcome,
    Priority,
    WithdrawalHold,
)
from app.callbacks.policy import Policy
from app.callbacks.window import callee_zones, next_day_opening, next_opening
from app.calls.models import Call
from app.calls.service import (
    CallUrls,
    prepare_outbound_call,
    record_carrier_answer,
    record_status,
)
from app.campaigns.models import PAUSED_UNTIL, Campaign
from app.carriers.carrier import (
    InvalidNumber,
    OutboundCall,
    OutcomeUnknown,
    RetryLater,
    Telephony,
    TelephonyError,
)
from app.customers.models import Customer
from app.errors import Conflict
from app.flows.definition import Flow
from app.fraud.service import open_case
from app.messaging.outbox import notify_core
from app.numbers.lines import CallerIds

log = logging.getLogger(__name__)

PACING = "outbound"
RATE_LIMIT_BACKOFF = timedelta(seconds=30)
REFUSED_RETRY = timedelta(minutes=15)
# No verification call lasts this long; one that has not reported its end is asked about.
QUIET_CALL = timedelta(hours=1)
ESCALATE_BEFORE = timedelta(minutes=15)


# Attempts that count towards the frequency caps (a refused one placed nothing).
COUNTED = (AttemptStatus.DIALING, AttemptStatus.PLACED, AttemptStatus.UNKNOWN, AttemptStatus.ENDED)


@dataclass
class Prepared:
    """A callback of the batch, ready to dial: its attempt and call rows are committed."""

    callback_id: uuid.UUID
    attempt: CallbackAttempt
    call_id: uuid.UUID
    request: OutboundCall
    attempt_id: int = 0


def cap_lifts_at(starts: list[datetime], now: datetime, policy: Policy) -> datetime | None:
    """When the customer may be called again, if a frequency cap forbids it now."""
    week = sorted((s for s in starts if s > now - timedelta(days=7)), reverse=True)
    day = [s for s in week if s > now - timedelta(days=1)]
    lifts = []
    if len(day) >= policy.cap_per_day:
        lifts.append(day[policy.cap_per_day - 1] + timedelta(days=1))
    if len(week) >= policy.cap_per_7_days:
        lifts.append(week[policy.cap_per_7_days - 1] + timedelta(days=7))
    return max(lifts) if lifts else None


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
        """One tick: claim what is due, check it, dial it; answers how many calls were placed.

        The whole batch's attempts and call rows are committed before the carrier is asked for
        any of them, and one more commit records what the carrier answered.
        """
        claimed = self.claim()
        if not claimed:
            return 0
        slots = {callback_id: slot for callback_id, slot in claimed}
        answers: list[tuple[Prepared, str | None, TelephonyError | None]] = []
        for item in self._prepare([uuid.UUID(callback_id) for callback_id in slots]):
            wait = (slots[str(item.callback_id)] - self.now()).total_seconds()
            if wait > 0:
                self.sleep(wait)
            try:
                answers.append((item, self.telephony.place_call(item.request), None))
            except TelephonyError as exc:
                answers.append((item, None, exc))
        return self._record(answers)

    def _prepare(self, ids: list[uuid.UUID]) -> list[Prepared]:
        """Dial-time checks for the claimed batch; attempts and call rows for those that pass."""
        session, now = self.session, self.now()
        callbacks = [
            callback
            for callback in session.scalars(
                select(Callback)
                .where(Callback.id.in_(ids))
                .order_by(Callback.due_by)
                .execution_options(populate_existing=True)
            )
            if callback.status is CallbackStatus.CLAIMED and callback.lease_owner == self.worker
        ]
        if not callbacks:
            session.commit()
            return []
        customers = {
            c.id: c
            for c in session.scalars(
                select(Customer).where(Customer.id.in_({cb.customer_id for cb in callbacks}))
            )
        }
        scopes = dict(
            session.execute(
                select(DoNotCall.phone, DoNotCall.scope).where(
                    DoNotCall.phone.in_({cb.to_number for cb in callbacks})
                )
            ).all()
        )
        recent: dict[uuid.UUID, list[datetime]] = defaultdict(list)
        for customer_id, started_at in session.execute(
            select(CallbackAttempt.customer_id, CallbackAttempt.started_at).where(
                CallbackAttempt.customer_id.in_(customers),
                CallbackAttempt.status.in_(COUNTED),
                CallbackAttempt.started_at > now - timedelta(days=7),
            )
        ):
            recent[customer_id].append(started_at)
        numbers = dict(
            session.execute(
                select(CallbackAttempt.callback_id, func.max(CallbackAttempt.number))
                .where(CallbackAttempt.callback_id.in_(ids))
                .group_by(CallbackAttempt.callback_id)
            ).all()
        )
        try:
            callers = CallerIds(session)
        except Conflict as exc:
            for callback in callbacks:
                self._put_off(callback, now + REFUSED_RETRY, "an official outbound number")
            session.commit()
            log.error("nothing can be dialed", extra={"error": exc.message})
            return []
        campaigns = _campaigns_of(session, callbacks)
        prepared = []
        for callback in callbacks:
            customer = customers[callback.customer_id]
            campaign = campaigns.get(callback.campaign_id) if callback.campaign_id else None
            blocked = {
                phone for phone, scope in scopes.items() if scope == "all" or campaign is not None
            }
            if not self._may_call(callback, customer, now, blocked, recent[customer.id], campaign):
                continue
            call, request = prepare_outbound_call(
                session,
                urls=self.urls,
                customer=customer,
                flow=self.flows[callback.flow],
                variables=callback.variables,
                actor=self.actor,
                to_number=callback.to_number,
                callback_id=callback.id,
                caller=callers.for_callee(callback.to_number),
            )
            attempt = CallbackAttempt(
                callback_id=callback.id,
                customer_id=customer.id,
                number=(numbers.get(callback.id) or 0) + 1,
                status=AttemptStatus.DIALING,
                worker=self.worker,
                started_at=now,
                call_id=call.id,
            )
            callback.attempts += 1
            recent[customer.id].append(now)  # a second callback of the customer sees this one
            prepared.append(Prepared(callback.id, attempt, call.id, request))
        session.flush()  # the call rows first: attempts refer to them
        session.add_all(item.attempt for item in prepared)
        session.flush()
        for item in prepared:
            item.attempt_id = item.attempt.id
        session.commit()  # every attempt is durable as dialing before the carrier is asked
        return prepared

    def _record(self, answers: list[tuple[Prepared, str | None, TelephonyError | None]]) -> int:
        """Record the carrier's answers in one transaction; answers how many calls were placed."""
        if not answers:
            return 0
        session, now = self.session, self.now()
        # As they are now: a quick carrier's webhooks may have moved them on meanwhile.
        attempts = _fresh(session, CallbackAttempt, [item.attempt_id for item, _, _ in answers])
        callbacks = _fresh(session, Callback, [item.callback_id for item, _, _ in answers])
        calls = _fresh(session, Call, [item.call_id for item, _, _ in answers])
        placed, slow_down = 0, False
        for item, sid, error in answers:
            attempt, callback = attempts[item.attempt_id], callbacks[item.callback_id]
            record_carrier_answer(
                session, call=calls[item.call_id], sid=sid, error=error, actor=self.actor
            )
            if error is None:
                placed += 1
                self.placed.append(str(callback.id))
                if attempt.status is AttemptStatus.DIALING:  # (a quick carrier may have ended it)
                    attempt.status = AttemptStatus.PLACED
                if callback.status is CallbackStatus.CLAIMED:
                    callback.status = CallbackStatus.IN_CALL
                    callback.lease_owner = callback.lease_expires_at = None
                    callback.waiting_for = None
                continue
            callback.last_error = str(error)[:200]
            if isinstance(error, OutcomeUnknown):
                attempt.status, attempt.error = AttemptStatus.UNKNOWN, str(error)[:500]
                if callback.status is CallbackStatus.CLAIMED:
                    callback.status = CallbackStatus.IN_CALL
                log.warning(
                    "call outcome unknown: the reaper will reconcile",
                    extra={"callback_id": str(callback.id)},
                )
                continue
            attempt.status, attempt.error, attempt.ended_at = (
                AttemptStatus.FAILED,
                str(error)[:500],
                now,
            )
            callback.attempts -= 1  # nothing was placed: the attempt does not count
            if isinstance(error, InvalidNumber):
                finish(
                    session,
                    callback,
                    Outcome.UNREACHABLE,
                    now,
                    actor=self.actor,
                    why="the carrier says the number cannot be called",
                )
            elif isinstance(error, RetryLater):
                self._put_off(callback, now + RATE_LIMIT_BACKOFF, "the carrier asked to wait")
                slow_down = True
            else:
                self._put_off(callback, now + REFUSED_RETRY, "the carrier refused the call")
        if slow_down:  # every worker waits: the pacing clock moves forward for all of them
            pacing = self._lock_pacing(now)
            pacing.next_slot_at = max(pacing.next_slot_at, now + RATE_LIMIT_BACKOFF)
        session.commit()
        return placed

    def _may_call(
        self,
        callback: Callback,
        customer: Customer,
        now: datetime,
        blocked: set[str],
        recent: list[datetime],
        campaign: Campaign | None = None,
    ) -> bool:
        """The dial-time checks; a callback that may not be called now is put off or ended."""
        session = self.session
        if campaign is not None and not self._campaign_allows(callback, campaign, now):
            return False
        if callback.to_number in blocked:
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
        window = (
            campaign_window(campaign, policy)
            if campaign is not None
            else (policy.window_start, policy.window_end)
        )
        opening = next_opening(now, zones, *window)
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
            self._put_off(
                callback, opening, f"calling hours ({window[0]:%H:%M}-{window[1]:%H:%M} local)"
            )
            return False
        allowed_at = cap_lifts_at(recent, now, self.policy)
        if allowed_at is not None:
            self._put_off(callback, allowed_at, "frequency cap")
            return False
        return True

    def _campaign_allows(self, callback: Callback, campaign: Campaign, now: datetime) -> bool:
        """A campaign's own rules: its status (the kill switch), its pacing and concurrency."""
        if campaign.status == "cancelled":
            finish(
                self.session,
                callback,
                Outcome.CANCELLED,
                now,
                actor=self.actor,
                why="campaign cancelled",
            )
            return False
        if campaign.status == "paused":
            callback.status, callback.next_attempt_at = CallbackStatus.QUEUED, PAUSED_UNTIL
            callback.lease_owner = callback.lease_expires_at = None
            callback.waiting_for = "campaign paused"
            return False
        in_flight = self.session.scalar(
            select(func.count())
            .select_from(Callback)
            .where(Callback.campaign_id == campaign.id, Callback.status == CallbackStatus.IN_CALL)
        )
        if (in_flight or 0) >= campaign.max_concurrent:
            self._put_off(callback, now + timedelta(seconds=5), "the campaign's concurrent calls")
            return False
        slot = self._campaign_slot(campaign, now)
        if slot > now:
            self._put_off(callback, slot, "the campaign's pacing")
            return False
        return True

    def _campaign_slot(self, campaign: Campaign, now: datetime) -> datetime:
        """Take the campaign's next dialing slot (calls per second), shared by every worker."""
        name = f"c:{campaign.id.hex[:24]}"
        pacing = self.session.get(DialPacing, name, with_for_update=True)
        if pacing is None:
            try:
                with self.session.begin_nested():
                    pacing = DialPacing(name=name, next_slot_at=now)
                    self.session.add(pacing)
            except IntegrityError:
                pacing = self.session.get_one(DialPacing, name, with_for_update=True)
        if pacing.next_slot_at > now:
            return pacing.next_slot_at
        pacing.next_slot_at = now + timedelta(seconds=1.0 / campaign.calls_per_second)
        return now

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
        self._ask_about_quiet_calls(now)
        session.commit()
        return returned

    def _ask_about_quiet_calls(self, now: datetime) -> None:
        """A call whose end was never reported (a lost status callback): ask the carrier."""
        quiet = (
            self.session.execute(
                select(Call)
                .join(CallbackAttempt, CallbackAttempt.call_id == Call.id)
                .join(Callback, Callback.id == CallbackAttempt.callback_id)
                .where(
                    Callback.status == CallbackStatus.IN_CALL,
                    CallbackAttempt.status == AttemptStatus.PLACED,
                    Call.sid.is_not(None),
                    CallbackAttempt.started_at < now - QUIET_CALL,
                )
                .limit(50)
            )
            .scalars()
            .all()
        )
        for call in quiet:
            try:
                status = self.telephony.call_status(call.sid or "")
            except TelephonyError as exc:
                log.warning("call status not available", extra={"error": type(exc).__name__})
                continue
            if status is not None:
                # Recorded as if the status callback had come: the callback moves on from here.
                record_status(self.session, call=call, status=status)

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
        # The attempt names its call from the start (an older row may not: find it by time).
        call = (
            self.session.get(Call, attempt.call_id)
            if attempt.call_id
            else self.session.scalar(
                select(Call)
                .where(Call.callback_id == callback.id, Call.created_at >= since)
                .order_by(Call.created_at.desc())
            )
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


def _campaigns_of(session: Session, callbacks: list[Callback]) -> dict[uuid.UUID, Campaign]:
    ids = {cb.campaign_id for cb in callbacks if cb.campaign_id}
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}


def campaign_window(campaign: Campaign, policy: Policy) -> tuple[time, time]:
    from app.campaigns.service import window_of

    return window_of(campaign, policy)


def _fresh(session: Session, model: type, ids: list) -> dict:  # type: ignore[type-arg]
    """Rows by id, read again from the database (not from the session's memory)."""
    rows = session.scalars(
        select(model).where(model.id.in_(ids)).execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


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
    "opted_out": Outcome.CANCELLED,  # asked not to be called like this: on the do-not-call list
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
        finish(
            session,
            callback,
            outcome,
            now,
            actor=actor,
            why=f"the call ended {outcome}",
            call_id=call.id,
        )
        return
    customer = session.get_one(Customer, callback.customer_id)
    zones = callee_zones(customer, callback.to_number)
    campaign = session.get(Campaign, callback.campaign_id) if callback.campaign_id else None
    ladder = (
        tuple(timedelta(minutes=m) for m in campaign.retry_minutes)
        if campaign is not None
        else policy.retry_no_answer
    )
    max_attempts = campaign.max_attempts if campaign is not None else policy.max_attempts
    retry_at: datetime | None = None
    if machine and callback.machine_retries < policy.retry_machine:
        callback.machine_retries += 1
        retry_at = next_day_opening(now, zones, policy.window_start, policy.window_end)
    elif not machine:
        unanswered = callback.attempts - callback.machine_retries
        if 1 <= unanswered <= len(ladder):
            retry_at = now + ladder[unanswered - 1]
    if campaign is not None and campaign.status == "paused" and retry_at is not None:
        retry_at = min(PAUSED_UNTIL, callback.due_by)  # waits for the campaign to resume
    if retry_at is None or callback.attempts >= max_attempts or retry_at > callback.due_by:
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
    call_id: uuid.UUID | None = None,
) -> None:
    """End a callback: its audit entry, a fraud case when denied, and the core system is told."""
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
        case = open_case(session, callback, call_id=call_id, now=now, actor=actor)
    if callback.trigger is EventType.CAMPAIGN:
        return  # a campaign's calls decide nothing the core system must act on
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
        decide_withdrawals(
            session,
            callback,
            outcome,
            now,
            actor=actor,
            why=why,
            fraud_case=case.reference if case is not None else None,
        )


def decide_withdrawals(
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

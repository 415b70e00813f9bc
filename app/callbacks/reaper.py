"""The reaper: leases whose worker vanished, attempts whose carrier answer was lost, quiet calls,
and deadlines about to be missed.

An attempt whose answer was lost is reconciled with the carrier (adopted if the call exists,
failed and dialed again if not), never re-dialed blindly. Status changes are `lifecycle`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks import lifecycle
from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus, Priority
from app.callbacks.policy import Policy
from app.calls.models import Call
from app.calls.service import record_status
from app.carriers.carrier import Telephony, TelephonyError

log = logging.getLogger(__name__)

# No verification call lasts this long; one that has not reported its end is asked about.
QUIET_CALL = timedelta(hours=1)
ESCALATE_BEFORE = timedelta(minutes=15)


@dataclass
class Reaper:
    """One worker's view of the reaping and escalation jobs."""

    session: Session
    policy: Policy
    telephony: Telephony
    worker: str
    now: Callable[[], datetime]

    @property
    def actor(self) -> Actor:
        return Actor(f"worker:{self.worker}")

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
                lifecycle.put_off(
                    session,
                    callback,
                    now,
                    "its worker stopped before dialing",
                    now=now,
                    actor=self.actor,
                )
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
            if call is not None:
                call.sid = call.sid or sids[0]
            lifecycle.adopt_found_call(
                self.session,
                callback,
                attempt,
                call_id=call.id if call is not None else None,
                sid=sids[0],
                actor=self.actor,
            )
        else:
            lifecycle.attempt_never_placed(
                self.session, callback, attempt, now=now, actor=self.actor
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

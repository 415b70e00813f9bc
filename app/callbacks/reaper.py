"""The reaper: leases whose worker vanished, attempts whose carrier answer was lost, quiet calls,
and deadlines about to be missed.

An attempt whose answer was lost is reconciled with the carrier (adopted if the call exists,
failed and dialed again if not), never re-dialed blindly. Status changes are `lifecycle`'s.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks import after_call, lifecycle
from app.callbacks.alerts import alert_supervisors, look_ahead, near_from
from app.callbacks.dialer import HOLDING
from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus, Priority
from app.callbacks.policy import Policy
from app.calls.models import Call
from app.calls.service import record_status
from app.carriers.carrier import Telephony, TelephonyError

log = logging.getLogger(__name__)

# No verification call lasts this long; one that has not reported its end is asked about.
QUIET_CALL = timedelta(hours=1)


def _since(attempt: CallbackAttempt) -> datetime:
    return attempt.started_at - timedelta(seconds=5)


@dataclass(frozen=True)
class Asked:
    """The carrier's answer about a call whose sid we never learned: its sid, or None (no such
    call); `unreachable` when the carrier could not be asked."""

    sid: str | None
    unreachable: bool = False


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
        """Return expired leases; reconcile attempts whose carrier answer was lost.

        Each callback is reaped in a SAVEPOINT of its own: one that fails is logged and left for
        the next run, and never rolls back the others.
        """
        session, now = self.session, self.now()
        held = HOLDING.of(self.worker)  # this process's dialer is at work on these
        returned = 0
        expired = list(
            session.scalars(
                select(Callback)
                .where(Callback.status == CallbackStatus.CLAIMED, Callback.lease_expires_at < now)
                .with_for_update(skip_locked=True)
            )
        )
        for callback in expired:
            if str(callback.id) not in held:
                asked = self._ask(callback, self._open_attempt(callback))
                returned += self._isolated(
                    callback.id, partial(self._expired, callback, now, asked)
                )
        lost = list(
            session.scalars(
                select(CallbackAttempt)
                .join(Callback, Callback.id == CallbackAttempt.callback_id)
                .where(
                    CallbackAttempt.status.in_([AttemptStatus.DIALING, AttemptStatus.UNKNOWN]),
                    # As old as a lease: its worker is gone; ask the carrier what happened.
                    CallbackAttempt.started_at < now - self.policy.lease,
                    Callback.status.not_in([CallbackStatus.DONE, CallbackStatus.CLAIMED]),
                )
            )
        )
        for attempt in lost:
            if str(attempt.callback_id) not in held:
                callback = session.get_one(Callback, attempt.callback_id)
                asked = self._ask(callback, attempt)
                self._isolated(
                    attempt.callback_id,
                    partial(self._reconcile, callback, attempt, now, asked),
                )
        self._ask_about_quiet_calls(now)
        session.commit()
        return returned

    def _call_ended(self, call: Call, now: datetime) -> None:
        after_call.call_ended(call, session=self.session, policy=self.policy, now=now)

    def _isolated(self, callback_id: uuid.UUID, work: Callable[[], bool | None]) -> bool:
        """Do one callback's work in a SAVEPOINT; a failure is undone and logged, and the run
        goes on. Answers whether the work answered True."""
        try:
            with self.session.begin_nested():
                done = work()
                self.session.flush()
        except Exception as exc:
            log.error(
                "reaping a callback failed: left for the next run",
                extra={"callback_id": str(callback_id), "error": type(exc).__name__},
            )
            return False
        return bool(done)

    def _expired(self, callback: Callback, now: datetime, asked: Asked | None) -> bool:
        """A lease whose worker vanished: undialed, it is queued again; else reconciled."""
        open_attempt = self._open_attempt(callback)
        if open_attempt is not None:
            self._reconcile(callback, open_attempt, now, asked)
            return False
        lifecycle.put_off(
            self.session,
            callback,
            now,
            "its worker stopped before dialing",
            now=now,
            actor=self.actor,
        )
        return True

    def _ask_about_quiet_calls(self, now: datetime) -> None:
        """A call whose end was never reported (a lost status callback): ask the carrier.

        A call whose end is known but whose callback never moved on gets its after-call
        decision now.
        """
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
            if call.status.is_final:
                self._isolated(
                    call.callback_id or call.id,
                    partial(
                        after_call.call_ended,
                        call,
                        session=self.session,
                        policy=self.policy,
                        now=now,
                    ),
                )
                continue
            try:
                status = self.telephony.call_status(call.sid or "")
            except TelephonyError as exc:
                log.warning("call status not available", extra={"error": type(exc).__name__})
                continue
            if status is not None:
                # Recorded as if the status callback had come: the callback moves on from here.
                self._isolated(
                    call.callback_id or call.id,
                    partial(record_status, self.session, call=call, status=status),
                )

    def _open_attempt(self, callback: Callback) -> CallbackAttempt | None:
        return self.session.scalar(
            select(CallbackAttempt).where(
                CallbackAttempt.callback_id == callback.id,
                CallbackAttempt.status.in_([AttemptStatus.DIALING, AttemptStatus.UNKNOWN]),
            )
        )

    def _call_of(self, callback: Callback, attempt: CallbackAttempt) -> Call | None:
        # The attempt names its call from the start (an older row may not: find it by time).
        if attempt.call_id:
            return self.session.get(Call, attempt.call_id)
        return self.session.scalar(
            select(Call)
            .where(Call.callback_id == callback.id, Call.created_at >= _since(attempt))
            .order_by(Call.created_at.desc())
        )

    def _ask(self, callback: Callback, attempt: CallbackAttempt | None) -> Asked | None:
        """Ask the carrier for an attempt's call whose sid we never learned, before any row is
        written: no transaction waits on the network (on SQLite, a SAVEPOINT that read before a
        slow request and wrote after it is refused whenever another process wrote meanwhile).
        None when there is nothing to ask."""
        if attempt is None:
            return None
        call = self._call_of(callback, attempt)
        if call is None or call.status.is_final or call.sid is not None:
            return None
        try:
            return Asked(
                self.telephony.find_call(to=call.to_number, since=_since(attempt), key=str(call.id))
            )
        except Exception as exc:  # the carrier is still unreachable: ask again next time
            log.warning("reconciliation postponed", extra={"error": type(exc).__name__})
            return Asked(None, unreachable=True)

    def _reconcile(
        self, callback: Callback, attempt: CallbackAttempt, now: datetime, asked: Asked | None
    ) -> None:
        """Find the attempt's call by a key that is ours, never by "a call to this number".

        The call's own id is in its status callback URL: the carrier echoes it with the call's
        sid, so a call that reported anything already names its sid. Otherwise the carrier was
        asked (`asked`) for the call carrying that id. Found, it is adopted; a call whose end came
        already gets its after-call decision; none found, the attempt never reached the carrier.
        """
        call = self._call_of(callback, attempt)
        if call is None:  # no call row: the carrier was never asked
            lifecycle.attempt_never_placed(
                self.session, callback, attempt, now=now, actor=self.actor
            )
            return
        if call.status.is_final:  # its end came before (or instead of) the carrier's answer
            if callback.status in (CallbackStatus.CLAIMED, CallbackStatus.IN_CALL):
                after_call.call_ended(call, session=self.session, policy=self.policy, now=now)
            else:  # its callback has moved on already: only the attempt is closed
                lifecycle.attempt_ended(attempt, result=call.status.value, now=now)
            return
        sid = call.sid
        if sid is None:
            if asked is None or asked.unreachable:  # not asked (yet) or no answer: next run
                return
            sid = asked.sid
        if sid is None:
            lifecycle.attempt_never_placed(
                self.session, callback, attempt, now=now, actor=self.actor
            )
            return
        call.sid = sid
        lifecycle.adopt_found_call(
            self.session, callback, attempt, call_id=call.id, sid=sid, actor=self.actor
        )

    def escalate(self) -> tuple[int, int]:
        """Raise callbacks near their deadline (80% of their time gone, or 15 minutes left) and
        alert the supervisors; alert them of the ones that missed it too, and count both."""
        session, now = self.session, self.now()
        open_ = Callback.status != CallbackStatus.DONE
        horizon = now + look_ahead(max(self.policy.deadlines.values()))
        soon = [
            callback
            for callback in session.scalars(
                select(Callback).where(
                    open_, Callback.escalated_at.is_(None), Callback.due_by < horizon
                )
            )
            if near_from(callback) <= now
        ]
        for callback in soon:
            callback.escalated_at = now
            alert_supervisors(session, callback, missed=False, now=now)
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
            alert_supervisors(session, callback, missed=True, now=now)
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

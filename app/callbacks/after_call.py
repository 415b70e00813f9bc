"""What happens after a call: its callback ends with the flow's outcome, or is tried again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.callbacks import lifecycle
from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus
from app.callbacks.policy import Policy
from app.callbacks.rules import Finish, after_unanswered_call
from app.callbacks.window import callee_zones
from app.calls.models import Call
from app.customers.models import Customer
from app.outcomes import Outcome


def call_ended(call: Call, *, session: Session, policy: Policy, now: datetime) -> None:
    """Move the call's callback on: done with the flow's outcome, or the next retry."""
    if call.callback_id is None:
        return
    callback = session.get(Callback, call.callback_id)
    attempt = session.scalar(
        select(CallbackAttempt).where(
            CallbackAttempt.call_id == call.id,
            # A call that carried several matters has an attempt of each: this callback's.
            CallbackAttempt.callback_id == call.callback_id,
        )
    )
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
    ended = Outcome(call.outcome) if call.outcome in set(Outcome) else None
    machine = ended is Outcome.VOICEMAIL
    if attempt is not None:
        lifecycle.attempt_ended(
            attempt, result="machine" if machine else call.status.value, now=now
        )
    if callback is None or callback.status is CallbackStatus.DONE:
        return
    if callback.status is CallbackStatus.QUEUED and callback.waiting_for in (
        lifecycle.FOLLOW_UP,
        lifecycle.WITH_AGENT,
    ):
        return  # an agent agreed a time with the customer, or decides it at their wrap-up
    actor = Actor("system:call-ended")
    decided = ended.decides_callback if ended is not None else None
    if decided is not None:
        lifecycle.finish(
            session,
            callback,
            decided,
            now,
            actor=actor,
            why=f"the call ended {decided}",
            call_id=call.id,
        )
        return
    customer = session.get_one(Customer, callback.customer_id)
    then = after_unanswered_call(
        profile=policy.profile(callback.dial_profile),
        zones=callee_zones(customer, callback.to_number),
        machine=machine,
        attempts=callback.attempts,
        machine_retries=callback.machine_retries,
        due_by=callback.due_by,
        hold=callback.dial_hold,
        policy=policy,
        now=now,
    )
    if isinstance(then.decision, Finish):
        if then.machine_retry:
            callback.machine_retries += 1
        lifecycle.decide(session, callback, then.decision, now=now, actor=actor)
        return
    lifecycle.retry(
        session,
        callback,
        then.decision.until,
        actor=actor,
        after=attempt.result if attempt else None,
        machine_retry=then.machine_retry,
    )

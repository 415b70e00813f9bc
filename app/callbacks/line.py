"""The callback's phone-line action: one call carries a customer's several matters in turn.

When a number has several due callbacks, the dialer places one call for the most urgent and
carries the others (the call's `carried_callbacks`). The flow says so, verifies once, and after
each matter is confirmed asks `next_matter`: that matter is decided on its own (its outcome, its
attempt, its audit entry), the next carried one is taken into the call, and the call goes on in
that matter's flow at its `resume_at` node (its verify node, already passed, is not asked again).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.callbacks import lifecycle, satisfaction
from app.callbacks.matters import CARRIED
from app.callbacks.models import Callback, CallbackStatus
from app.callbacks.window import callee_zones, inside, next_opening
from app.calls.models import Call
from app.customers.models import Customer
from app.errors import Conflict
from app.flows.actions import ActionResult
from app.flows.definition import VERIFIED
from app.flows.registry import flows
from app.outcomes import Outcome
from app.registry import Registry


def next_matter(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """The current matter is decided: decide its callback, and go on with the next carried one."""
    variables = call.variables or {}
    carried = [str(item) for item in variables.get(CARRIED) or []]
    current = session.get(Callback, call.callback_id) if call.callback_id else None
    if (
        not carried
        or current is None
        # Claimed still when a quick carrier's webhooks come before the dialer's own record.
        or current.status not in (CallbackStatus.CLAIMED, CallbackStatus.IN_CALL)
        or variables.get(VERIFIED) is not True
        or call.outcome not in {o.value for o in Outcome}
        or Outcome(call.outcome).decides_callback is None
    ):
        return ActionResult("none")
    decided = Outcome(call.outcome).decides_callback
    assert decided is not None
    now, actor = clock.now(), Actor(f"call:{call.id}")
    lifecycle.matter_decided(session, current, decided, now, call_id=call.id, actor=actor)
    known = flows()
    while carried:
        candidate = session.get(Callback, uuid.UUID(carried.pop(0)))
        if (
            candidate is None
            or candidate.customer_id != current.customer_id
            or candidate.flow not in known
            or not lifecycle.carry_on_in_call(session, candidate, call_id=call.id)
        ):
            continue
        flow = known[candidate.flow]
        customer = session.get_one(Customer, candidate.customer_id)
        call.callback_id, call.outcome = candidate.id, None
        return ActionResult(
            "continued",
            {
                **(candidate.variables or {}),
                "name": customer.name or "",
                CARRIED: carried,
            },
            switch_to=(flow, flow.resume_at or flow.start),
        )
    # Nothing left to ask: the call ends on this matter's own closing words.
    call.variables = {**variables, CARRIED: []}
    return ActionResult("none")


# ----- "call me at": a verified caller on the hotline puts their waiting callback off -----

#: The time of day the hotline offers first ("today after 18:00"), in the customer's time.
LATER_AT = time(18, 0)
#: The slot is at least this far ahead (a call back a few minutes later helps nobody).
LATER_LEAD = timedelta(minutes=30)
#: Why the callback waits, for supervisors (its audit entry says the caller chose it).
CALLER_CHOSE = "the customer's chosen time"


def _verified_callback(session: Session, call: Call) -> Callback | None:
    """The waiting callback the hotline verified this caller for (by a right code), if still
    theirs: the caller's number, the code's customer, and waiting to be dialed."""
    variables = call.variables or {}
    try:
        callback_id = uuid.UUID(str(variables.get("verifying_callback_id") or ""))
    except ValueError:
        return None
    callback = session.get(Callback, callback_id)
    if (
        callback is None
        or variables.get(VERIFIED) is not True
        or callback.to_number != call.from_number
        or callback.customer_id != call.customer_id
        or callback.status is not CallbackStatus.QUEUED
    ):
        return None
    return callback


def later_slot(session: Session, callback: Callback, now: datetime) -> datetime | None:
    """The time the hotline offers: today at LATER_AT in the customer's zone (tomorrow when that
    is less than LATER_LEAD away), or the next opening of their calling hours from then; None
    when their zone is unknown or nothing opens within a week."""
    customer = session.get_one(Customer, callback.customer_id)
    zones = callee_zones(customer, callback.to_number)
    if not zones:
        return None
    start, end = current_app.extensions["callback_policy"].profile(callback.dial_profile).window
    local = now.astimezone(ZoneInfo(zones[0]))
    slot = datetime.combine(local.date(), LATER_AT, tzinfo=local.tzinfo)
    if slot < now + LATER_LEAD:
        slot = datetime.combine(local.date() + timedelta(days=1), LATER_AT, tzinfo=local.tzinfo)
    if inside(slot, zones, start, end):
        return slot
    return next_opening(slot, zones, start, end)


def offer_call_back_later(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """After a right code: the time we could call the caller back instead of going on now."""
    callback = _verified_callback(session, call)
    slot = later_slot(session, callback, clock.now()) if callback is not None else None
    if slot is None:
        return ActionResult("none")
    return ActionResult("offered", {"call_back_at": slot.isoformat()})


def call_back_later(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """The caller chose the offered time: their waiting callback is dialed then (its deadline
    moved past it by the lifecycle), with its audit entry."""
    callback = _verified_callback(session, call)
    offered = (call.variables or {}).get("call_back_at")
    if callback is None or not offered:
        return ActionResult("unavailable")
    now = clock.now()
    at = datetime.fromisoformat(str(offered))
    if at <= now:
        return ActionResult("unavailable")
    try:
        lifecycle.reschedule(
            session, callback, at, now=now, actor=Actor(f"call:{call.id}"), why=CALLER_CHOSE
        )
    except Conflict:  # a worker claimed it meanwhile
        return ActionResult("unavailable")
    return ActionResult("rescheduled")


#: The call variables the satisfaction question saves (its gather nodes' save_as).
SATISFACTION, SATISFACTION_REASON = "satisfaction", "satisfaction_reason"


def record_satisfaction(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """Keep the caller's 1-5 answer (and a low score's reason); the call's outcome is set before."""
    variables = call.variables or {}
    raw = str(variables.get(SATISFACTION) or "")
    if not (raw.isdigit() and 1 <= int(raw) <= 5):
        return ActionResult("none")
    reason = variables.get(SATISFACTION_REASON)
    satisfaction.record_call_answer(
        session,
        call_id=call.id,
        flow=call.flow,
        customer_id=call.customer_id,
        score=int(raw),
        reason_key=str(reason) if reason is not None else None,
        now=clock.now(),
        actor=Actor(f"call:{call.id}"),
    )
    return ActionResult("recorded")


def register_actions(registry: Registry) -> None:
    """The callback engine's phone-line action, as app.callbacks.init_app registers it."""
    # It takes the caller into another of the customer's matters: after a right code only.
    registry.flow_action(
        "next_matter",
        next_matter,
        results=("continued", "none"),
        sets=("name", CARRIED),
        after_verify=True,
    )
    # The hotline's "call me at": the customer's waiting callback, so after a right code only.
    registry.flow_action(
        "offer_call_back_later",
        offer_call_back_later,
        results=("offered", "none"),
        sets=("call_back_at",),
        after_verify=True,
    )
    registry.flow_action(
        "call_back_later",
        call_back_later,
        results=("rescheduled", "unavailable"),
        after_verify=True,
    )
    # The satisfaction question that ends verification calls: keeps the answer, per call.
    registry.flow_action("record_satisfaction", record_satisfaction, results=("recorded", "none"))

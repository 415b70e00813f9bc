"""The "is this call really from us?" phone line's actions (see call_flows/verify_caller_line.yaml).

The caller keys in the number that called them; we say whether it is ours. Then, by the caller's
own number (ANI), whether we called them in the last 24 hours, and if a callback is waiting for
them, they may take it now. If we did not call, they may report it.

A caller ID proves nothing (anyone can show a customer's number), so until the caller types a
right code from the customer's app they hear only that we tried to reach them about their
account: never the matter, and the waiting callback is not touched. Only a right code takes it.

Even that much needs a caller ID the network fully vouched for (STIR/SHAKEN attestation A): any
other caller types a code from the app before we say whether we called their number at all.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.authenticity import service
from app.authenticity.models import ReportChannel
from app.callbacks import lifecycle
from app.callbacks.models import Callback, CallbackStatus
from app.calls.models import Call
from app.customers.models import Customer
from app.errors import InvalidInput
from app.flows.actions import ActionResult
from app.flows.definition import VERIFIED
from app.flows.registry import flows
from app.locales import LANGUAGE_REGIONS
from app.phones import parse_phone
from app.registry import Registry

#: What the caller says the scammer asked for (the line's menu) -> the report's categories.
ASKED = {
    "1": ["password", "pin", "sms_code"],
    "2": ["card_details"],
    "3": ["move_money"],
    "4": ["other"],
}
# Waiting for the customer: queued, or being dialed (then it cannot be taken on the line).
_WAITING = [CallbackStatus.QUEUED, CallbackStatus.CLAIMED, CallbackStatus.IN_CALL]


def _caller_regions(call: Call) -> list[str | None]:
    """The caller's own countries: their number's, then their language's."""
    try:
        own = parse_phone(call.from_number).region
    except InvalidInput:  # a withheld number
        own = None
    return [own, LANGUAGE_REGIONS.get(call.locale)]


def _keyed(call: Call) -> str:
    """The number as keyed: 00.. is international; a keypad has no '+'."""
    return str((call.variables or {}).get("keyed_number") or "")


def lookup_keyed_number(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """Read the keyed number as the caller's country writes it, as one of ours, and with its
    country code first; one that reads as several numbers, one of them ours, is unreadable."""
    keyed = _keyed(call)
    try:
        seen = service.read_seen_number(session, keyed, regions=_caller_regions(call), keypad=True)
    except InvalidInput:
        return ActionResult("unreadable", {"checked_number": keyed})
    answer = service.lookup(session, seen, locale=call.locale, company="")
    return ActionResult(
        answer["status"],
        {
            "checked_number": answer["number"],
            "number_label": answer["label"] or "",
            "until": answer["retired_at"].date().isoformat() if answer["retired_at"] else "",
        },
    )


def _pending_callback(
    session: Session, number: str, customer_id: uuid.UUID | None = None
) -> Callback | None:
    query = select(Callback).where(Callback.to_number == number, Callback.status.in_(_WAITING))
    if customer_id is not None:
        query = query.where(Callback.customer_id == customer_id)
    return session.scalar(query.order_by(Callback.due_by).limit(1))


def recent_call_to_caller(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """Whether we called the caller's number: no more, since the caller is not verified.

    A caller ID the network did not fully vouch for (anything but attestation A) answers
    `unattested`, the same whoever the number belongs to: the caller types a code from the app
    first, and the line asks again once it was right (then only of that customer's callbacks).
    """
    if not call.from_number.startswith("+"):  # a withheld number: nothing to match
        return ActionResult("none")
    verified = (call.variables or {}).get(VERIFIED) is True
    if not verified and not call.caller_id_attested:
        if call.customer_id is None:
            # Whose code can open the line: the customer a callback waits for on this number.
            # Nothing is said of it, whoever it is or whether there is one.
            waiting = _pending_callback(session, call.from_number)
            call.customer_id = waiting.customer_id if waiting is not None else None
        if call.customer_id is not None and _locked(session, call):
            # The verify node would say "locked" at once, where a stranger's number is asked for
            # a code: that would tell whoever shows the number that it is a locked customer's.
            # No code can be right for it anyway; the stranger's words it is.
            call.customer_id = None
        return ActionResult("unattested")
    pending = _pending_callback(session, call.from_number, call.customer_id if verified else None)
    if pending is not None:
        return ActionResult("pending", {"pending_callback_id": str(pending.id)})
    if not service.recent_calls_to(session, call.from_number, now=clock.now()):
        return ActionResult("none")
    return ActionResult("called")


def _locked(session: Session, call: Call) -> bool:
    """Whether the code checker the calls use would refuse this call's customer as locked."""
    locked = getattr(current_app.extensions.get("code_checker"), "locked", None)
    return bool(locked and locked(session, call))


def _offered_callback(session: Session, call: Call, name: str) -> Callback | None:
    """The callback the line offered this caller (by their number), if it still is theirs."""
    callback_id = (call.variables or {}).get(name)
    try:
        callback = session.get(Callback, uuid.UUID(str(callback_id))) if callback_id else None
    except ValueError:
        return None
    if callback is None or callback.to_number != call.from_number:
        return None
    return callback


def verify_for_callback(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """The caller asks to take their waiting callback: the code to type is that customer's.

    Nothing is claimed, counted or decided here, whatever the callback's state, so what the
    caller hears next (the code prompt, or the lock) says nothing about it.
    """
    callback = _offered_callback(session, call, "pending_callback_id")
    if callback is None:
        return ActionResult("unavailable")
    verified = (call.variables or {}).get(VERIFIED) is True
    if verified and call.customer_id != callback.customer_id:
        return ActionResult("unavailable")  # a right code vouches for one customer, not another
    call.customer_id = callback.customer_id  # whose codes are checked, and whose lock counts
    return ActionResult("ready", {"verifying_callback_id": str(callback.id)})


def continue_callback(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """After a right code, take the waiting callback into this call and go on with its matter.

    The callback's life decides whether it can be taken (lifecycle.take_over_inbound).
    """
    callback = _offered_callback(session, call, "verifying_callback_id")
    verified = (call.variables or {}).get(VERIFIED) is True
    if callback is None or not verified or call.customer_id != callback.customer_id:
        return ActionResult("unavailable")
    if not lifecycle.take_over_inbound(session, callback, call_id=call.id):
        return ActionResult("unavailable")  # a worker is dialing it right now, or it just ended
    customer = session.get_one(Customer, callback.customer_id)
    call.callback_id = callback.id
    flow = flows()[callback.flow]
    return ActionResult(
        "continued",
        {**(callback.variables or {}), "name": customer.name or ""},
        switch_to=(flow, flow.resume_at or flow.start),
    )


def report_scam(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """File the caller's report: the number they keyed, what was asked, their own number."""
    variables = call.variables or {}
    keyed = str(variables.get("checked_number") or variables.get("keyed_number") or "")
    report = service.file_report(
        session,
        number=keyed or "+0",  # the caller keyed no number: the report still counts
        channel=ReportChannel.PHONE,
        now=clock.now(),
        actor=Actor(f"call:{call.id}"),
        locale=call.locale,
        regions=_caller_regions(call),
        keypad=True,
        reporter_phone=call.from_number if call.from_number.startswith("+") else None,
        asked_for=ASKED.get(str(variables.get("asked") or ""), ["other"]),
        call_id=call.id,
    )
    return ActionResult("filed", {"report_reference": report.reference})


def register_actions(registry: Registry) -> None:
    """The line's actions, as app.authenticity.init_app registers them for the flows."""
    registry.flow_action(
        "lookup_keyed_number",
        lookup_keyed_number,
        results=("calls_you", "never_calls", "retired", "not_ours", "unreadable"),
        sets=("checked_number", "number_label", "until"),
    )
    registry.flow_action(
        "recent_call_to_caller",
        recent_call_to_caller,
        results=("pending", "called", "none", "unattested"),
        sets=("pending_callback_id",),
    )
    registry.flow_action(
        "verify_for_callback",
        verify_for_callback,
        results=("ready", "unavailable"),
        sets=("verifying_callback_id",),
    )
    # It takes the caller into a customer's matter: flows check wants a right code before it.
    # Besides the name it sets the callback's own variables (those its outbound flow speaks).
    registry.flow_action(
        "continue_callback",
        continue_callback,
        results=("continued", "unavailable"),
        sets=("name",),
        after_verify=True,
    )
    registry.flow_action("report_scam", report_scam, results=("filed",), sets=("report_reference",))

"""The "is this call really from us?" phone line's actions (see call_flows/verify_caller_line.yaml).

The caller keys in the number that called them; we say whether it is ours. Then, by the caller's
own number (ANI), whether we called them in the last 24 hours and about what kind of matter, and
if a callback is waiting for them, they may take it now. If we did not call, they may report it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.authenticity import service
from app.authenticity.models import ReportChannel
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    EventType,
)
from app.customers.models import Customer
from app.errors import InvalidInput
from app.flows.actions import ActionResult, action
from app.flows.registry import flows
from app.locales import LANGUAGE_REGIONS
from app.phones import parse_phone
from app.telephony.models import Call

#: The kind of matter, never its details, before the caller is verified.
MATTERS = {
    EventType.TRANSACTION: {
        "en": "a payment on your card",
        "it": "un pagamento con la tua carta",
        "pl": "płatność Twoją kartą",
        "zh": "您卡上的一笔付款",
    },
    EventType.WITHDRAWAL_REQUEST: {
        "en": "a withdrawal from your account",
        "it": "un prelievo dal tuo conto",
        "pl": "wypłatę z Twojego konta",
        "zh": "您账户的一笔提现",
    },
    EventType.REGISTRATION: {
        "en": "a new account opened in your name",
        "it": "un nuovo conto aperto a tuo nome",
        "pl": "nowe konto założone na Twoje nazwisko",
        "zh": "以您的名义开立的新账户",
    },
    EventType.ACCOUNT_CHANGE: {
        "en": "a change to your account details",
        "it": "una modifica ai dati del tuo conto",
        "pl": "zmianę danych Twojego konta",
        "zh": "您账户信息的一项更改",
    },
    EventType.CAMPAIGN: {
        "en": "a message about your account",
        "it": "un messaggio sul tuo conto",
        "pl": "wiadomość w sprawie Twojego konta",
        "zh": "一条关于您账户的消息",
    },
}
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


@action("lookup_keyed_number")
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


def _pending_callback(session: Session, number: str) -> Callback | None:
    return session.scalar(
        select(Callback)
        .where(Callback.to_number == number, Callback.status.in_(_WAITING))
        .order_by(Callback.due_by)
        .limit(1)
    )


@action("recent_call_to_caller")
def recent_call_to_caller(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    if not call.from_number.startswith("+"):  # a withheld number: nothing to match
        return ActionResult("none")
    now = clock.now()
    pending = _pending_callback(session, call.from_number)
    if pending is not None:
        return ActionResult(
            "pending",
            {"matter": MATTERS[pending.trigger], "pending_callback_id": str(pending.id)},
        )
    recent = service.recent_calls_to(session, call.from_number, now=now)
    if not recent:
        return ActionResult("none")
    callback = session.get(Callback, recent[0].callback_id) if recent[0].callback_id else None
    matter = MATTERS[callback.trigger] if callback is not None else None
    return ActionResult("called", {"matter": matter} if matter else {})


@action("continue_callback")
def continue_callback(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    """Take the waiting callback into this call: it is claimed so that no worker dials it too."""
    callback_id = (call.variables or {}).get("pending_callback_id")
    callback = session.get(Callback, uuid.UUID(callback_id)) if callback_id else None
    if callback is None or callback.to_number != call.from_number:
        return ActionResult("unavailable")
    claimed = session.execute(
        update(Callback)
        .where(Callback.id == callback.id, Callback.status == CallbackStatus.QUEUED)
        .values(
            status=CallbackStatus.IN_CALL,
            attempts=Callback.attempts + 1,
            waiting_for=None,
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # a worker is dialing it right now, or it just ended
        return ActionResult("unavailable")
    session.refresh(callback)
    session.add(
        CallbackAttempt(
            callback_id=callback.id,
            customer_id=callback.customer_id,
            number=callback.attempts,
            status=AttemptStatus.PLACED,
            call_id=call.id,
            worker="inbound-line",
        )
    )
    customer = session.get_one(Customer, callback.customer_id)
    call.callback_id, call.customer_id = callback.id, customer.id
    record(
        session,
        actor=Actor(f"call:{call.id}"),
        action="callback.continued_inbound",
        subject_type="callback",
        subject_id=callback.id,
        changes={"call_id": call.id, "attempt": callback.attempts},
    )
    flow = flows()[callback.flow]
    return ActionResult(
        "continued",
        {**(callback.variables or {}), "name": customer.name or ""},
        switch_to=(flow, flow.resume_at or flow.start),
    )


@action("report_scam")
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

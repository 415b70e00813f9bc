"""The lines' `freeze_account` action: a caller who lost their phone, or fears someone is in
their account, is matched by their number and the date of birth they typed, and frozen."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.calls.models import Call
from app.errors import RateLimited
from app.flows.actions import ActionResult
from app.freezes import service
from app.freezes.models import FreezeChannel
from app.ratelimit import enforce
from app.registry import Registry

#: The call variable the date of birth is gathered into (DDMMYYYY); cleared by the action in the
#: same transaction, so the date never reaches the database.
BIRTH_DATE = "birth_date"


def too_many_for(customer_id: uuid.UUID) -> bool:
    """Count one try against the customer; True once they are past their limit."""
    try:
        enforce("freeze:customer", str(customer_id), what="tries")
    except RateLimited:
        return True
    return False


def freeze_account(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    keyed = str((call.variables or {}).get(BIRTH_DATE) or "")
    cleared = {BIRTH_DATE: None}
    phone = call.from_number
    if not phone.startswith("+"):  # a withheld number cannot be matched
        return ActionResult("no_match", cleared)
    try:
        enforce("freeze:number", phone, what="tries")
    except RateLimited:  # said like a wrong date: the caller learns nothing from it
        return ActionResult("no_match", cleared)
    customer = service.match_caller(
        session,
        phone=phone,
        birth_date=service.parse_birth_date(keyed),
        keyring=current_app.extensions["verification_keyring"],
        too_many_for=too_many_for,
    )
    if customer is None:
        return ActionResult("no_match", cleared)
    service.request_freeze(
        session,
        customer=customer,
        channel=FreezeChannel.PHONE,
        actor=Actor(f"call:{call.id}", request_id=g.get("request_id")),
        now=clock.now(),
        call_id=call.id,
    )
    return ActionResult("frozen", cleared)


def register_actions(registry: Registry) -> None:
    registry.flow_action(
        "freeze_account", freeze_account, results=("frozen", "no_match"), sets=(BIRTH_DATE,)
    )

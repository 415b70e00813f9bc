"""Freeze first, verify later: matching a caller, freezing the account, and lifting a freeze.

A freeze is safe to grant without the app's code (the app may be on the lost phone), so a caller
is matched by their number and one fact the core system confirms (the date of birth). The core
system hears at once (a signed `account.freeze_requested` webhook through the outbox, in the
freeze's transaction), a fraud case is opened, and its receipt is texted to the registered
number. Lifting a freeze always needs strong verification, and never happens on the line.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.customers.facts import birth_date_matches, hash_birth_date
from app.customers.models import Customer
from app.errors import Conflict, InvalidInput
from app.fraud.models import FraudCase
from app.freezes.models import FreezeChannel, FreezeRequest, FreezeStatus
from app.messaging.models import MessageKind
from app.messaging.outbox import enqueue
from app.references import readable_reference
from app.verification.keys import Keyring
from app.verification.models import AttemptResult
from app.verification.policy import VerificationPolicy
from app.verification.service import check_code

#: How an unfreeze was verified: a right app code, or the integrator's word that a person
#: checked (at a branch, or an agent on a verified call). Never the phone line alone.
VERIFIED_BY = ("app_code", "branch", "agent")


def parse_birth_date(keyed: str) -> date | None:
    """A date typed on the keypad as DDMMYYYY, or None when it is no date."""
    if len(keyed) != 8 or not keyed.isdigit():
        return None
    try:
        return date(int(keyed[4:]), int(keyed[2:4]), int(keyed[:2]))
    except ValueError:
        return None


#: The namespace of the stand-in a number no customer has is counted and hashed as.
_STAND_IN = uuid.UUID("6f1d7c1e-3b0a-4e53-9a51-0c9f7e2b8d40")


def match_caller(
    session: Session,
    *,
    phone: str,
    birth_date: date | None,
    keyring: Keyring,
    too_many_for: Callable[[uuid.UUID], bool],
) -> Customer | None:
    """The customer with this number (E.164) and this birth date, or None.

    A wrong date, an unknown number, and a customer over their limit of tries all answer None:
    the caller learns nothing about whether the number is a customer's. `too_many_for` counts a
    failed try against a customer and answers whether they are past their limit.
    """
    candidates = list(
        session.scalars(select(Customer).where(Customer.phone == phone).order_by(Customer.id))
    )
    if not candidates:
        # The same work as a wrong date (a keyed hash compared, a try counted), so that how long
        # the answer takes does not tell an unknown number from a customer's.
        stand_in = uuid.uuid5(_STAND_IN, phone)
        if birth_date is not None:
            birth_date_matches(
                keyring, stand_in, hash_birth_date(keyring, stand_in, date(1900, 1, 1)), birth_date
            )
        too_many_for(stand_in)
        return None
    for customer in candidates:
        if birth_date is not None and birth_date_matches(
            keyring, customer.id, customer.birth_date_hash, birth_date
        ):
            # A right date counts too: once a customer is past the limit, nothing matches.
            return None if too_many_for(customer.id) else customer
    for customer in candidates:
        too_many_for(customer.id)  # a wrong try, counted against each customer of the number
    return None


def active_freeze(session: Session, customer_id: uuid.UUID) -> FreezeRequest | None:
    return session.scalar(
        select(FreezeRequest).where(FreezeRequest.frozen_customer_id == customer_id)
    )


def request_freeze(
    session: Session,
    *,
    customer: Customer,
    channel: FreezeChannel,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    call_id: uuid.UUID | None = None,
) -> tuple[FreezeRequest, bool]:
    """Freeze the customer's account; answers the freeze and whether it is new.

    While a freeze stands, asking again answers it and changes nothing (one webhook, one case,
    one text per freeze), even when two requests arrive at once.
    """
    existing = active_freeze(session, customer.id)
    if existing is not None:
        return existing, False
    freeze = FreezeRequest(
        id=uuid.uuid4(),
        customer_id=customer.id,
        frozen_customer_id=customer.id,
        channel=channel,
        status=FreezeStatus.FROZEN,
        reason=reason,
        call_id=call_id,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(freeze)
    except IntegrityError:  # another request froze it between our look and our insert
        raced = active_freeze(session, customer.id)
        if raced is None:
            raise
        return raced, False
    case = FraudCase(
        reference=readable_reference("FRD"),
        customer_id=customer.id,
        call_id=call_id,
        trigger="freeze_request",
        action="freeze_account",
        receipt_to=customer.phone,  # the registered number, never one the requester typed
        created_at=now,
    )
    session.add(case)
    freeze.fraud_case_reference = case.reference
    record(
        session,
        actor=actor,
        action="fraud_case.opened",
        subject_type="fraud_case",
        subject_id=case.reference,
        changes={"customer_id": customer.id, "trigger": case.trigger, "action": case.action},
    )
    record(
        session,
        actor=actor,
        action="account.freeze_requested",
        subject_type="customer",
        subject_id=customer.id,
        changes={"freeze_id": freeze.id, "channel": channel.value, "fraud_case": case.reference},
    )
    _tell_core(session, "account.freeze_requested", freeze, customer, now=now)
    return freeze, True


def lift_freeze(
    session: Session,
    *,
    customer: Customer,
    verified_by: str,
    actor: Actor,
    now: datetime,
    note: str | None = None,
    code: str | None = None,
    keyring: Keyring | None = None,
    policy: VerificationPolicy | None = None,
) -> FreezeRequest:
    """Lift the standing freeze, after strong verification.

    With `app_code`, the customer's right code from the app (checked, counted and locked like
    any other); otherwise the caller's statement of who verified the customer, kept with it.
    """
    if verified_by not in (*VERIFIED_BY, "supervisor"):
        raise InvalidInput(
            _l("verified_by: must be app_code, branch or agent"), field="verified_by"
        )
    freeze = active_freeze(session, customer.id)
    if freeze is None:
        raise Conflict(_l("this customer's account is not frozen"), code="not_frozen")
    if verified_by == "app_code":
        if not code:
            raise InvalidInput(_l("code: a code from the customer's app is required"), field="code")
        assert keyring is not None and policy is not None
        check = check_code(
            session, customer.id, code, keyring=keyring, now=now, actor=actor, policy=policy
        )
        if check.result is not AttemptResult.VERIFIED:
            session.commit()  # the failed try counts towards the lock
            raise InvalidInput(
                _l("code: the code is not right, or the customer is locked"),
                field="code",
                code="wrong_code",
            )
    freeze.status = FreezeStatus.LIFTED
    freeze.frozen_customer_id = None
    freeze.lifted_at = now
    freeze.lifted_verified_by = verified_by
    freeze.lifted_by = actor.label[:200]
    freeze.lift_note = note
    record(
        session,
        actor=actor,
        action="account.freeze_lifted",
        subject_type="customer",
        subject_id=customer.id,
        changes={"freeze_id": freeze.id, "verified_by": verified_by, "note": note},
    )
    _tell_core(session, "account.unfreeze_requested", freeze, customer, now=now)
    return freeze


def _tell_core(
    session: Session, type: str, freeze: FreezeRequest, customer: Customer, *, now: datetime
) -> None:
    payload: dict[str, Any] = {
        "freeze_id": str(freeze.id),
        "customer_id": str(customer.id),
        "external_id": customer.external_id,
        "channel": freeze.channel.value,
        "requested_at": freeze.created_at.isoformat(),
        "fraud_case": freeze.fraud_case_reference,
    }
    if freeze.status is FreezeStatus.LIFTED:
        payload["verified_by"] = freeze.lifted_verified_by
    enqueue(
        session,
        kind=MessageKind.WEBHOOK,
        recipient="core",
        subject=type,
        body=json.dumps(payload, separators=(",", ":")),
        now=now,
        dedupe_key=f"{type}:{freeze.id}",
    )


def freezes_of(session: Session, customer_id: uuid.UUID) -> list[FreezeRequest]:
    """The customer's freezes, newest first (the console's customer page)."""
    return list(
        session.scalars(
            select(FreezeRequest)
            .where(FreezeRequest.customer_id == customer_id)
            .order_by(FreezeRequest.created_at.desc())
        )
    )

"""Enrolling authenticators, minting app codes, checking a typed code, locking and unlocking.

A code is checked in constant time against what is live for the customer: the current
authenticator step and one step either side, and the one app code. Using a code spends it in the
same UPDATE that checks it is still unspent, so two calls racing with one code cannot both win.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks.models import Callback, CallbackStatus
from app.customers.models import Customer
from app.database import rows_matched
from app.errors import Conflict, InvalidInput, NotFound
from app.verification.keys import Keyring, UnknownKey
from app.verification.models import (
    AppCode,
    AttemptResult,
    Authenticator,
    CodePurpose,
    VerificationAttempt,
    VerificationLock,
)
from app.verification.policy import VerificationPolicy

log = logging.getLogger(__name__)

SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation for HOTP/TOTP secrets


# ----- authenticators -----


def _context(customer_id: uuid.UUID) -> str:
    return f"authenticator:{customer_id}"


def enrol_authenticator(
    session: Session,
    customer_id: uuid.UUID,
    *,
    keyring: Keyring,
    now: datetime,
    actor: Actor,
    secret: bytes | None = None,
    digits: int = 6,
) -> Authenticator:
    """A fresh secret for the customer's app, replacing any earlier one (which stops working)."""
    customer = _customer(session, customer_id)
    raw = secrets.token_bytes(SECRET_BYTES) if secret is None else secret
    key_id, sealed = keyring.encrypt(raw, context=_context(customer.id))
    authenticator = session.get(Authenticator, customer.id)
    replaced = authenticator is not None
    if authenticator is None:
        authenticator = Authenticator(customer_id=customer.id)
        session.add(authenticator)
    authenticator.key_id, authenticator.secret_ciphertext = key_id, sealed
    authenticator.digits, authenticator.period = digits, 30
    authenticator.last_used_step = None
    authenticator.enrolled_at, authenticator.first_used_at = now, None
    record(
        session,
        actor=actor,
        action="authenticator.replaced" if replaced else "authenticator.enrolled",
        subject_type="customer",
        subject_id=customer.id,
        changes={"key_id": key_id, "digits": digits, "period": 30},
    )
    return authenticator


def _totp(authenticator: Authenticator, keyring: Keyring) -> pyotp.TOTP:
    raw = keyring.decrypt(
        authenticator.key_id,
        authenticator.secret_ciphertext,
        context=_context(authenticator.customer_id),
    )
    return pyotp.TOTP(
        base64.b32encode(raw).decode(),
        digits=authenticator.digits,
        digest=hashlib.sha1,
        interval=authenticator.period,
    )


def provisioning_uri(
    session: Session, authenticator: Authenticator, *, keyring: Keyring, issuer: str
) -> str:
    """otpauth://totp/Issuer:account?secret=...&issuer=Issuer (account: the core system's id)."""
    customer = session.get_one(Customer, authenticator.customer_id)
    return _totp(authenticator, keyring).provisioning_uri(
        name=customer.external_id, issuer_name=issuer
    )


def qr_available_until(authenticator: Authenticator, *, policy: VerificationPolicy) -> datetime:
    """Until when the new authenticator's QR code can be fetched (if it is not used before)."""
    return authenticator.enrolled_at + policy.qr_shown_for


def authenticator_for_qr(
    session: Session, customer_id: uuid.UUID, *, now: datetime, policy: VerificationPolicy
) -> Authenticator:
    """The new authenticator whose QR code may still be shown (briefly, and before first use)."""
    authenticator = session.get(Authenticator, _customer(session, customer_id).id)
    if authenticator is None:
        raise NotFound(_l("the customer has no authenticator"), code="not_enrolled")
    if authenticator.first_used_at is not None or now > qr_available_until(
        authenticator, policy=policy
    ):
        minutes = round(policy.qr_shown_for.total_seconds() / 60)
        raise Gone(
            f"the QR code is shown only in the {minutes} minutes after enrolment and before "
            "first use: enrol again to show a new one"
        )
    return authenticator


class Gone(Conflict):
    status = 410
    code = "gone"


# ----- app codes -----


def issue_app_code(
    session: Session,
    customer_id: uuid.UUID,
    *,
    keyring: Keyring,
    now: datetime,
    actor: Actor,
    ttl: timedelta,
    digits: int,
    purpose: CodePurpose = CodePurpose.CALLBACK,
    callback_id: uuid.UUID | None = None,
) -> tuple[str, AppCode]:
    """A random code for the app to show; only its keyed hash is kept. Replaces the live one."""
    # Lock the customer's row, so that two mints at once cannot leave two live codes.
    customer = session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    if callback_id is not None:
        callback = session.get(Callback, callback_id)
        if callback is None or callback.customer_id != customer.id:
            raise InvalidInput(
                _l("callback_id: not a callback of this customer"),
                field="callback_id",
                code="unknown",
            )
        if callback.status is CallbackStatus.DONE:
            raise Conflict(
                _l("callback_id: that callback is already over"), field="callback_id", code="closed"
            )
        if purpose is not CodePurpose.CALLBACK:
            raise InvalidInput(
                _l("purpose: a code for a callback has the purpose 'callback'"),
                field="purpose",
                code="invalid",
            )
    session.execute(
        update(AppCode)
        .where(
            AppCode.customer_id == customer.id,
            AppCode.used_at.is_(None),
            AppCode.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    code = f"{secrets.randbelow(10**digits):0{digits}d}"
    key_id = keyring.current.id
    app_code = AppCode(
        id=uuid.uuid4(),
        customer_id=customer.id,
        purpose=purpose,
        callback_id=callback_id,
        key_id=key_id,
        code_hash=keyring.digest(key_id, f"{customer.id}:{code}"),
        expires_at=now + ttl,
        created_at=now,
    )
    session.add(app_code)
    record(
        session,
        actor=actor,
        action="app_code.issued",
        subject_type="customer",
        subject_id=customer.id,
        changes={
            "purpose": purpose.value,
            "callback_id": callback_id,
            "expires_at": app_code.expires_at,
        },
    )
    return code, app_code


# ----- checking a code -----


@dataclass(frozen=True)
class Check:
    result: AttemptResult
    method: str | None = None
    locked_now: bool = False  # this failure locked the customer


def active_lock(session: Session, customer_id: uuid.UUID) -> VerificationLock | None:
    return session.scalar(
        select(VerificationLock).where(
            VerificationLock.customer_id == customer_id, VerificationLock.cleared_at.is_(None)
        )
    )


def check_code(
    session: Session,
    customer_id: uuid.UUID,
    code: str,
    *,
    keyring: Keyring,
    now: datetime,
    actor: Actor,
    policy: VerificationPolicy,
    call_id: uuid.UUID | None = None,
    callback_id: uuid.UUID | None = None,
    inbound: bool = False,
) -> Check:
    """Check a typed code, spend it if it is right, and count it if it is not.

    The code is never stored, logged or audited: only which kind matched and the result. On
    one of our lines (`inbound`) an app code for calling us works, and so does the code of the
    callback the caller is about to take there (`callback_id`). Checks of one customer run one
    at a time (until the caller commits), so the lock is read after every earlier failure is
    counted: calls typing codes in parallel never get past it.
    """
    _one_check_at_a_time(session, customer_id)
    check: Check | None
    if active_lock(session, customer_id) is not None:
        check = Check(AttemptResult.LOCKED)
    else:
        check = _app_code(
            session,
            customer_id,
            code,
            keyring=keyring,
            now=now,
            callback_id=callback_id,
            purposes=(
                (CodePurpose.INBOUND_CALL, CodePurpose.CALLBACK)
                if inbound and callback_id is not None
                else (CodePurpose.INBOUND_CALL,)
                if inbound
                else (CodePurpose.CALLBACK,)
            ),
        )
        if check is None or check.result is not AttemptResult.VERIFIED:
            by_totp = _authenticator(
                session, customer_id, code, keyring=keyring, now=now, policy=policy
            )
            if by_totp is not None and (check is None or by_totp.result is AttemptResult.VERIFIED):
                check = by_totp
        if check is None:
            check = Check(AttemptResult.NOTHING_ENROLLED)
    session.add(
        VerificationAttempt(
            customer_id=customer_id,
            call_id=call_id,
            callback_id=callback_id,
            method=check.method,
            result=check.result,
            created_at=now,
        )
    )
    record(
        session,
        actor=actor,
        action="verification.attempt",
        subject_type="customer",
        subject_id=customer_id,
        changes={
            "result": check.result.value,
            "method": check.method,
            "call_id": call_id,
            "callback_id": callback_id,
        },
    )
    if check.result in (AttemptResult.VERIFIED, AttemptResult.LOCKED):
        return check
    session.flush()
    if _lock_if_too_many(session, customer_id, now=now, actor=actor, policy=policy):
        return Check(check.result, check.method, locked_now=True)
    return check


def _one_check_at_a_time(session: Session, customer_id: uuid.UUID) -> None:
    """Hold the customer's row until the transaction ends, so their code checks queue up."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a write takes the database's write lock until the commit.
        # (updated_at set to itself: the row is not changed, nor its onupdate time.)
        session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(updated_at=Customer.updated_at)
            .execution_options(synchronize_session=False)
        )
        return
    # FOR NO KEY UPDATE: rows that merely refer to the customer (a dialer's attempt) need not wait.
    session.execute(
        select(Customer.id).where(Customer.id == customer_id).with_for_update(key_share=True)
    )


def _app_code(
    session: Session,
    customer_id: uuid.UUID,
    code: str,
    *,
    keyring: Keyring,
    now: datetime,
    callback_id: uuid.UUID | None,
    purposes: tuple[CodePurpose, ...],
) -> Check | None:
    """The live app code's verdict; None when the customer has no app code to compare with."""
    candidates = list(
        session.scalars(
            select(AppCode)
            .where(
                AppCode.customer_id == customer_id,
                AppCode.created_at >= now - timedelta(days=1),
            )
            .order_by(AppCode.created_at.desc())
            .limit(5)
        )
    )
    if not candidates:
        return None
    matched = None
    for candidate in candidates:  # compare with all of them, whichever matches
        try:
            digest = keyring.digest(candidate.key_id, f"{customer_id}:{code}")
        except UnknownKey:
            continue
        if hmac.compare_digest(digest, candidate.code_hash) and matched is None:
            matched = candidate
    if matched is None:
        return Check(AttemptResult.WRONG, "app_code")
    if matched.used_at is not None:
        return Check(AttemptResult.REPLAYED, "app_code")
    if (
        matched.replaced_at is not None
        or now > matched.expires_at
        or matched.purpose not in purposes
        or (matched.callback_id is not None and matched.callback_id != callback_id)
    ):
        return Check(AttemptResult.WRONG, "app_code")
    spent = session.execute(
        update(AppCode)
        .where(AppCode.id == matched.id, AppCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_matched(spent) != 1:  # another call used it a moment ago
        return Check(AttemptResult.REPLAYED, "app_code")
    return Check(AttemptResult.VERIFIED, "app_code")


def _authenticator(
    session: Session,
    customer_id: uuid.UUID,
    code: str,
    *,
    keyring: Keyring,
    now: datetime,
    policy: VerificationPolicy,
) -> Check | None:
    authenticator = session.get(Authenticator, customer_id)
    if authenticator is None:
        return None
    try:
        totp = _totp(authenticator, keyring)
    except UnknownKey:
        log.error("authenticator secret unreadable", extra={"key_id": authenticator.key_id})
        return Check(AttemptResult.WRONG, "authenticator")
    current = int(now.timestamp()) // authenticator.period
    matched_step = None
    drift = policy.totp_steps_either_side
    for step in range(current - drift, current + drift + 1):  # all of them, whichever matches
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected.encode(), code.encode()) and matched_step is None:
            matched_step = step
    if matched_step is None:
        return Check(AttemptResult.WRONG, "authenticator")
    spent = session.execute(
        update(Authenticator)
        .where(
            Authenticator.customer_id == customer_id,
            Authenticator.key_id == authenticator.key_id,
            Authenticator.enrolled_at == authenticator.enrolled_at,
            or_(
                Authenticator.last_used_step.is_(None),
                Authenticator.last_used_step < matched_step,
            ),
        )
        .values(
            last_used_step=matched_step,
            first_used_at=func.coalesce(Authenticator.first_used_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    if rows_matched(spent) != 1:  # this step (or a newer one) was used already
        return Check(AttemptResult.REPLAYED, "authenticator")
    session.expire(authenticator)
    return Check(AttemptResult.VERIFIED, "authenticator")


def failures_counted(
    session: Session, customer_id: uuid.UUID, *, now: datetime, policy: VerificationPolicy
) -> int:
    """Failed tries in the window, since the last lock was cleared."""
    since = now - policy.lock_window
    cleared = session.scalar(
        select(func.max(VerificationLock.cleared_at)).where(
            VerificationLock.customer_id == customer_id
        )
    )
    if cleared is not None and cleared > since:
        since = cleared
    return (
        session.scalar(
            select(func.count())
            .select_from(VerificationAttempt)
            .where(
                VerificationAttempt.customer_id == customer_id,
                VerificationAttempt.created_at > since,
                VerificationAttempt.result.not_in([AttemptResult.VERIFIED, AttemptResult.LOCKED]),
            )
        )
        or 0
    )


def _lock_if_too_many(
    session: Session,
    customer_id: uuid.UUID,
    *,
    now: datetime,
    actor: Actor,
    policy: VerificationPolicy,
) -> bool:
    failures = failures_counted(session, customer_id, now=now, policy=policy)
    if failures < policy.lock_after_failures or active_lock(session, customer_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(VerificationLock(customer_id=customer_id, failures=failures, locked_at=now))
    except IntegrityError:  # another call locked the customer at the same moment
        return True
    record(
        session,
        actor=actor,
        action="verification.locked",
        subject_type="customer",
        subject_id=customer_id,
        changes={"failures": failures, "window_hours": policy.lock_window.total_seconds() / 3600},
    )
    log.warning("customer locked after failed codes", extra={"customer_id": str(customer_id)})
    return True


# ----- locks -----

UNLOCKED_BY = ("app", "supervisor")


def clear_lock(
    session: Session,
    customer_id: uuid.UUID,
    *,
    cleared_by: str,
    note: str | None,
    now: datetime,
    actor: Actor,
) -> VerificationLock:
    """Let the customer verify with codes again (a success in the app, or a supervisor)."""
    _customer(session, customer_id)
    lock = active_lock(session, customer_id)
    if lock is None:
        raise Conflict(_l("the customer is not locked"), code="not_locked")
    lock.cleared_at, lock.cleared_by, lock.clear_note = now, cleared_by, note
    record(
        session,
        actor=actor,
        action="verification.unlocked",
        subject_type="customer",
        subject_id=customer_id,
        changes={"cleared_by": cleared_by, "note": note, "locked_at": lock.locked_at},
    )
    return lock


def state(
    session: Session, customer_id: uuid.UUID, *, now: datetime, policy: VerificationPolicy
) -> dict[str, Any]:
    """What a supervisor or the app may know: enrolments, the lock, the failure count. No codes."""
    customer = _customer(session, customer_id)
    authenticator = session.get(Authenticator, customer.id)
    live = session.scalar(
        select(AppCode).where(
            AppCode.customer_id == customer.id,
            AppCode.used_at.is_(None),
            AppCode.replaced_at.is_(None),
            AppCode.expires_at >= now,
        )
    )
    lock = active_lock(session, customer.id)
    return {
        "customer_id": customer.id,
        "authenticator": None
        if authenticator is None
        else {
            "enrolled_at": authenticator.enrolled_at,
            "first_used_at": authenticator.first_used_at,
        },
        "app_code": None
        if live is None
        else {
            "purpose": live.purpose.value,
            "callback_id": live.callback_id,
            "expires_at": live.expires_at,
        },
        "locked": lock is not None,
        "locked_at": lock.locked_at if lock else None,
        "failures": failures_counted(session, customer.id, now=now, policy=policy),
        "max_failures": policy.lock_after_failures,
    }


def _customer(session: Session, customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    return customer

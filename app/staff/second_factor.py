"""The staff's second factor: an authenticator app (TOTP, RFC 6238) and one-time recovery codes.

The secret is sealed with the VERIFICATION_KEYS keyring (AES-256-GCM, bound to the account), a
code works once (the step it belongs to is remembered) and recovery codes are kept as keyed
hashes. The keyring is a collaborator the caller passes in: this package sits below the
verification domain that owns it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from datetime import datetime
from typing import Protocol

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.errors import Conflict, InvalidInput
from app.staff.models import RecoveryCode, Role, SecondFactorUsed, StaffUser

PERIOD_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # a code from the step before or after is still accepted (a phone's clock)
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH = 10  # about 49 bits each


class _KeyId(Protocol):
    @property
    def id(self) -> str: ...


class Keys(Protocol):
    """What this module needs of app.verification.keys.Keyring."""

    @property
    def current(self) -> _KeyId: ...

    def encrypt(self, plaintext: bytes, *, context: str) -> tuple[str, bytes]: ...

    def decrypt(self, key_id: str, blob: bytes, *, context: str) -> bytes: ...

    def digest(self, key_id: str, message: str) -> str: ...


def required_for(role: Role, setting: str) -> bool:
    """Whether this role must have a second factor: STAFF_2FA_REQUIRED_FOR is supervisor or all."""
    return setting.strip().lower() == "all" or role is Role.SUPERVISOR


def enrolled(user: StaffUser) -> bool:
    return user.totp_secret is not None


def pending_secret(session: Session, user: StaffUser, *, keys: Keys) -> str:
    """The base32 secret of the enrolment under way, begun now if there is none."""
    if user.totp_pending_secret:
        return base64.b32encode(_open(user.totp_pending_secret, user, keys)).decode()
    raw = secrets.token_bytes(20)  # 160 bits, as RFC 4226 recommends
    user.totp_pending_secret = _seal(raw, user, keys)
    return base64.b32encode(raw).decode()


def provisioning_uri(user: StaffUser, secret: str, *, issuer: str) -> str:
    """otpauth://totp/Issuer:email?secret=...: what the QR code carries."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_SECONDS).provisioning_uri(
        name=user.email, issuer_name=issuer
    )


def qr_svg(uri: str, *, title: str) -> str:
    """The QR code of the URI as an inline SVG element (no image request, nothing cached)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, title=title))


def confirm_enrolment(
    session: Session, user: StaffUser, code: str, *, keys: Keys, now: datetime, actor: Actor
) -> list[str]:
    """The first code from the app proves it holds the secret: it becomes the account's second
    factor, replacing any before, and 10 new recovery codes are made (returned, shown once)."""
    if not user.totp_pending_secret:
        raise Conflict(_l("no enrolment is under way: start again"), field="code")
    raw = _open(user.totp_pending_secret, user, keys)
    step = _matching_step(raw, _digits(code), now=now, after=None)
    if step is None:
        raise InvalidInput(
            _l("code: that is not the code your app shows now; try the next one"), field="code"
        )
    replaced = enrolled(user)
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    user.totp_enrolled_at, user.totp_last_step = now, step
    record(
        session,
        actor=actor,
        action="staff.second_factor_enrolled",
        subject_type="staff",
        subject_id=user.email,
        changes={"replaced": replaced},
    )
    return new_recovery_codes(session, user, keys=keys, now=now, actor=actor)


def new_recovery_codes(
    session: Session, user: StaffUser, *, keys: Keys, now: datetime, actor: Actor
) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working); only their hashes are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))]
    while len(codes) < RECOVERY_CODES:
        codes.append("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH)))
    key_id = keys.current.id
    for code in codes:
        session.add(
            RecoveryCode(
                staff_id=user.id, key_id=key_id, digest=keys.digest(key_id, code), created_at=now
            )
        )
    record(
        session,
        actor=actor,
        action="staff.recovery_codes_made",
        subject_type="staff",
        subject_id=user.email,
        changes={"count": len(codes)},
    )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(session: Session, user: StaffUser) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def check(
    session: Session, user: StaffUser, code: str, *, keys: Keys, now: datetime
) -> SecondFactorUsed | None:
    """Whether the code (the app's 6 digits, or a recovery code) passes; each works only once."""
    typed = "".join(code.split()).replace("-", "").lower()
    if not enrolled(user) or not typed:
        return None
    if typed.isdigit():
        assert user.totp_secret is not None
        raw = _open(user.totp_secret, user, keys)
        step = _matching_step(raw, typed, now=now, after=user.totp_last_step)
        if step is None:
            return None
        user.totp_last_step = step
        return SecondFactorUsed.AUTHENTICATOR
    unused = session.scalars(
        select(RecoveryCode).where(RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    found = None
    for row in unused:  # every row compared, in constant time, whichever matches
        if hmac.compare_digest(keys.digest(row.key_id, typed).encode(), row.digest.encode()):
            found = row
    if found is None:
        return None
    found.used_at = now
    return SecondFactorUsed.RECOVERY_CODE


def remove(session: Session, user: StaffUser, *, actor: Actor) -> None:
    """Forget the account's second factor (a lost phone): their next sign-in enrols again."""
    user.totp_secret = user.totp_pending_secret = None
    user.totp_enrolled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == user.id))
    record(
        session,
        actor=actor,
        action="staff.second_factor_reset",
        subject_type="staff",
        subject_id=user.email,
    )


def _digits(code: str) -> str:
    return "".join(code.split())


def _matching_step(raw: bytes, code: str, *, now: datetime, after: int | None) -> int | None:
    """The time step whose code this is, within the allowed drift and after the last one used."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(base64.b32encode(raw).decode(), digits=DIGITS, interval=PERIOD_SECONDS)
    current = int(now.timestamp()) // PERIOD_SECONDS
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        expected = totp.generate_otp(step)
        # Compared for every step (no early exit), in constant time.
        if hmac.compare_digest(expected.encode(), code.encode()) and (
            after is None or step > after
        ):
            found = step
    return found


def _context(user: StaffUser) -> str:
    return f"staff-totp:{user.id}"


def _seal(raw: bytes, user: StaffUser, keys: Keys) -> str:
    key_id, blob = keys.encrypt(raw, context=_context(user))
    return f"{key_id}:{base64.urlsafe_b64encode(blob).decode()}"


def _open(sealed: str, user: StaffUser, keys: Keys) -> bytes:
    key_id, _, text = sealed.partition(":")
    try:
        blob = base64.urlsafe_b64decode(text)
    except (binascii.Error, ValueError):
        raise Conflict(
            _l("the stored second factor is damaged: ask a supervisor to reset it")
        ) from None
    return keys.decrypt(key_id, blob, context=_context(user))


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at that moment (for tests and the enrolment check)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_SECONDS).at(moment)

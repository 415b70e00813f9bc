"""Staff accounts: argon2id password hashes, roles, sign-in."""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.service import Actor, record
from app.errors import Conflict, InvalidInput, NotFound
from app.staff.models import (
    EndReason,
    PasswordReset,
    Role,
    SecondFactorUsed,
    SignInEvent,
    SignInFailure,
    StaffSession,
    StaffUser,
)

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD = 12
RESET_LIFETIME = timedelta(hours=24)
# Compared against when the email is unknown, so that a wrong email takes as long as a wrong
# password (nothing tells which emails have accounts).
_DUMMY_HASH = HASHER.hash("not-a-real-password-for-timing")


def create_staff(
    session: Session, *, email: str, name: str, role: Role, password: str, actor: Actor
) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(_l("email: not an email address"), field="email")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            _l("password: at least %(count)d characters", count=MIN_PASSWORD),
            field="password",
            code="too_short",
        )
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        raise Conflict(
            _l("email: %(email)s already has an account", email=email),
            field="email",
            code="duplicate",
        )
    user = StaffUser(
        id=uuid.uuid4(),
        email=email,
        name=name.strip() or email,
        role=role,
        password_hash=HASHER.hash(password),
    )
    session.add(user)
    record(
        session,
        actor=actor,
        action="staff.created",
        subject_type="staff",
        subject_id=user.email,
        changes={"role": role.value, "name": user.name},
    )
    return user


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> StaffUser | None:
    user = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == (email or "").strip().lower())
    )
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    return user


def find(session: Session, staff_id: uuid.UUID) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound(_l("no staff account has this id"))
    return user


def set_active(
    session: Session, user: StaffUser, *, active: bool, actor: Actor, now: datetime
) -> None:
    """Deactivate (ending every session) or reactivate an account; the last active supervisor
    stays."""
    if user.active == active:
        return
    if not active:
        _keep_a_supervisor(session, user)
        end_sessions(session, user, reason=EndReason.DEACTIVATED, now=now, actor=actor)
    user.active = active
    record(
        session,
        actor=actor,
        action="staff.enabled" if active else "staff.disabled",
        subject_type="staff",
        subject_id=user.email,
    )


def change_role(
    session: Session, user: StaffUser, role: Role, *, actor: Actor, now: datetime
) -> None:
    """A new role; their sessions end, so the next sign-in has the new role's rules (a new
    supervisor enrols a second factor)."""
    if user.role is role:
        return
    if user.role is Role.SUPERVISOR:
        _keep_a_supervisor(session, user)
    before, user.role = user.role, role
    end_sessions(session, user, reason=EndReason.ROLE_CHANGED, now=now, actor=actor)
    record(
        session,
        actor=actor,
        action="staff.role_changed",
        subject_type="staff",
        subject_id=user.email,
        changes={"role": [before.value, role.value]},
    )


def _keep_a_supervisor(session: Session, user: StaffUser) -> None:
    if user.role is not Role.SUPERVISOR or not user.active:
        return
    others = session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == Role.SUPERVISOR, StaffUser.active, StaffUser.id != user.id)
    )
    if not others:
        raise Conflict(
            _l("this is the last active supervisor: make someone else a supervisor first"),
            code="last_supervisor",
        )


def end_sessions(
    session: Session,
    user: StaffUser,
    *,
    reason: EndReason,
    now: datetime,
    actor: Actor,
    keep: str | None = None,
) -> int:
    """End every open session of the account (but `keep`, the one in use), each audited."""
    rows = session.scalars(
        select(StaffSession).where(
            StaffSession.staff_id == user.id, StaffSession.ended_at.is_(None)
        )
    ).all()
    ended = 0
    for row in rows:
        if row.id == keep:
            continue
        row.ended_at, row.end_reason = now, reason.value
        record(
            session,
            actor=actor,
            action=SignInEvent.SIGNED_OUT.value,
            subject_type="staff",
            subject_id=user.email,
            changes={"reason": reason.value},
        )
        ended += 1
    return ended


def _check_new_password(password: str, repeat: str, *, field: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            _l("%(field)s: at least %(count)d characters", field=field, count=MIN_PASSWORD),
            field=field,
            code="too_short",
        )
    if password != repeat:
        raise InvalidInput(_l("repeat: the two passwords differ"), field="repeat", code="mismatch")


def change_password(
    session: Session,
    user: StaffUser,
    *,
    current: str,
    new: str,
    repeat: str,
    actor: Actor,
    now: datetime,
    keep_session: str | None,
) -> None:
    """Someone changes their own password (the current one first); their other sessions end."""
    try:
        HASHER.verify(user.password_hash, current or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise InvalidInput(
            _l("current_password: that is not your current password"), field="current_password"
        ) from None
    _check_new_password(new, repeat, field="new_password")
    user.password_hash = HASHER.hash(new)
    end_sessions(
        session, user, reason=EndReason.PASSWORD_CHANGED, now=now, actor=actor, keep=keep_session
    )
    record(
        session,
        actor=actor,
        action="staff.password_changed",
        subject_type="staff",
        subject_id=user.email,
    )


def issue_password_reset(session: Session, user: StaffUser, *, actor: Actor, now: datetime) -> str:
    """A one-time token for a new password, for 24 hours (earlier ones stop working); only its
    hash is kept, so the caller shows it once."""
    for earlier in session.scalars(
        select(PasswordReset).where(
            PasswordReset.staff_id == user.id, PasswordReset.used_at.is_(None)
        )
    ):
        earlier.used_at = now  # replaced
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            staff_id=user.id,
            token_hash=_token_hash(token),
            created_by=actor.label,
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
    )
    record(
        session,
        actor=actor,
        action="staff.password_reset_issued",
        subject_type="staff",
        subject_id=user.email,
        changes={"expires_at": now + RESET_LIFETIME},
    )
    return token


def password_reset(session: Session, token: str, *, now: datetime) -> PasswordReset | None:
    """The reset this token opens, if it is unused and unexpired."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def reset_password(
    session: Session, token: str, *, new: str, repeat: str, now: datetime, actor: Actor
) -> StaffUser:
    """Set a new password through a reset link (once); every session of the account ends."""
    row = password_reset(session, token, now=now)
    if row is None:
        raise InvalidInput(_l("token: this link has expired or was used already"), field="token")
    user = session.get_one(StaffUser, row.staff_id)
    _check_new_password(new, repeat, field="new_password")
    row.used_at = now
    user.password_hash = HASHER.hash(new)
    end_sessions(session, user, reason=EndReason.PASSWORD_CHANGED, now=now, actor=actor)
    record(
        session,
        actor=actor,
        action="staff.password_reset",
        subject_type="staff",
        subject_id=user.email,
    )
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignInRecord:
    """One line of an account's sign-in history."""

    at: datetime
    event: SignInEvent
    detail: enum.Enum | None  # how (a second factor) or why (a failure, an end)
    address: str | None


def _detail(event: SignInEvent, changes: dict[str, Any]) -> enum.Enum | None:
    value = changes.get("second_factor") or changes.get("reason")
    kind: type[enum.Enum] = {
        SignInEvent.SIGNED_IN: SecondFactorUsed,
        SignInEvent.SIGN_IN_FAILED: SignInFailure,
        SignInEvent.SIGNED_OUT: EndReason,
    }[event]
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def sign_in_history(session: Session, user: StaffUser, *, limit: int = 50) -> list[SignInRecord]:
    """The account's latest sign-ins, failed attempts and sign-outs, newest first."""
    rows = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.subject_type == "staff",
            AuditEvent.subject_id == user.email,
            AuditEvent.action.in_([event.value for event in SignInEvent]),
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    history = []
    for row in rows:
        event = SignInEvent(row.action)
        changes = row.changes or {}
        history.append(
            SignInRecord(row.occurred_at, event, _detail(event, changes), changes.get("address"))
        )
    return history

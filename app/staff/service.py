"""Staff accounts: argon2id password hashes, roles, sign-in."""

from __future__ import annotations

import uuid
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.errors import Conflict, InvalidInput, NotFound
from app.staff.models import Role, StaffUser

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD = 12
# Compared against when the email is unknown, so that a wrong email takes as long as a wrong
# password (nothing tells which emails have accounts).
_DUMMY_HASH = HASHER.hash("not-a-real-password-for-timing")


def create_staff(
    session: Session, *, email: str, name: str, role: Role, password: str, actor: Actor
) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput("email: not an email address", field="email")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password: at least {MIN_PASSWORD} characters", field="password", code="too_short"
        )
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        raise Conflict(f"email: {email} already has an account", field="email", code="duplicate")
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
    user.last_login_at = now
    return user


def set_active(session: Session, email: str, *, active: bool, actor: Actor) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no staff account {email}")
    user.active = active
    record(
        session,
        actor=actor,
        action="staff.enabled" if active else "staff.disabled",
        subject_type="staff",
        subject_id=user.email,
    )
    return user

"""Console sessions: sign-in with rate limits, expiry, CSRF on every form, roles per view."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import func, select

from app.audit.service import Actor, record
from app.extensions import db
from app.staff.models import EndReason, Role, SignInEvent, SignInFailure, StaffSession, StaffUser

IDLE_SECONDS = 30 * 60  # a console left alone signs out
MAX_SESSION_SECONDS = 12 * 60 * 60  # and no session outlives a working day
SEEN_PRECISION_SECONDS = 30  # activity is written at most this often
SECOND_STEP_SECONDS = 5 * 60  # the code (or the enrolment) follows the password within this

READ = (Role.SUPERVISOR, Role.AGENT, Role.AUDITOR)
WORK = (Role.SUPERVISOR, Role.AGENT)  # complaints and fraud cases
RUN = (Role.SUPERVISOR,)  # campaigns, numbers, staff, the do-not-call list


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(user: StaffUser, *, second_factor: str | None = None) -> None:
    """Open a server-side session for the user (the caller commits)."""
    session.clear()
    token, now = secrets.token_urlsafe(32), _now()
    db.session.add(StaffSession(id=_token_id(token), staff_id=user.id, created_at=now, seen_at=now))
    user.last_login_at = now
    _audit(
        user.id,
        SignInEvent.SIGNED_IN,
        {"second_factor": second_factor or "none", "address": request.remote_addr},
    )
    session["sid"] = token
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def session_token_id() -> str | None:
    """The stored id of the session in use (to keep it when ending someone's other sessions)."""
    token = session.get("sid")
    return _token_id(token) if isinstance(token, str) else None


def begin_second_step(user: StaffUser, *, target: str, enrol: bool) -> None:
    """The password was right: the same browser must now give a code (or enrol one) in time.

    Only who, when and where to go are kept in the (signed) cookie; the attempts are counted
    server-side, by the rate limits.
    """
    session.clear()
    session["second_step"] = {
        "staff": str(user.id),
        "at": time.time(),
        "target": target,
        "enrol": enrol,
    }
    session["csrf"] = secrets.token_urlsafe(32)


def second_step() -> tuple[StaffUser, str, bool] | None:
    """(who, where to go next, whether they must enrol) for a sign-in between its two steps."""
    pending = session.get("second_step")
    if not isinstance(pending, dict):
        return None
    try:
        staff_id = uuid.UUID(str(pending.get("staff")))
        started = float(pending.get("at", 0))
    except (TypeError, ValueError):
        return None
    if time.time() - started > SECOND_STEP_SECONDS:
        session.pop("second_step", None)
        return None
    user = db.session.get(StaffUser, staff_id)
    if user is None or not user.active:
        return None
    return user, str(pending.get("target") or ""), bool(pending.get("enrol"))


def end_second_step() -> None:
    session.pop("second_step", None)


def sign_in_failed(email: str, reason: SignInFailure) -> None:
    """A failed attempt goes to that account's sign-in history (nothing is kept for unknown
    emails: their attempts are only counted by the rate limits). The caller commits."""
    user = db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is not None:
        _audit(
            user.id,
            SignInEvent.SIGN_IN_FAILED,
            {"reason": reason.value, "address": request.remote_addr},
        )


def sign_out() -> None:
    """End the session in the database, so a copy of the cookie stops working too."""
    token = session.get("sid")
    if isinstance(token, str):
        _end(db.session.get(StaffSession, _token_id(token)), EndReason.SIGNED_OUT)
    session.clear()


def _end(row: StaffSession | None, reason: EndReason) -> None:
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = _now(), reason.value
        changes = {"reason": reason.value, "address": request.remote_addr}
        _audit(row.staff_id, SignInEvent.SIGNED_OUT, changes)
        db.session.commit()


def _audit(staff_id: uuid.UUID, action: SignInEvent, changes: dict[str, Any]) -> None:
    user = db.session.get(StaffUser, staff_id)
    label = f"staff:{user.email}" if user else f"staff:{staff_id}"
    record(
        db.session(),
        actor=Actor(label, request_id=g.get("request_id")),
        action=action.value,
        subject_type="staff",
        subject_id=user.email if user else staff_id,
        changes=changes,
    )


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Every state-changing console request carries the session's token (form or header)."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    # As bytes: compare_digest refuses str with characters outside ASCII (a forged header may).
    if not expected or not hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    ):
        abort(400, description="the form expired or did not come from this console: reload it")


def current_staff(*, background: bool = False) -> StaffUser | None:
    """The signed-in staff member; a background poll does not count as activity."""
    if "staff" in g:
        return g.staff
    g.staff = None
    token = session.get("sid")
    row = db.session.get(StaffSession, _token_id(token)) if isinstance(token, str) else None
    if row is None or row.ended_at is not None:
        if token is not None:
            session.clear()
        return None
    now = _now()
    user = db.session.get(StaffUser, row.staff_id)
    if now - row.created_at > timedelta(seconds=MAX_SESSION_SECONDS):
        reason = EndReason.TOO_OLD
    elif now - row.seen_at > timedelta(seconds=IDLE_SECONDS):
        reason = EndReason.IDLE
    elif user is None or not user.active:
        reason = EndReason.DEACTIVATED
    else:
        if not background and now - row.seen_at >= timedelta(seconds=SEEN_PRECISION_SECONDS):
            row.seen_at = now
            db.session.commit()
        g.staff = user
        return user
    _end(row, reason)
    session.clear()
    return None


def staff_actor() -> Actor:
    user = current_staff()
    return Actor(f"staff:{user.email}" if user else "anonymous", request_id=g.get("request_id"))


def require(
    roles: tuple[Role, ...], *, background: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs a signed-in staff member with one of these roles (and CSRF on POST).
    A background view (a screen's periodic refresh) does not keep an idle session alive."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_staff(background=background)
            if user is None:
                return redirect(url_for("console.login", next=request.full_path))
            if user.role not in roles:
                abort(403, description="your role does not allow this")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                check_csrf()
            return view(*args, **kwargs)

        return wrapped

    return decorate

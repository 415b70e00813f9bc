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

from app.audit.service import Actor, record
from app.extensions import db
from app.staff.models import Role, StaffSession, StaffUser

IDLE_SECONDS = 30 * 60  # a console left alone signs out
MAX_SESSION_SECONDS = 12 * 60 * 60  # and no session outlives a working day
SEEN_PRECISION_SECONDS = 30  # activity is written at most this often

READ = (Role.SUPERVISOR, Role.AGENT, Role.AUDITOR)
WORK = (Role.SUPERVISOR, Role.AGENT)  # complaints and fraud cases
RUN = (Role.SUPERVISOR,)  # campaigns, numbers, staff, the do-not-call list


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(user: StaffUser) -> None:
    """Open a server-side session for the user (the caller commits)."""
    session.clear()
    token, now = secrets.token_urlsafe(32), _now()
    db.session.add(StaffSession(id=_token_id(token), staff_id=user.id, created_at=now, seen_at=now))
    _audit(user.id, "console.signed_in", None)
    session["sid"] = token
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def sign_out() -> None:
    """End the session in the database, so a copy of the cookie stops working too."""
    token = session.get("sid")
    if isinstance(token, str):
        _end(db.session.get(StaffSession, _token_id(token)), "signed_out")
    session.clear()


def _end(row: StaffSession | None, reason: str) -> None:
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = _now(), reason
        _audit(row.staff_id, "console.signed_out", reason)
        db.session.commit()


def _audit(staff_id: uuid.UUID, action: str, reason: str | None) -> None:
    user = db.session.get(StaffUser, staff_id)
    label = f"staff:{user.email}" if user else f"staff:{staff_id}"
    changes = {"reason": reason} if reason else {}
    record(
        db.session(),
        actor=Actor(label, request_id=g.get("request_id")),
        action=action,
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
        reason = "too_old"
    elif now - row.seen_at > timedelta(seconds=IDLE_SECONDS):
        reason = "idle"
    elif user is None or not user.active:
        reason = "deactivated"
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

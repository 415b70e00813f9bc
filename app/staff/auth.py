"""Console sessions: sign-in with rate limits, expiry, CSRF on every form, roles per view."""

from __future__ import annotations

import functools
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from app.audit.service import Actor
from app.extensions import db
from app.staff.models import Role, StaffUser

IDLE_SECONDS = 30 * 60  # a console left alone signs out
MAX_SESSION_SECONDS = 12 * 60 * 60  # and no session outlives a working day

READ = (Role.SUPERVISOR, Role.AGENT, Role.AUDITOR)
WORK = (Role.SUPERVISOR, Role.AGENT)  # complaints and fraud cases
RUN = (Role.SUPERVISOR,)  # campaigns, numbers, staff, the do-not-call list


def sign_in(user: StaffUser) -> None:
    session.clear()
    session["staff_id"] = str(user.id)
    session["signed_in_at"] = session["seen_at"] = int(time.time())
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Every state-changing console request carries the session's token (form or header)."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="the form expired or did not come from this console: reload it")


def current_staff() -> StaffUser | None:
    if "staff" in g:
        return g.staff
    g.staff = None
    staff_id, now = session.get("staff_id"), int(time.time())
    if staff_id:
        fresh = now - session.get("seen_at", 0) <= IDLE_SECONDS
        young = now - session.get("signed_in_at", 0) <= MAX_SESSION_SECONDS
        user = db.session.get(StaffUser, uuid.UUID(staff_id)) if fresh and young else None
        if user is not None and user.active:
            session["seen_at"] = now
            g.staff = user
        else:
            session.clear()
    return g.staff


def staff_actor() -> Actor:
    user = current_staff()
    return Actor(f"staff:{user.email}" if user else "anonymous", request_id=g.get("request_id"))


def require(roles: tuple[Role, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs a signed-in staff member with one of these roles (and CSRF on POST)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                return redirect(url_for("console.login", next=request.full_path))
            if user.role not in roles:
                abort(403, description="your role does not allow this")
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                check_csrf()
            return view(*args, **kwargs)

        return wrapped

    return decorate

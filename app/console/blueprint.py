"""The console's one blueprint, what every screen shares, and the roles each route declares.

Each screen is a module of this package that adds its routes to `bp`; `app.console.views`
imports them all. A route says who may use it with `@requires_role(...)` or `@public`, never
inside its body; a test walks the URL map and checks that every console route does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app import clock
from app.errors import DomainError
from app.inputs import refuse_control_characters
from app.locales import SUPPORTED_LOCALES
from app.staff.auth import csrf_token, current_staff, require
from app.staff.models import Role

bp = Blueprint("console", __name__, url_prefix="/console")

#: The attribute a console view carries: the roles that may use it (empty: anyone, signed in
#: or not, e.g. the sign-in page).
ROLES_ATTRIBUTE = "console_roles"


def requires_role(
    roles: Iterable[Role], *, background: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The route needs a signed-in staff member with one of these roles (and CSRF on POST).

    A background route (a screen's periodic refresh) does not keep an idle session alive.
    """
    allowed = tuple(roles)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = require(allowed, background=background)(view)
        setattr(wrapped, ROLES_ATTRIBUTE, allowed)
        return wrapped

    return decorate


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """The route is open to anyone (signing in and out); it checks CSRF itself."""
    setattr(view, ROLES_ATTRIBUTE, ())
    return view


@bp.app_context_processor
def _context() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "staff": current_staff(),
    }


@bp.before_request
def _printable_input() -> None:
    """Path parts, query and form fields with control characters are refused before any view."""
    refuse_control_characters(request.view_args or {})
    refuse_control_characters(request.args)
    refuse_control_characters(request.form, multiline=["note", "notes"])


#: The console's own advice where the public page's would send staff to the customers' home page.
_ADVICE = {
    403: _l("Your role does not open this screen. If you need it, ask a supervisor."),
    404: _l(
        "The address may be mistyped, or the record may not exist. Start again from a screen above."
    ),
}


def error_page_in_the_console(status: int, heading: Any, advice: Any) -> str | None:
    """An error on a console address, for a signed-in staff member: the console's page, with its
    screens, in their language and zone. Anyone else gets the public page (None)."""
    if not request.path.startswith(bp.url_prefix or "/console"):
        return None
    # After a 500 the database may be what failed: only someone already found is recognised.
    staff = g.get("staff") if status >= 500 else current_staff(background=True)
    if staff is None:
        return None
    language = staff.language if staff.language in SUPPORTED_LOCALES else "en"
    with force_locale(language):
        return render_template(
            "console/error.html",
            status=status,
            heading=str(heading),
            advice=str(_ADVICE.get(status, advice)),
        )


@bp.errorhandler(DomainError)
def _refused(error: DomainError) -> tuple[str, int]:
    """A refused request gets the console's page saying why, not a bare error."""
    return render_template("console/refused.html", message=error.message), error.status


def now() -> datetime:
    return clock.now()


def back(message: str, endpoint: str, **values: Any) -> Response:
    """Back to a screen, which shows the message (what was done)."""
    flash(message)
    return redirect(url_for(endpoint, **values))


def refused(message: str, endpoint: str, **values: Any) -> Response:
    """Back to a screen, which shows why the form was not accepted, as an error."""
    flash(message, "error")
    return redirect(url_for(endpoint, **values))

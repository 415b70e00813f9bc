"""Your settings: the console's language and the zone its times are shown in, your password,
your second factor and your sign-in history."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.audit.service import record
from app.console.blueprint import back, bp, now, requires_role
from app.console.forms import Form, read
from app.console.sign_in import (
    CodeForm,
    NewPasswordForm,
    password_problem,
    render_enrolment,
    wrong_first_code,
)
from app.errors import DomainError, RateLimited
from app.extensions import db
from app.i18n import LANGUAGE_NAMES, common_zones, valid_zone
from app.locales import SUPPORTED_LOCALES
from app.ratelimit import enforce
from app.staff import second_factor
from app.staff import service as staff_service
from app.staff.auth import READ, current_staff, session_token_id, staff_actor
from app.staff.models import StaffUser
from app.verification.checker import keyring_for


class SettingsForm(Form):
    language = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SUPPORTED_LOCALES, error=_l("one of {choices}")),
    )
    time_zone = ma.fields.String(load_default="")


class PasswordForm(NewPasswordForm):
    current_password = ma.fields.String(load_default="")


def _me() -> StaffUser:
    me = current_staff()
    assert me is not None  # requires_role signed them in
    return me


def _page(me: StaffUser, error: str | None) -> dict[str, Any]:
    return {
        "languages": LANGUAGE_NAMES,
        "zones": common_zones(),
        "error": error,
        "second_factor": second_factor.enrolled(me),
        "second_factor_required": second_factor.required_for(
            me.role, current_app.config["STAFF_2FA_REQUIRED_FOR"]
        ),
        "recovery_codes_left": second_factor.recovery_codes_left(db.session(), me),
        "history": staff_service.sign_in_history(db.session(), me, limit=20),
    }


@bp.route("/me", methods=["GET", "POST"])
@requires_role(READ)
def settings() -> str | Response | tuple[str, int]:
    me = _me()
    if request.method == "GET":
        return render_template("console/settings.html", **_page(me, None))
    form = read(SettingsForm, request.form)
    zone = form["time_zone"].strip()
    if zone and not valid_zone(zone):
        error = _("That is not a time zone we know. Pick one from the list.")
        return render_template("console/settings.html", **_page(me, error)), 422
    before = {"language": me.language, "time_zone": me.time_zone}
    me.language = form["language"]
    me.time_zone = zone or None
    record(
        db.session(),
        actor=staff_actor(),
        action="staff.settings_changed",
        subject_type="staff_user",
        subject_id=me.id,
        changes={"before": before, "after": {"language": me.language, "time_zone": me.time_zone}},
    )
    db.session.commit()
    with force_locale(me.language):  # the message is read in the language just chosen
        message = _("Your settings are saved.")
    return back(message, "console.settings")


@bp.route("/me/password", methods=["GET", "POST"])
@requires_role(READ)
def my_password() -> str | Response | tuple[str, int]:
    """Someone changes their own password, giving the current one; their other sessions end."""
    me = _me()
    if request.method == "GET":
        return render_template("console/password.html", errors={})
    form = read(PasswordForm, request.form)
    try:
        # Guessing the current password from a borrowed session is as slow as at the sign-in.
        enforce("password:staff", str(me.id), what="password attempts for this account")
        staff_service.change_password(
            db.session(),
            me,
            current=form["current_password"],
            new=form["new_password"],
            repeat=form["repeat"],
            actor=staff_actor(),
            now=now(),
            keep_session=session_token_id(),
        )
    except RateLimited as exc:
        error = _(
            "Too many attempts. Please try again in %(seconds)s seconds.", seconds=exc.retry_after
        )
        return render_template("console/password.html", errors={"current_password": error}), 429
    except DomainError as exc:
        db.session.rollback()
        errors = {exc.field or "new_password": password_problem(exc)}
        return render_template("console/password.html", errors=errors), 422
    db.session.commit()
    return back(
        _("Your password is changed. Your other sessions were signed out."), "console.settings"
    )


@bp.route("/me/second-factor", methods=["GET", "POST"])
@requires_role(READ)
def my_second_factor() -> str | Response | tuple[str, int]:
    """Set up an authenticator app (when none is), or make new recovery codes with a code."""
    me = _me()
    keys = keyring_for(current_app)
    enrolled = second_factor.enrolled(me)
    if request.method == "GET":
        if enrolled:
            return render_template(
                "console/second_factor.html",
                left=second_factor.recovery_codes_left(db.session(), me),
                error=None,
            )
        return render_enrolment(me, error=None, status=200, signed_in=True)
    code = read(CodeForm, request.form)["code"]
    try:
        enforce("login:code", str(me.id), what="codes for this account")
    except RateLimited as exc:
        error = _(
            "Too many attempts. Please try again in %(seconds)s seconds.", seconds=exc.retry_after
        )
        if enrolled:
            left = second_factor.recovery_codes_left(db.session(), me)
            page = render_template("console/second_factor.html", left=left, error=error)
            return page, 429
        return render_enrolment(me, error=error, status=429, signed_in=True)
    if not enrolled:
        try:
            codes = second_factor.confirm_enrolment(
                db.session(), me, code, keys=keys, now=now(), actor=staff_actor()
            )
        except DomainError:
            db.session.rollback()
            return render_enrolment(me, error=wrong_first_code(), status=422, signed_in=True)
        db.session.commit()
        return render_template("console/recovery_codes.html", codes=codes, next_url=None)
    if second_factor.check(db.session(), me, code, keys=keys, now=now()) is None:
        db.session.rollback()
        left = second_factor.recovery_codes_left(db.session(), me)
        error = _("That code is not right, or was used already. Wait for the next one.")
        return render_template("console/second_factor.html", left=left, error=error), 422
    codes = second_factor.new_recovery_codes(
        db.session(), me, keys=keys, now=now(), actor=staff_actor()
    )
    db.session.commit()
    return render_template("console/recovery_codes.html", codes=codes, next_url=None)

"""Signing in and out of the console: the password, then a code from the person's authenticator
app (or a recovery code), or enrolling one when their role requires it. Sessions are server-side
and audited by app.staff.auth."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.audit.service import Actor
from app.console.blueprint import bp, now, public
from app.console.forms import Form, read
from app.errors import DomainError, RateLimited
from app.extensions import db
from app.ratelimit import enforce
from app.staff import second_factor
from app.staff import service as staff_service
from app.staff.auth import (
    begin_second_step,
    check_csrf,
    end_second_step,
    second_step,
    sign_in,
    sign_in_failed,
    sign_out,
)
from app.staff.models import SecondFactorUsed, SignInFailure, StaffUser
from app.verification.checker import keyring_for


class SignInForm(Form):
    # Not limited in length: a long email or password is only a wrong one, with the same answer.
    email = ma.fields.String(load_default="")
    password = ma.fields.String(load_default="")


class SignInQuery(Form):
    next = ma.fields.String(load_default="")  # where to go once signed in: a console page


class CodeForm(Form):
    code = ma.fields.String(load_default="")  # 6 digits, or a recovery code; a long one is wrong


def _target(target: str) -> str:
    return target if target.startswith("/console") else url_for("console.dashboard")


def _actor(user: StaffUser) -> Actor:
    return Actor(f"staff:{user.email}")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("console/login.html", error=None)
    check_csrf()
    form = read(SignInForm, request.form)
    email = form["email"].strip().lower()
    try:
        enforce("login:address", what="sign-in attempts from your address")
        enforce("login:email", email or "-", what="sign-in attempts for this account")
    except RateLimited as exc:
        sign_in_failed(email, SignInFailure.TOO_MANY)
        db.session.commit()
        return render_template("console/login.html", error=_too_many(exc)), 429
    user = staff_service.authenticate(db.session(), email, form["password"], now=now())
    if user is None:
        db.session.rollback()
        sign_in_failed(email, SignInFailure.PASSWORD)
        db.session.commit()
        return render_template("console/login.html", error=_("Wrong email or password.")), 401
    target = _target(read(SignInQuery, request.args)["next"])
    if second_factor.enrolled(user):
        begin_second_step(user, target=target, enrol=False)
        db.session.commit()
        return redirect(url_for("console.login_code"))
    if second_factor.required_for(user.role, current_app.config["STAFF_2FA_REQUIRED_FOR"]):
        begin_second_step(user, target=target, enrol=True)
        db.session.commit()
        return redirect(url_for("console.login_enrol"))
    sign_in(user)
    db.session.commit()
    flash(_("Protect your account with a second factor: set it up on Your settings."))
    return redirect(target)


def _too_many(exc: RateLimited) -> str:
    return _("Too many attempts. Please try again in %(seconds)s seconds.", seconds=exc.retry_after)


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code() -> Response | str | tuple[str, int]:
    """The second step: the code the person's authenticator app shows, or a recovery code."""
    pending = second_step()
    if pending is None:
        return redirect(url_for("console.login"))
    user, target, enrol = pending
    if enrol:
        return redirect(url_for("console.login_enrol"))
    if request.method == "GET":
        return render_template("console/login_code.html", error=None)
    check_csrf()
    code = read(CodeForm, request.form)["code"]
    try:
        enforce("login:code", str(user.id), what="codes for this account")
    except RateLimited as exc:
        sign_in_failed(user.email, SignInFailure.TOO_MANY)
        db.session.commit()
        return render_template("console/login_code.html", error=_too_many(exc)), 429
    method = second_factor.check(db.session(), user, code, keys=keyring_for(current_app), now=now())
    if method is None:
        db.session.rollback()
        sign_in_failed(user.email, SignInFailure.CODE)
        db.session.commit()
        error = _("That code is not right, or was used already. Wait for the next one.")
        return render_template("console/login_code.html", error=error), 401
    end_second_step()
    sign_in(user, second_factor=method.value)
    left = second_factor.recovery_codes_left(db.session(), user)
    db.session.commit()
    if method is SecondFactorUsed.RECOVERY_CODE:
        flash(
            _(
                "You signed in with a recovery code. Recovery codes left: %(count)d. Make new "
                "ones on Your settings.",
                count=left,
            ),
            "error" if left < 3 else "message",
        )
    return redirect(target)


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
def login_enrol() -> Response | str | tuple[str, int]:
    """Right after the password, someone who must have a second factor and has none sets it up;
    until they do they are not signed in."""
    pending = second_step()
    if pending is None:
        return redirect(url_for("console.login"))
    user, target, enrol = pending
    if not enrol:
        return redirect(url_for("console.login_code"))
    keys = keyring_for(current_app)
    if request.method == "POST":
        check_csrf()
        try:
            enforce("login:code", str(user.id), what="codes for this account")
            codes = second_factor.confirm_enrolment(
                db.session(),
                user,
                read(CodeForm, request.form)["code"],
                keys=keys,
                now=now(),
                actor=_actor(user),
            )
        except RateLimited as exc:
            return render_enrolment(user, error=_too_many(exc), status=429)
        except DomainError:
            db.session.rollback()
            return render_enrolment(user, error=wrong_first_code(), status=422)
        end_second_step()
        sign_in(user, second_factor=SecondFactorUsed.AUTHENTICATOR.value)
        db.session.commit()
        return render_template("console/recovery_codes.html", codes=codes, next_url=target)
    return render_enrolment(user, error=None, status=200)


def wrong_first_code() -> str:
    return _("That is not the code your app shows now. Type the code it shows, then try again.")


def render_enrolment(
    user: StaffUser, *, error: str | None, status: int, signed_in: bool = False
) -> tuple[str, int]:
    """The enrolment page: the QR code, its secret as text, and the field for the first code."""
    secret = second_factor.pending_secret(db.session(), user, keys=keyring_for(current_app))
    db.session.commit()  # the secret shown is the one the code will be checked against
    uri = second_factor.provisioning_uri(
        user, secret, issuer=current_app.config["COMPANY_NAME"] + " console"
    )
    page = render_template(
        "console/enrol.html",
        qr=second_factor.qr_svg(uri, title=_("QR code for your authenticator app")),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        action=url_for("console.my_second_factor" if signed_in else "console.login_enrol"),
        error=error,
        signed_in=signed_in,
    )
    return page, status


@bp.route("/reset-password", methods=["GET", "POST"])
@public
def reset_password() -> Response | str | tuple[str, int]:
    """The page a password-reset link opens: a new password, once, within 24 hours."""
    token = (request.values.get("token") or "")[:100]
    if staff_service.password_reset(db.session(), token, now=now()) is None:
        return render_template("console/reset_password.html", token=None, errors={}), 410
    if request.method == "GET":
        return render_template("console/reset_password.html", token=token, errors={})
    check_csrf()
    form = read(NewPasswordForm, request.form)
    try:
        user = staff_service.reset_password(
            db.session(),
            token,
            new=form["new_password"],
            repeat=form["repeat"],
            now=now(),
            actor=Actor("password-reset-link"),
        )
    except DomainError as exc:
        db.session.rollback()
        errors = {exc.field or "new_password": password_problem(exc)}
        return render_template("console/reset_password.html", token=token, errors=errors), 422
    db.session.commit()
    flash(_("Your new password is set. Sign in with it, %(name)s.", name=user.name))
    return redirect(url_for("console.login"))


class NewPasswordForm(Form):
    new_password = ma.fields.String(load_default="")
    repeat = ma.fields.String(load_default="")


def password_problem(exc: DomainError) -> str:
    """What a person is told at the field a password form refused."""
    if exc.code == "too_short":
        return _("At least %(count)d characters, please.", count=staff_service.MIN_PASSWORD)
    if exc.code == "mismatch":
        return _("The two passwords differ. Type the same new password twice.")
    if exc.field == "current_password":
        return _("That is not your current password.")
    return _("This link has expired or was used already. Ask a supervisor for a new one.")


@bp.post("/logout")
@public
def logout() -> Response:
    check_csrf()
    sign_out()
    return redirect(url_for("console.login"))

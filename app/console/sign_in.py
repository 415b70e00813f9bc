"""Signing in and out of the console (server-side sessions, audited by app.staff.auth)."""

from __future__ import annotations

import marshmallow as ma
from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.console.blueprint import bp, now, public
from app.console.forms import Form, read
from app.errors import RateLimited
from app.extensions import db
from app.ratelimit import enforce
from app.staff import service as staff_service
from app.staff.auth import check_csrf, sign_in, sign_out


class SignInForm(Form):
    # Not limited in length: a long email or password is only a wrong one, with the same answer.
    email = ma.fields.String(load_default="")
    password = ma.fields.String(load_default="")


class SignInQuery(Form):
    next = ma.fields.String(load_default="")  # where to go once signed in: a console page


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
        return render_template("console/login.html", error=exc.message), 429
    user = staff_service.authenticate(db.session(), email, form["password"], now=now())
    if user is None:
        db.session.rollback()
        return render_template("console/login.html", error="Wrong email or password."), 401
    sign_in(user)
    db.session.commit()
    target = read(SignInQuery, request.args)["next"]
    return redirect(target if target.startswith("/console") else url_for("console.dashboard"))


@bp.post("/logout")
@public
def logout() -> Response:
    check_csrf()
    sign_out()
    return redirect(url_for("console.login"))

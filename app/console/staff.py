"""The staff screen: the accounts, and supervisors opening a new one."""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.console.blueprint import back, bp, refused, requires_role
from app.console.forms import Choice, Form, Text, read
from app.errors import DomainError
from app.extensions import db
from app.staff import service as staff_service
from app.staff.auth import READ, RUN, staff_actor
from app.staff.models import Role, StaffUser


class StaffForm(Form):
    email = ma.fields.String(load_default="")  # the service says what an address must be
    name = Text(120, load_default="")
    role = Choice(Role, load_default=Role.AGENT)
    password = ma.fields.String(load_default="")


@bp.get("/staff")
@requires_role(READ)
def staff() -> str:
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("console/staff.html", rows=rows, roles=list(Role))


@bp.post("/staff")
@requires_role(RUN)
def staff_create() -> Response:
    try:
        form = read(StaffForm, request.form)
        staff_service.create_staff(
            db.session(),
            email=form["email"],
            name=form["name"],
            role=form["role"],
            password=form["password"],
            actor=staff_actor(),
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not created: {exc.message}", "console.staff")
    db.session.commit()
    return back("Account created.", "console.staff")

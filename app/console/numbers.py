"""The official numbers screen: the numbers we call from and answer on, added and retired."""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.console.blueprint import back, bp, refused, requires_role
from app.console.forms import Flag, Form, Text, read
from app.errors import DomainError
from app.extensions import db
from app.numbers.models import OfficialNumber
from app.numbers.service import register_official_number, retire_official_number
from app.staff.auth import READ, RUN, staff_actor


class NumberForm(Form):
    """A number to retire, or one to put in service."""

    retire = ma.fields.String(load_default=None)
    phone = ma.fields.String(load_default="")
    purpose = ma.fields.String(load_default="")
    label = Text(120, load_default="")
    inbound_only = Flag(load_default=False)


@bp.get("/numbers")
@requires_role(READ)
def numbers() -> str:
    rows = db.session.scalars(
        select(OfficialNumber).order_by(
            OfficialNumber.retired_at.is_not(None), OfficialNumber.phone
        )
    ).all()
    return render_template("console/numbers.html", rows=rows)


@bp.post("/numbers")
@requires_role(RUN)
def numbers_save() -> Response:
    try:
        form = read(NumberForm, request.form)
        if form["retire"]:
            retire_official_number(db.session(), actor=staff_actor(), phone=form["retire"])
        else:
            register_official_number(
                db.session(),
                actor=staff_actor(),
                phone=form["phone"],
                purpose=form["purpose"],
                label=form["label"],
                inbound_only=form["inbound_only"],
            )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not saved: {exc.message}", "console.numbers")
    db.session.commit()
    return back("Saved.", "console.numbers")

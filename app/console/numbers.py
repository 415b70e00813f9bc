"""The official numbers screen: the numbers we call from and answer on, their labels in each
language (what the check page and the phone line tell a caller), added, relabelled and retired
(after a confirmation)."""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.console.blueprint import back, bp, refused, requires_role
from app.console.forms import Flag, Form, Text, read
from app.errors import DomainError, NotFound
from app.extensions import db
from app.locales import SUPPORTED_LOCALES
from app.numbers.models import NumberPurpose, OfficialNumber
from app.numbers.service import (
    active_number,
    register_official_number,
    relabel_official_number,
    retire_official_number,
)
from app.phones import parse_phone
from app.staff.auth import READ, RUN, staff_actor


class NumberForm(Form):
    """A number to retire (confirmed or not yet), one to relabel, or one to put in service."""

    retire = ma.fields.String(load_default=None)
    confirm = Flag(load_default=False)
    relabel = ma.fields.String(load_default=None)
    phone = ma.fields.String(load_default="")
    purpose = ma.fields.String(load_default="")
    # The label in each language the call center speaks; English is also the fallback.
    label = Text(120, load_default="")
    label_it = Text(120, load_default="")
    label_pl = Text(120, load_default="")
    label_zh = Text(120, load_default="")
    inbound_only = Flag(load_default=False)


def _labels(form: dict[str, str]) -> dict[str, str]:
    """The labels in it, pl and zh: every language we serve needs one (the service refuses a
    blank one, naming it)."""
    return {language: form[f"label_{language}"] for language in SUPPORTED_LOCALES[1:]}


@bp.get("/numbers")
@requires_role(READ)
def numbers() -> str:
    rows = db.session.scalars(
        select(OfficialNumber).order_by(
            OfficialNumber.retired_at.is_not(None),
            OfficialNumber.retired_at.desc(),
            OfficialNumber.phone,
        )
    ).all()
    return render_template(
        "console/numbers.html",
        rows=rows,
        purposes=list(NumberPurpose),
        locales=SUPPORTED_LOCALES,
        editing=request.args.get("edit"),
    )


@bp.post("/numbers")
@requires_role(RUN)
def numbers_save() -> Response | str:
    try:
        form = read(NumberForm, request.form)
        if form["retire"] and not form["confirm"]:
            # A number the public trusts goes out of service only once the supervisor confirms.
            official = active_number(db.session(), parse_phone(form["retire"]).e164)
            if official is None:
                raise NotFound(
                    _(
                        "phone: %(phone)s is not an official number in service",
                        phone=form["retire"],
                    ),
                    field="phone",
                )
            return render_template("console/number_retire.html", number=official)
        if form["retire"]:
            official = retire_official_number(
                db.session(), actor=staff_actor(), phone=form["retire"]
            )
            done = _("%(number)s is retired: it is no longer one of ours.", number=official.phone)
        elif form["relabel"]:
            official = relabel_official_number(
                db.session(),
                actor=staff_actor(),
                phone=form["relabel"],
                label=form["label"],
                labels=_labels(form),
            )
            done = _("The labels of %(number)s are saved.", number=official.phone)
        else:
            official = register_official_number(
                db.session(),
                actor=staff_actor(),
                phone=form["phone"],
                purpose=form["purpose"],
                label=form["label"],
                labels=_labels(form),
                inbound_only=form["inbound_only"],
            )
            done = _("%(number)s is in service.", number=official.phone)
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not saved: %(reason)s", reason=exc.message), "console.numbers")
    db.session.commit()
    return back(done, "console.numbers")

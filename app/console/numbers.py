"""The official numbers screen: the numbers we call from and answer on, their labels in each
language (what the check page and the phone line tell a caller), added, relabelled and retired
(after a confirmation)."""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.console.blueprint import back, bp, refused, requires_role
from app.console.callbacks import phone_shown
from app.console.forms import Flag, Form, Text, read
from app.console.keyset import page_size, read_page
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


#: Which numbers the list shows, in the reader's words.
STATES = {
    "in_service": _l("In service"),
    "retired": _l("Retired"),
    "all": _l("All"),
}


class NumbersQuery(Form):
    state = ma.fields.String(
        load_default="in_service",
        validate=ma.validate.OneOf(list(STATES), error="one of {choices}"),
    )
    number = ma.fields.String(load_default=None)
    edit = ma.fields.String(load_default=None)
    after = ma.fields.String(load_default=None)
    before = ma.fields.String(load_default=None)


@bp.get("/numbers")
@requires_role(READ)
def numbers() -> str:
    args = read(NumbersQuery, request.args)
    query = select(OfficialNumber)
    if args["state"] == "in_service":
        query = query.where(OfficialNumber.retired_at.is_(None))
    elif args["state"] == "retired":
        query = query.where(OfficialNumber.retired_at.is_not(None))
    if args["number"]:
        query = query.where(
            OfficialNumber.phone == parse_phone(args["number"], field="number").e164
        )
    size = page_size(request.args.get("size"))
    # Newest in service first; the id breaks ties (a number may come back into service).
    page = read_page(
        db.session(),
        query,
        moment=OfficialNumber.active_from,
        key=OfficialNumber.id,
        key_type=int,
        after=args["after"],
        before=args["before"],
        size=size,
    )
    editing = None
    if args["edit"]:
        editing = active_number(db.session(), parse_phone(args["edit"], field="edit").e164)
    return render_template(
        "console/numbers.html",
        page=page,
        size=size,
        filters=args,
        filtered=bool(args["number"]) or args["state"] != "in_service",
        states={key: str(text) for key, text in STATES.items()},
        purposes=list(NumberPurpose),
        locales=SUPPORTED_LOCALES,
        current=editing,
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
            done = _(
                "%(number)s is retired: it is no longer one of ours.",
                number=phone_shown(official.phone),
            )
        elif form["relabel"]:
            official = relabel_official_number(
                db.session(),
                actor=staff_actor(),
                phone=form["relabel"],
                label=form["label"],
                labels=_labels(form),
            )
            done = _("The labels of %(number)s are saved.", number=phone_shown(official.phone))
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
            done = _("%(number)s is in service.", number=phone_shown(official.phone))
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not saved: %(reason)s", reason=exc.message), "console.numbers")
    db.session.commit()
    return back(done, "console.numbers")

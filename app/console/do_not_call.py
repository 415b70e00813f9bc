"""The do-not-call screen: the list, and supervisors adding or removing a number.

The list itself is app.callbacks.do_not_call's: this screen only parses and shows.
"""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from werkzeug.wrappers import Response

from app.callbacks import do_not_call as listing
from app.console.blueprint import back, bp, refused, requires_role
from app.console.forms import Flag, Form, read
from app.errors import DomainError
from app.extensions import db
from app.staff.auth import READ, RUN, staff_actor

SHOWN = 500  # the newest entries the screen lists


class DoNotCallForm(Form):
    phone = ma.fields.String(load_default="")
    # Longer reasons are cut to the list's 200 characters, as they always were.
    reason = ma.fields.String(load_default="asked by phone")
    remove = Flag(load_default=False)


@bp.get("/do-not-call")
@requires_role(READ)
def do_not_call() -> str:
    rows = listing.entries(db.session(), newest_first=True, limit=SHOWN)
    return render_template("console/do_not_call.html", rows=rows)


@bp.post("/do-not-call")
@requires_role(RUN)
def do_not_call_save() -> Response:
    try:
        form = read(DoNotCallForm, request.form)
        if form["remove"]:
            listing.remove(db.session(), actor=staff_actor(), phone=form["phone"])
        else:
            listing.add(
                db.session(), actor=staff_actor(), phone=form["phone"], reason=form["reason"]
            )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not saved: {exc.message}", "console.do_not_call")
    db.session.commit()
    return back("Saved.", "console.do_not_call")

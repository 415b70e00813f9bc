"""The do-not-call screen: the list, paged and searchable, and supervisors adding a number.

The list itself is app.callbacks.do_not_call's: this screen only parses, reads and shows.
"""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.callbacks import do_not_call as listing
from app.callbacks.models import DoNotCall
from app.console.blueprint import back, bp, refused, requires_role
from app.console.callbacks import phone_shown
from app.console.forms import Flag, Form, read
from app.console.keyset import page_size, read_page
from app.errors import DomainError
from app.extensions import db
from app.phones import parse_phone
from app.staff.auth import READ, RUN, staff_actor

#: What an entry stops, in the reader's words.
SCOPES = {
    listing.ALL: _l("Every call"),
    listing.CAMPAIGNS: _l("Campaign calls only (security calls still come)"),
}

#: The reasons the call center itself writes, in the reader's words (others are shown as typed).
REASONS = {
    "asked by phone": _l("Asked by phone"),
    "opted out on a campaign call": _l("Opted out on a campaign call"),
    "not given": _l("Not given"),
}


class DoNotCallForm(Form):
    phone = ma.fields.String(load_default="")
    # Longer reasons are cut to the list's 200 characters, as they always were.
    reason = ma.fields.String(load_default="asked by phone")
    remove = Flag(load_default=False)


class DoNotCallQuery(Form):
    phone = ma.fields.String(load_default=None)
    scope = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf(list(SCOPES), error=_l("one of {choices}"))
    )
    after = ma.fields.String(load_default=None)
    before = ma.fields.String(load_default=None)


@bp.get("/do-not-call")
@requires_role(READ)
def do_not_call() -> str:
    args = read(DoNotCallQuery, request.args)
    query = select(DoNotCall)
    if args["phone"]:
        query = query.where(DoNotCall.phone == parse_phone(args["phone"], field="phone").e164)
    if args["scope"]:
        query = query.where(DoNotCall.scope == args["scope"])
    size = page_size(request.args.get("size"))
    page = read_page(
        db.session(),
        query,
        moment=DoNotCall.created_at,
        key=DoNotCall.phone,
        after=args["after"],
        before=args["before"],
        size=size,
    )
    return render_template(
        "console/do_not_call.html",
        page=page,
        size=size,
        filters=args,
        filtered=bool(args["phone"] or args["scope"]),
        scopes={key: str(text) for key, text in SCOPES.items()},
        reasons={key: str(text) for key, text in REASONS.items()},
    )


@bp.post("/do-not-call")
@requires_role(RUN)
def do_not_call_save() -> Response:
    try:
        form = read(DoNotCallForm, request.form)
        if form["remove"]:
            listing.remove(db.session(), actor=staff_actor(), phone=form["phone"])
            shown = phone_shown(parse_phone(form["phone"]).e164)
            done = _("Calls to %(number)s are allowed again.", number=shown)
        else:
            entry = listing.add(
                db.session(), actor=staff_actor(), phone=form["phone"], reason=form["reason"]
            )
            done = _("%(number)s is on the do-not-call list.", number=phone_shown(entry.phone))
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not saved: %(reason)s", reason=exc.message), "console.do_not_call")
    db.session.commit()
    return back(done, "console.do_not_call")

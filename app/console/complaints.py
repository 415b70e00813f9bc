"""The complaints screen: the queue with its recurring problems, and one complaint's page
where agents change its status, assign it to a colleague, add notes and call the complainant
back (our verified call for a customer, who is put through to their desk; anyone else from
their own phone, noted)."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from babel.dates import format_date
from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.callbacks.models import Callback
from app.calls.models import Call
from app.complaints import service as complaints
from app.complaints.models import Complaint, ComplaintStatus
from app.complaints.policy import CATEGORIES
from app.complaints.web import satisfaction_link
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Flag, Form, Text, read
from app.console.keyset import page_size, read_page
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.i18n import label
from app.inputs import MultilineString
from app.locales import babel_locale
from app.staff.auth import READ, WORK, current_staff, staff_actor
from app.staff.models import StaffUser

#: A complaint's category (what the customer chose), in the reader's words.
CATEGORY_LABELS = {
    "payments": _l("Payments"),
    "cards": _l("Cards"),
    "account_access": _l("Access to the account or app"),
    "verification_calls": _l("Our verification calls"),
    "fraud_scam": _l("Fraud or a scam call"),
    "other": _l("Something else"),
}

#: The departments of config/complaints.yaml, in the reader's words (a department the file adds
#: later is shown by the name the file gives it).
DEPARTMENT_LABELS = {
    "payments": _l("Payments team"),
    "cards": _l("Cards team"),
    "account_access": _l("Digital access team"),
    "verification_calls": _l("Call center quality"),
    "fraud": _l("Fraud team"),
    "customer_care": _l("Customer care"),
}

#: The value of the assignee choice that takes a complaint off everyone's list.
NOBODY = "-"


class ComplaintsQuery(Form):
    status = Choice(ComplaintStatus, load_default=None)
    department = Text(32, load_default=None)
    category = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(CATEGORIES, error=_l("one of {choices}")),
    )
    assigned_to = Text(254, load_default=None)
    overdue = Flag(load_default=False)
    after = ma.fields.String(load_default=None)
    before = ma.fields.String(load_default=None)


class ComplaintForm(Form):
    """A note (sent to the customer when asked), or a new status and assignee."""

    note = MultilineString(load_default=None)
    to_customer = Flag(load_default=False)
    status = Choice(ComplaintStatus, load_default=None)
    assigned_to = Text(254, load_default=None)


class CalledBackForm(Form):
    """A call back made from a phone of ours, and what was said (optional)."""

    note = MultilineString(load_default=None)


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))


def department_label(department: str) -> str:
    if department in DEPARTMENT_LABELS:
        return str(DEPARTMENT_LABELS[department])
    return str(current_app.extensions["complaints_policy"].departments.get(department, department))


def routing_label(reason: str) -> str:
    """Why the complaint went to its department, from the reason kept on it."""
    if reason.startswith("the text mentions "):
        word = reason.removeprefix("the text mentions ").rsplit(": ", 1)[0].strip("'\"")
        return _("Routed by a word in its text: “%(word)s”", word=word)
    if reason.startswith("category "):
        return _("Routed by the category the customer chose")
    return _("No category and no known words: sent to the default team")


def _reader() -> str:
    """The Babel locale of the reader's language (British English for en, as `when` writes)."""
    return babel_locale(str(get_locale() or "en"))


def week_label(week: str) -> str:
    """An ISO week ("2026-W48") as the reader says it: "Week of 23 Nov 2026"."""
    try:
        monday = date.fromisoformat(f"{week}-1")
    except ValueError:
        return week
    return _("Week of %(day)s", day=format_date(monday, "medium", locale=_reader()))


def _staff() -> list[StaffUser]:
    """Who a complaint can be assigned to: active staff who work complaints (not auditors)."""
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.active, StaffUser.role.in_(WORK))
            .order_by(StaffUser.name)
        )
    )


def _names() -> dict[str, str]:
    """Every staff member's name by e-mail (an assignee who left is still named)."""
    rows = db.session.execute(select(StaffUser.email, StaffUser.name)).all()
    # Notes name their author as the audit log does: "staff:<e-mail>".
    return {**dict(rows), **{f"staff:{email}": name for email, name in rows}}


def _helpers() -> dict[str, object]:
    return {
        "category_label": category_label,
        "department_label": department_label,
        "routing_label": routing_label,
        "week_label": week_label,
        "names": _names(),
    }


@bp.get("/complaints", endpoint="complaints")
@requires_role(READ)
def complaints_page() -> str:
    args = read(ComplaintsQuery, request.args)
    size = page_size(request.args.get("size"))
    page = read_page(
        db.session(),
        complaints.queue_query(
            status=args["status"],
            department=args["department"],
            category=args["category"],
            assigned_to=args["assigned_to"],
            overdue=args["overdue"],
        ),
        moment=Complaint.first_response_due,
        key=Complaint.reference,
        after=args["after"],
        before=args["before"],
        size=size,
        newest_first=False,  # the queue: the most urgent first
    )
    policy = current_app.extensions["complaints_policy"]
    return render_template(
        "console/complaints.html",
        page=page,
        size=size,
        filters=args,
        filtered=any(
            args[k] for k in ("status", "department", "category", "assigned_to", "overdue")
        ),
        statuses=list(ComplaintStatus),
        categories=CATEGORIES,
        departments=list(policy.departments),
        staff_members=_staff(),
        recurring=complaints.recurring(db.session(), weeks=8, now=now()),
        **_helpers(),
    )


@bp.get("/complaints/<reference>")
@requires_role(READ)
def complaint(reference: str) -> str:
    item = complaints.get(db.session(), reference)
    about = db.session.get(Call, item.about_call_id) if item.about_call_id else None
    filed_by = db.session.get(Call, item.call_id) if item.call_id else None
    callback = db.session.get(Callback, item.callback_id) if item.callback_id else None
    return render_template(
        "console/complaint.html",
        complaint=item,
        notes=complaints.notes(db.session(), item),
        statuses=[
            s for s in ComplaintStatus if s is item.status or s in complaints.ALLOWED[item.status]
        ],
        staff_members=_staff(),
        nobody=NOBODY,
        about=about,
        filed_by=filed_by,
        callback=callback,
        call_backs=complaints.call_backs(db.session(), item),
        cannot_call=_cannot_call(item),
        **_helpers(),
    )


def _cannot_call(item: Complaint) -> str | None:
    """Why our verified call cannot call this complainant back (the refusal's code), or None."""
    try:
        complaints.customer_to_call(db.session(), item)
    except DomainError as exc:
        return exc.code
    return None


def _assignee(value: str | None, current: str | None) -> str | None:
    """The assignee chosen: an active staff member's e-mail, NOBODY ("") or no change (None)."""
    if value is None or value == current:
        return None
    if value == NOBODY:
        return ""
    if value not in {member.email for member in _staff()}:
        raise InvalidInput(
            _("assigned_to: choose someone from the list of active staff"), field="assigned_to"
        )
    return value


@bp.post("/complaints/<reference>")
@requires_role(WORK)
def complaint_save(reference: str) -> Response:
    item = complaints.get(db.session(), reference)  # an unknown reference is a 404, as on the page
    try:
        form = read(ComplaintForm, request.form)
        if form["note"]:
            complaints.add_note(
                db.session(),
                reference,
                text=form["note"],
                to_customer=form["to_customer"],
                actor=staff_actor(),
                now=now(),
                company=current_app.config["COMPANY_NAME"],
            )
            done = _("Note added.")
        else:
            complaints.update(
                db.session(),
                reference,
                actor=staff_actor(),
                now=now(),
                company=current_app.config["COMPANY_NAME"],
                policy=current_app.extensions["complaints_policy"],
                status=form["status"],
                assigned_to=_assignee(form["assigned_to"], item.assigned_to),
                satisfaction_link=satisfaction_link,
            )
            done = _("Saved.")
    except DomainError as exc:
        db.session.rollback()
        message = exc.message
        if exc.code == "invalid_transition" and form["status"] is not None:
            message = _(
                "Not saved: a complaint that is “%(now)s” cannot become “%(then)s”.",
                now=label(item.status),
                then=label(form["status"]),
            )
        return refused(message, "console.complaint", reference=reference)
    db.session.commit()
    return back(done, "console.complaint", reference=reference)


@bp.get("/complaints/<reference>/call-back", endpoint="complaint_call_back_ask")
@requires_role(WORK)
def complaint_call_back_ask(reference: str) -> tuple[str, int] | Response:
    """Before our call rings the complainant: who, which number and which complaint, to confirm."""
    session = db.session()
    item = complaints.get(session, reference)
    try:
        customer = complaints.customer_to_call(session, item)
    except DomainError as exc:
        return refused(
            _("Not called: %(why)s", why=exc.message), "console.complaint", reference=item.reference
        )
    return render_template(
        "console/complaint_call_back.html",
        complaint=item,
        customer=customer,
        category_label=category_label,
    ), 200


@bp.post("/complaints/<reference>/call-back", endpoint="complaint_call_back")
@requires_role(WORK)
def complaint_call_back(reference: str) -> Response:
    """An agent's (or a supervisor's) call back of a complainant who is a customer: we call
    them, verify them with a code from their app, and only then ring this member of staff's
    desk (as "call now" on a callback does)."""
    session = db.session()
    item = complaints.get(session, reference)  # an unknown reference is a 404, as on the page
    found = item.reference
    staff = current_staff()
    assert staff is not None  # requires_role let a signed-in member of staff in
    try:
        agent = agents.profile(session, staff)  # a supervisor's agent row, made on first use
        complaints.call_back(
            session,
            found,
            agent_id=agent.staff_id,
            policy_version=current_app.extensions["callback_policy"].version,
            actor=staff_actor(),
            now=now(),
        )
    except DomainError as exc:
        session.rollback()
        return refused(
            _("Not called: %(why)s", why=exc.message), "console.complaint", reference=found
        )
    session.commit()
    return back(
        _("We are calling the customer: your desk rings once they have verified."), "console.desk"
    )


@bp.post("/complaints/<reference>/called-back", endpoint="complaint_called_back")
@requires_role(WORK)
def complaint_called_back(reference: str) -> Response:
    """The complainant was called back from a phone of ours: an internal note says so."""
    item = complaints.get(db.session(), reference)
    found = item.reference
    try:
        form = read(CalledBackForm, request.form)
        complaints.called_back(
            db.session(),
            found,
            text=_("Called back by phone: %(note)s", note=form["note"])
            if form["note"]
            else _("Called back by phone."),
            actor=staff_actor(),
            now=now(),
            company=current_app.config["COMPANY_NAME"],
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(
            _("Not saved: %(why)s", why=exc.message), "console.complaint", reference=found
        )
    db.session.commit()
    return back(_("Noted: the complainant was called back."), "console.complaint", reference=found)

"""The complaints screen: the queue with its recurring problems, and one complaint's page
where agents change its status, assign it and add notes."""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.wrappers import Response

from app.complaints import service as complaints
from app.complaints.models import ComplaintStatus
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Flag, Form, Text, read
from app.errors import DomainError
from app.extensions import db
from app.inputs import MultilineString
from app.staff.auth import READ, WORK, staff_actor


class ComplaintsQuery(Form):
    status = Choice(ComplaintStatus, load_default=None)
    overdue = Flag(load_default=False)


class ComplaintForm(Form):
    """A note (sent to the customer when asked), or a new status and assignee."""

    note = MultilineString(load_default=None)
    to_customer = Flag(load_default=False)
    status = Choice(ComplaintStatus, load_default=None)
    assigned_to = Text(120, load_default=None)


@bp.get("/complaints", endpoint="complaints")
@requires_role(READ)
def complaints_page() -> str:
    args = read(ComplaintsQuery, request.args)
    status = args["status"]
    rows = complaints.queue(db.session(), status=status, overdue=args["overdue"], now=now())
    return render_template(
        "console/complaints.html",
        rows=rows,
        statuses=list(ComplaintStatus),
        status=status.value if status else None,
        recurring=complaints.recurring(db.session(), weeks=8, now=now()),
    )


@bp.get("/complaints/<reference>")
@requires_role(READ)
def complaint(reference: str) -> str:
    item = complaints.get(db.session(), reference)
    return render_template(
        "console/complaint.html",
        complaint=item,
        notes=complaints.notes(db.session(), item),
        statuses=list(ComplaintStatus),
    )


@bp.post("/complaints/<reference>")
@requires_role(WORK)
def complaint_save(reference: str) -> Response:
    complaints.get(db.session(), reference)  # an unknown reference is a 404, as on the page
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
        else:
            complaints.update(
                db.session(),
                reference,
                actor=staff_actor(),
                now=now(),
                company=current_app.config["COMPANY_NAME"],
                policy=current_app.extensions["complaints_policy"],
                status=form["status"],
                assigned_to=form["assigned_to"],
            )
    except DomainError as exc:
        db.session.rollback()
        return refused(exc.message, "console.complaint", reference=reference)
    db.session.commit()
    return back("Saved.", "console.complaint", reference=reference)

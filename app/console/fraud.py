"""The fraud queue: scam reports (with their review status) and "it was not me" cases."""

from __future__ import annotations

import marshmallow as ma
from flask import render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.authenticity.models import ReportStatus, ScamReport
from app.authenticity.service import update_report
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Form, Text, read
from app.errors import DomainError
from app.extensions import db
from app.fraud.models import FraudCase
from app.staff.auth import READ, WORK, staff_actor


class ReportForm(Form):
    reference = ma.fields.String(load_default="")  # looked up, not stored
    status = Choice(ReportStatus, load_default=ReportStatus.REVIEWING)
    note = Text(500, load_default=None)


@bp.get("/fraud")
@requires_role(READ)
def fraud() -> str:
    reports = db.session.scalars(
        select(ScamReport).order_by(ScamReport.created_at.desc()).limit(200)
    ).all()
    cases = db.session.scalars(
        select(FraudCase).order_by(FraudCase.created_at.desc()).limit(200)
    ).all()
    return render_template(
        "console/fraud.html", reports=reports, cases=cases, statuses=list(ReportStatus)
    )


@bp.post("/fraud")
@requires_role(WORK)
def fraud_save() -> Response:
    try:
        form = read(ReportForm, request.form)
        update_report(
            db.session(),
            form["reference"],
            status=form["status"],
            note=form["note"],
            actor=staff_actor(),
            now=now(),
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not saved: {exc.message}", "console.fraud")
    db.session.commit()
    return back("Saved.", "console.fraud")

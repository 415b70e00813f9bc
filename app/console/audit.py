"""The audit log screen: who did what, filtered, on the page or as a CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
import json

import marshmallow as ma
from flask import Response, render_template, request
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.console.blueprint import bp, requires_role
from app.console.forms import Form, WholeNumber, read
from app.extensions import db
from app.staff.auth import READ

MAX_ROWS = 10_000


class AuditQuery(Form):
    limit = WholeNumber(1, MAX_ROWS, load_default=500)
    action = ma.fields.String(load_default="")  # the start of an action: "callback." finds all
    subject_type = ma.fields.String(load_default="")
    subject_id = ma.fields.String(load_default="")
    actor = ma.fields.String(load_default="")


def _rows() -> list[AuditEvent]:
    args = read(AuditQuery, request.args)
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(args["limit"])
    for key, column in (
        ("action", AuditEvent.action),
        ("subject_type", AuditEvent.subject_type),
        ("subject_id", AuditEvent.subject_id),
        ("actor", AuditEvent.actor),
    ):
        value = args[key].strip()
        if value:
            query = query.where(column.startswith(value) if key == "action" else column == value)
    return list(db.session.scalars(query))


@bp.get("/audit")
@requires_role(READ)
def audit() -> str:
    return render_template("console/audit.html", rows=_rows(), args=request.args)


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    # OWASP's CSV injection advice: =, +, -, @, tab and carriage return start a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/audit.csv")
@requires_role(READ)
def audit_csv() -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "at", "actor", "action", "subject_type", "subject_id", "changes", "request_id"]
    )
    for row in _rows():
        writer.writerow(
            [
                row.id,
                row.occurred_at.isoformat(),
                *map(
                    spreadsheet_safe,
                    (row.actor, row.action, row.subject_type, row.subject_id),
                ),
                spreadsheet_safe(json.dumps(row.changes, ensure_ascii=False, default=str)),
                spreadsheet_safe(row.request_id),
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )

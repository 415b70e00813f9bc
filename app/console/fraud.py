"""The fraud queue: scam reports (with their review status), one report's page with everything
its reporter gave and the reported number's history, and "it was not me" cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.authenticity import service as reports
from app.authenticity.models import ReportChannel, ReportStatus, ScamReport
from app.calls.models import Call
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Form, Text, read
from app.console.keyset import page_size, read_page
from app.errors import DomainError
from app.extensions import db
from app.fraud.models import FraudCase
from app.i18n import when
from app.phones import international
from app.staff.auth import READ, WORK, staff_actor

#: What the caller asked for (ScamReport.asked_for), in the reader's words.
ASKED_FOR_LABELS = {
    "password": _l("A password"),
    "pin": _l("A PIN"),
    "sms_code": _l("A code sent by text"),
    "card_details": _l("Card details"),
    "move_money": _l("To move money"),
    "install_app": _l("To install an app"),
    "other": _l("Something else"),
}

#: The matter of a fraud case and what the core system was asked to do, in the reader's words.
CASE_WORDS = {
    "transaction": _l("Unusual payment"),
    "registration": _l("New registration"),
    "withdrawal_request": _l("Withdrawal request"),
    "account_change": _l("Account change"),
    "freeze_card": _l("Freeze the card"),
    "reject_withdrawal": _l("Reject the withdrawal"),
    "block_registration": _l("Block the registration"),
    "block_account_change": _l("Block the account change"),
    "freeze_request": _l("Request to freeze the account"),
    "freeze_account": _l("Freeze the account"),
}


class ReportForm(Form):
    reference = ma.fields.String(load_default="")  # looked up, not stored
    status = Choice(ReportStatus, load_default=ReportStatus.REVIEWING)
    note = Text(500, load_default=None)
    back_to = ma.fields.String(load_default="")  # "report": back to the report's page


class ReportsQuery(Form):
    status = Choice(ReportStatus, load_default=None)
    channel = Choice(ReportChannel, load_default=None)
    number = Text(40, load_default=None)
    after = ma.fields.String(load_default=None)
    before = ma.fields.String(load_default=None)


def _words(values: dict[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


@bp.get("/fraud")
@requires_role(READ)
def fraud() -> str:
    args = read(ReportsQuery, request.args)
    size = page_size(request.args.get("size"))
    page = read_page(
        db.session(),
        reports.reports_query(
            status=args["status"], channel=args["channel"], number=args["number"]
        ),
        moment=ScamReport.created_at,
        key=ScamReport.reference,
        after=args["after"],
        before=args["before"],
        size=size,
    )
    return render_template(
        "console/fraud.html",
        page=page,
        size=size,
        filters=args,
        filtered=any(args[k] for k in ("status", "channel", "number")),
        statuses=list(ReportStatus),
        channels=list(ReportChannel),
        asked_for=_words(ASKED_FOR_LABELS),
    )


@bp.get("/fraud/cases")
@requires_role(READ)
def fraud_cases() -> str:
    size = page_size(request.args.get("size"))
    page = read_page(
        db.session(),
        select(FraudCase),
        moment=FraudCase.created_at,
        key=FraudCase.reference,
        after=request.args.get("after") or None,
        before=request.args.get("before") or None,
        size=size,
    )
    return render_template("console/fraud_cases.html", page=page, words=_words(CASE_WORDS))


def call_status_words(status: dict[str, Any] | None) -> str | None:
    """The app's call status a report kept, in words."""
    if not status:
        return None
    kind, at = status.get("status"), status.get("at")
    moment = when(datetime.fromisoformat(at)) if isinstance(at, str) else ""
    if kind == "on_call":
        talking = status.get("with")
        if talking in (None, "ivr"):
            return _("On a call with us, in the phone menu")
        return _("On a call with us, with %(agent)s", agent=talking)
    if kind == "calling_now":
        return _(
            "We were calling them (reference %(reference)s, from %(number)s)",
            reference=status.get("reference") or "–",
            number=international(status["number"]) if status.get("number") else "–",
        )
    if kind == "scheduled":
        return _("A callback was scheduled for %(moment)s", moment=moment)
    if kind == "called":
        return _("We had called them at %(moment)s", moment=moment)
    return _("We had not called them in the last 24 hours")


@bp.get("/fraud/<reference>")
@requires_role(READ)
def fraud_report(reference: str) -> str:
    """One report: what the reporter gave, the reported number's history, its other reports."""
    report = reports.get_report(db.session(), reference)
    number = report.reported_number
    periods = reports.number_periods(db.session(), number) if number else []
    call = db.session.get(Call, report.call_id) if report.call_id else None
    return render_template(
        "console/fraud_report.html",
        report=report,
        periods=periods,
        calls=reports.calls_from(db.session(), number) if periods and number else [],
        others=reports.reports_about(db.session(), report),
        call=call,
        call_status=call_status_words(report.call_status),
        statuses=list(ReportStatus),
        asked_for=_words(ASKED_FOR_LABELS),
    )


@bp.post("/fraud")
@requires_role(WORK)
def fraud_save() -> Response:
    given = request.form.get("reference", "")
    where = (
        {"endpoint": "console.fraud_report", "reference": given}
        if request.form.get("back_to") == "report" and given.isprintable() and given
        else {"endpoint": "console.fraud"}
    )
    try:
        form = read(ReportForm, request.form)
        report = reports.get_report(db.session(), form["reference"])
        # The queue's quick form sends no note: the report keeps the one it has.
        note = form["note"] if "note" in request.form else report.staff_note
        report = reports.update_report(
            db.session(),
            report.reference,
            status=form["status"],
            note=note,
            actor=staff_actor(),
            now=now(),
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not saved: %(reason)s", reason=exc.message), **where)
    db.session.commit()
    return back(_("Report %(reference)s saved.", reference=report.reference), **where)

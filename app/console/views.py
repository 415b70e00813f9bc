"""The supervisors' console: sign-in, the live dashboard, campaigns, and the work queues.

Server-rendered pages; htmx refreshes the live parts (no full-page reloads) and Chart.js draws
the charts. Every form carries the session's CSRF token; roles decide who may do what.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import or_, select

from app import clock
from app.audit.models import AuditEvent
from app.authenticity.models import ReportStatus, ScamReport
from app.callbacks.models import Callback, CallbackAttempt, CallbackStatus, DoNotCall
from app.calls.models import Call
from app.campaigns import service as campaigns
from app.campaigns.models import Campaign, Segment
from app.complaints import service as complaints
from app.complaints.models import ComplaintStatus
from app.console.dashboard import snapshot
from app.customers.models import Customer
from app.errors import DomainError, InvalidInput, RateLimited
from app.extensions import db
from app.flows.registry import flows
from app.fraud.models import FraudCase
from app.inputs import PlausibleMoment, refuse_control_characters
from app.numbers.models import OfficialNumber
from app.numbers.service import register_official_number, retire_official_number
from app.phones import parse_phone
from app.ratelimit import enforce
from app.staff import service as staff_service
from app.staff.auth import (
    READ,
    RUN,
    WORK,
    check_csrf,
    csrf_token,
    current_staff,
    require,
    sign_in,
    sign_out,
    staff_actor,
)
from app.staff.models import Role, StaffUser

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.app_context_processor
def _context() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "staff": current_staff(),
    }


@bp.before_request
def _printable_input() -> None:
    """Path parts, query and form fields with control characters are refused before any view."""
    refuse_control_characters(request.view_args or {})
    refuse_control_characters(request.args)
    refuse_control_characters(request.form, multiline=["note"])


@bp.errorhandler(DomainError)
def _refused(error: DomainError):  # type: ignore[no-untyped-def]
    """A refused request gets the console's page saying why, not a bare error."""
    return render_template("console/refused.html", message=error.message), error.status


def _choice(value: str | None, choices: type[enum.Enum], field: str) -> str | None:
    """A filter or form value that must be one of an enum's values (None when not given)."""
    if not value:
        return None
    allowed = [str(choice.value) for choice in choices]
    if value not in allowed:
        raise InvalidInput(f"{field}: one of {', '.join(allowed)}", field=field)
    return value


def _now() -> datetime:
    return clock.now()


def _back(message: str, endpoint: str, **values: Any):  # type: ignore[no-untyped-def]
    flash(message)
    return redirect(url_for(endpoint, **values))


# ----- sign-in -----


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("console/login.html", error=None)
    check_csrf()
    email = (request.form.get("email") or "").strip().lower()
    try:
        enforce("login:address", what="sign-in attempts from your address")
        enforce("login:email", email or "-", what="sign-in attempts for this account")
    except RateLimited as exc:
        return render_template("console/login.html", error=exc.message), 429
    user = staff_service.authenticate(
        db.session, email, request.form.get("password") or "", now=_now()
    )
    if user is None:
        db.session.rollback()
        return render_template("console/login.html", error="Wrong email or password."), 401
    sign_in(user)
    db.session.commit()
    target = request.args.get("next") or ""
    return redirect(target if target.startswith("/console") else url_for("console.dashboard"))


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    check_csrf()
    sign_out()
    return redirect(url_for("console.login"))


# ----- dashboard -----


@bp.get("/")
@require(READ)
def dashboard():  # type: ignore[no-untyped-def]
    return render_template("console/dashboard.html", data=snapshot(db.session, now=_now()))


@bp.get("/live")
@require(READ, background=True)
def live():  # type: ignore[no-untyped-def]
    return render_template("console/_live.html", data=snapshot(db.session, now=_now()))


# ----- campaigns -----


@bp.get("/campaigns", endpoint="campaigns")
@require(READ)
def campaigns_page():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(
        select(Campaign).order_by(Campaign.created_at.desc()).limit(100)
    ).all()
    segments = db.session.scalars(select(Segment).order_by(Segment.name)).all()
    outbound = sorted(n for n, f in flows().items() if f.direction == "outbound")
    today = _now().date()
    return render_template(
        "console/campaigns.html",
        campaigns=rows,
        segments=segments,
        flows=outbound,
        today=today.isoformat(),
        later=(today + timedelta(days=7)).isoformat(),
        progress={c.id: campaigns.progress(db.session, c) for c in rows},
    )


def _moment(text: str | None, field: str) -> datetime:
    try:
        value = datetime.fromisoformat((text or "").strip())
        PlausibleMoment()(value)
    except (ValueError, ma.ValidationError):
        raise DomainError(f"{field}: a date between 1970 and 2999", field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.post("/campaigns/new")
@require(RUN)
def campaign_create():  # type: ignore[no-untyped-def]
    form = request.form
    upload = request.files.get("csv")
    csv_text = (
        upload.read().decode("utf-8", errors="replace") if upload and upload.filename else None
    )
    try:
        campaign = campaigns.create_campaign(
            db.session,
            policy=current_app.extensions["callback_policy"],
            flows=flows(),
            actor=staff_actor(),
            now=_now(),
            name=form.get("name", ""),
            purpose=form.get("purpose", ""),
            flow=form.get("flow", ""),
            starts_at=_moment(form.get("starts_at"), "starts_at"),
            ends_at=_moment(form.get("ends_at"), "ends_at"),
            window_start=form.get("window_start", "09:00"),
            window_end=form.get("window_end", "19:00"),
            repeat_cron=form.get("repeat_cron") or None,
            calls_per_second=float(form.get("calls_per_second") or 1),
            max_concurrent=int(form.get("max_concurrent") or 5),
            max_attempts=int(form.get("max_attempts") or 3),
            retry_minutes=[
                int(m) for m in (form.get("retry_minutes") or "30,120").split(",") if m.strip()
            ],
            segment_id=uuid.UUID(form["segment_id"])
            if form.get("segment_id") and not csv_text
            else None,
            csv_text=csv_text,
        )
    except (DomainError, ValueError) as exc:
        db.session.rollback()
        flash(f"Not created: {getattr(exc, 'message', exc)}")
        return redirect(url_for("console.campaigns"))
    db.session.commit()
    return redirect(url_for("console.campaign", campaign_id=campaign.id))


@bp.post("/segments")
@require(RUN)
def segment_create():  # type: ignore[no-untyped-def]
    try:
        campaigns.create_segment(
            db.session,
            name=request.form.get("name", ""),
            locales=[x for x in request.form.getlist("locales") if x in ("en", "it", "pl", "zh")],
            phone_prefix=(request.form.get("phone_prefix") or "").strip() or None,
            actor=staff_actor(),
        )
    except DomainError as exc:
        db.session.rollback()
        return _back(f"Not created: {exc.message}", "console.campaigns")
    db.session.commit()
    return _back("Segment saved.", "console.campaigns")


@bp.get("/campaigns/<uuid:campaign_id>")
@require(READ)
def campaign(campaign_id: uuid.UUID):  # type: ignore[no-untyped-def]
    item = campaigns.get(db.session, campaign_id)
    preflight = campaigns.preflight(
        db.session, item, policy=current_app.extensions["callback_policy"], now=_now()
    )
    return render_template(
        "console/campaign.html",
        campaign=item,
        preflight=preflight,
        progress=campaigns.progress(db.session, item),
    )


@bp.get("/campaigns/<uuid:campaign_id>/progress")
@require(READ, background=True)
def campaign_progress(campaign_id: uuid.UUID):  # type: ignore[no-untyped-def]
    item = campaigns.get(db.session, campaign_id)
    return render_template(
        "console/_progress.html", campaign=item, progress=campaigns.progress(db.session, item)
    )


@bp.post("/campaigns/<uuid:campaign_id>/<any(start, pause, resume, cancel):action>")
@require(RUN)
def campaign_action(campaign_id: uuid.UUID, action: str):  # type: ignore[no-untyped-def]
    item = campaigns.get(db.session, campaign_id)
    try:
        if action == "start":
            queued = campaigns.start(
                db.session,
                item,
                policy=current_app.extensions["callback_policy"],
                actor=staff_actor(),
                now=_now(),
            )
            message = f"Started: {queued} calls queued." if queued else "Scheduled."
        else:
            getattr(campaigns, action)(db.session, item, actor=staff_actor(), now=_now())
            message = {
                "pause": "Paused.",
                "resume": "Resumed.",
                "cancel": "Cancelled: nothing more is dialed.",
            }[action]
    except DomainError as exc:
        db.session.rollback()
        return _back(exc.message, "console.campaign", campaign_id=campaign_id)
    db.session.commit()
    return _back(message, "console.campaign", campaign_id=campaign_id)


# ----- callbacks -----


@bp.get("/callbacks")
@require(READ)
def callbacks():  # type: ignore[no-untyped-def]
    query = select(Callback, Customer).join(Customer, Customer.id == Callback.customer_id)
    q = (request.args.get("q") or "").strip()
    if q:
        query = query.where(
            or_(
                Customer.external_id == q,
                Callback.to_number == q.replace(" ", ""),
                Callback.flow == q,
            )
        )
    status = _choice(request.args.get("status"), CallbackStatus, "status")
    if status:
        query = query.where(Callback.status == CallbackStatus(status))
    rows = db.session.execute(query.order_by(Callback.created_at.desc()).limit(200)).all()
    return render_template("console/callbacks.html", rows=rows, q=q, status=status)


@bp.get("/callbacks/<uuid:callback_id>")
@require(READ)
def callback(callback_id: uuid.UUID):  # type: ignore[no-untyped-def]
    item = db.session.get(Callback, callback_id) or abort(404)
    attempts = db.session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.callback_id == callback_id)
        .order_by(CallbackAttempt.number)
    ).all()
    calls = {a.call_id: db.session.get(Call, a.call_id) for a in attempts if a.call_id}
    return render_template("console/callback.html", callback=item, attempts=attempts, calls=calls)


# ----- complaints -----


@bp.get("/complaints", endpoint="complaints")
@require(READ)
def complaints_page():  # type: ignore[no-untyped-def]
    status = _choice(request.args.get("status"), ComplaintStatus, "status")
    rows = complaints.queue(
        db.session,
        status=ComplaintStatus(status) if status else None,
        overdue=bool(request.args.get("overdue")),
        now=_now(),
    )
    return render_template(
        "console/complaints.html",
        rows=rows,
        statuses=list(ComplaintStatus),
        status=status,
        recurring=complaints.recurring(db.session, weeks=8, now=_now()),
    )


@bp.route("/complaints/<reference>", methods=["GET", "POST"])
@require(READ)
def complaint(reference: str):  # type: ignore[no-untyped-def]
    item = complaints.get(db.session, reference)
    if request.method == "POST":
        if current_staff().role not in WORK:
            abort(403, description="your role does not allow this")
        try:
            if request.form.get("note"):
                complaints.add_note(
                    db.session,
                    reference,
                    text=request.form["note"],
                    to_customer=bool(request.form.get("to_customer")),
                    actor=staff_actor(),
                    now=_now(),
                    company=current_app.config["COMPANY_NAME"],
                )
            else:
                complaints.update(
                    db.session,
                    reference,
                    actor=staff_actor(),
                    now=_now(),
                    company=current_app.config["COMPANY_NAME"],
                    policy=current_app.extensions["complaints_policy"],
                    status=ComplaintStatus(chosen)
                    if (chosen := _choice(request.form.get("status"), ComplaintStatus, "status"))
                    else None,
                    assigned_to=request.form.get("assigned_to") or None,
                )
        except DomainError as exc:
            db.session.rollback()
            return _back(exc.message, "console.complaint", reference=reference)
        db.session.commit()
        return _back("Saved.", "console.complaint", reference=reference)
    return render_template(
        "console/complaint.html",
        complaint=item,
        notes=complaints.notes(db.session, item),
        statuses=list(ComplaintStatus),
    )


# ----- fraud queue -----


@bp.route("/fraud", methods=["GET", "POST"])
@require(READ)
def fraud():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        if current_staff().role not in WORK:
            abort(403, description="your role does not allow this")
        from app.authenticity.service import update_report

        try:
            update_report(
                db.session,
                request.form.get("reference", ""),
                status=ReportStatus(request.form.get("status", "reviewing")),
                note=request.form.get("note") or None,
                actor=staff_actor(),
                now=_now(),
            )
        except (DomainError, ValueError) as exc:
            db.session.rollback()
            return _back(f"Not saved: {getattr(exc, 'message', exc)}", "console.fraud")
        db.session.commit()
        return _back("Saved.", "console.fraud")
    reports = db.session.scalars(
        select(ScamReport).order_by(ScamReport.created_at.desc()).limit(200)
    ).all()
    cases = db.session.scalars(
        select(FraudCase).order_by(FraudCase.created_at.desc()).limit(200)
    ).all()
    return render_template(
        "console/fraud.html", reports=reports, cases=cases, statuses=list(ReportStatus)
    )


# ----- numbers, do-not-call, staff -----


@bp.route("/numbers", methods=["GET", "POST"])
@require(READ)
def numbers():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        if current_staff().role not in RUN:
            abort(403, description="your role does not allow this")
        try:
            if request.form.get("retire"):
                retire_official_number(
                    db.session, actor=staff_actor(), phone=request.form["retire"]
                )
            else:
                register_official_number(
                    db.session,
                    actor=staff_actor(),
                    phone=request.form.get("phone", ""),
                    purpose=request.form.get("purpose", ""),
                    label=request.form.get("label", ""),
                    inbound_only=bool(request.form.get("inbound_only")),
                )
        except DomainError as exc:
            db.session.rollback()
            return _back(f"Not saved: {exc.message}", "console.numbers")
        db.session.commit()
        return _back("Saved.", "console.numbers")
    rows = db.session.scalars(
        select(OfficialNumber).order_by(
            OfficialNumber.retired_at.is_not(None), OfficialNumber.phone
        )
    ).all()
    return render_template("console/numbers.html", rows=rows)


@bp.route("/do-not-call", methods=["GET", "POST"])
@require(READ)
def do_not_call():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        if current_staff().role not in RUN:
            abort(403, description="your role does not allow this")
        from app.audit.service import record

        try:
            phone = parse_phone(request.form.get("phone"), field="phone").e164
        except DomainError as exc:
            return _back(f"Not saved: {exc.message}", "console.do_not_call")
        existing = db.session.get(DoNotCall, phone)
        if request.form.get("remove"):
            if existing is not None:
                db.session.delete(existing)
                record(
                    db.session,
                    actor=staff_actor(),
                    action="do_not_call.removed",
                    subject_type="phone",
                    subject_id=phone,
                )
        elif existing is None:
            db.session.add(
                DoNotCall(
                    phone=phone, reason=(request.form.get("reason") or "asked by phone")[:200]
                )
            )
            record(
                db.session,
                actor=staff_actor(),
                action="do_not_call.added",
                subject_type="phone",
                subject_id=phone,
            )
        db.session.commit()
        return _back("Saved.", "console.do_not_call")
    rows = db.session.scalars(
        select(DoNotCall).order_by(DoNotCall.created_at.desc()).limit(500)
    ).all()
    return render_template("console/do_not_call.html", rows=rows)


@bp.route("/staff", methods=["GET", "POST"])
@require(READ)
def staff():  # type: ignore[no-untyped-def]
    if request.method == "POST":
        if current_staff().role not in RUN:
            abort(403, description="your role does not allow this")
        try:
            staff_service.create_staff(
                db.session,
                email=request.form.get("email", ""),
                name=request.form.get("name", ""),
                role=Role(request.form.get("role", "agent")),
                password=request.form.get("password", ""),
                actor=staff_actor(),
            )
        except (DomainError, ValueError) as exc:
            db.session.rollback()
            return _back(f"Not created: {getattr(exc, 'message', exc)}", "console.staff")
        db.session.commit()
        return _back("Account created.", "console.staff")
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("console/staff.html", rows=rows, roles=list(Role))


# ----- audit log -----

_AUDIT_MAX_ROWS = 10_000


def _audit_rows() -> list[AuditEvent]:
    limit = (request.args.get("limit") or "500").strip()
    if not limit.isdecimal() or not 1 <= int(limit) <= _AUDIT_MAX_ROWS:
        raise InvalidInput(f"limit: a whole number, 1 to {_AUDIT_MAX_ROWS}", field="limit")
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(int(limit))
    for key, column in (
        ("action", AuditEvent.action),
        ("subject_type", AuditEvent.subject_type),
        ("subject_id", AuditEvent.subject_id),
        ("actor", AuditEvent.actor),
    ):
        value = (request.args.get(key) or "").strip()
        if value:
            query = query.where(column.startswith(value) if key == "action" else column == value)
    return list(db.session.scalars(query))


@bp.get("/audit")
@require(READ)
def audit():  # type: ignore[no-untyped-def]
    return render_template("console/audit.html", rows=_audit_rows(), args=request.args)


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    # OWASP's CSV injection advice: =, +, -, @, tab and carriage return start a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/audit.csv")
@require(READ)
def audit_csv():  # type: ignore[no-untyped-def]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "at", "actor", "action", "subject_type", "subject_id", "changes", "request_id"]
    )
    for row in _audit_rows():
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

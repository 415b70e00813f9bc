"""The callbacks screen: the queue, filtered and paged, a customer's callbacks and calls found by
their number, one callback with its attempts and calls, one call with its transcript, and a
supervisor's cancel, new time and assign, each confirmed on a page of its own first."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
import phonenumbers
from flask import abort, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.audit.service import record
from app.callbacks import lifecycle
from app.callbacks.models import Callback, CallbackAttempt, CallbackStatus
from app.callbacks.service import AGENT_CALLBACK_FLOW
from app.calls.models import Call, CallStatus
from app.complaints.models import Complaint
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Form, WholeNumber, read
from app.console.labels import kept_text
from app.console.records import (
    PAGE_SIZES,
    Page,
    audit_link,
    flow_name,
    paged,
    time_and_id_keyset,
)
from app.customers.models import Customer
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.fraud.models import FraudCase
from app.i18n import label
from app.numbers.models import OfficialNumber
from app.outcomes import Outcome
from app.phones import international, read_typed_number, regions_of
from app.staff.auth import READ, RUN, WORK, current_staff, staff_actor
from app.staff.models import Role, StaffUser

#: The furthest ahead a supervisor may put a callback.
LATEST_NEW_TIME = timedelta(days=90)
#: The calls a number search lists (the newest).
CALLS_FOUND = 50
#: The country a number typed without one is tried in first, by the staff member's language.
LANGUAGE_REGIONS = {"en": "GB", "it": "IT", "pl": "PL", "zh": "CN"}
_PHONE_CHARACTERS = set("0123456789+()-./ ")


bp.add_app_template_filter(flow_name, "flow")


@bp.app_template_filter("phone")
def phone_shown(e164: str | None) -> str:
    """A stored number as people write it: +39 333 123 4567."""
    if not e164:
        return ""
    try:
        return international(e164)
    except phonenumbers.NumberParseException:  # kept before validation: shown as it is
        return e164


class CallbacksQuery(Form):
    q = ma.fields.String(load_default="")  # a customer's id, a phone number (any format), a flow
    status = Choice(CallbackStatus, load_default=None)
    alert = ma.fields.String(
        load_default="",
        validate=ma.validate.OneOf(
            ["", "near", "missed"], error=_l("one of %(choices)s", choices="near, missed")
        ),
    )
    limit = WholeNumber(1, 500, load_default=50)
    after = ma.fields.String(load_default="")
    before = ma.fields.String(load_default="")


def _keyset() -> Any:
    return time_and_id_keyset(
        Callback.created_at, Callback.id, lambda row: (row[0].created_at, row[0].id)
    )


def _numbers(session: Session, q: str) -> list[str] | None:
    """The numbers a search for q means, when q is a phone number (else None): every valid
    reading of it, in our official numbers' countries and the reader's own."""
    if sum(ch.isdigit() for ch in q) < 6 or not set(q) <= _PHONE_CHARACTERS:
        return None
    staff = current_staff()
    regions = [LANGUAGE_REGIONS.get(staff.language if staff else "en", "GB")]
    regions += regions_of(session.scalars(select(OfficialNumber.phone)))
    typed = read_typed_number(q, regions=regions, field="q")
    if not typed.readings:
        raise InvalidInput(
            _("We cannot read %(q)s as a phone number: type it with its country code", q=q),
            field="q",
        )
    return [reading.e164 for reading in typed.readings]


def _alerts(session: Session, moment: datetime) -> dict[str, int]:
    """How many open callbacks are near their deadline (raised by the worker) or past it."""
    open_ = Callback.status != CallbackStatus.DONE
    near = session.scalar(
        select(func.count()).where(
            open_, Callback.escalated_at.is_not(None), Callback.due_by > moment
        )
    )
    missed = session.scalar(select(func.count()).where(open_, Callback.due_by <= moment))
    return {"near": near or 0, "missed": missed or 0}


@bp.get("/callbacks")
@requires_role(READ)
def callbacks() -> tuple[str, int] | str:
    session, moment = db.session(), now()
    filters = {key: request.args.get(key, "") for key in ("q", "status", "alert", "limit")}
    try:
        args = read(CallbacksQuery, request.args)
        q, status, alert = args["q"].strip(), args["status"], args["alert"]
        numbers = _numbers(session, q) if q else None
        query = select(Callback, Customer).join(Customer, Customer.id == Callback.customer_id)
        if numbers is not None:
            query = query.where(or_(Callback.to_number.in_(numbers), Customer.phone.in_(numbers)))
        elif q:
            query = query.where(
                or_(Customer.external_id == q, Callback.flow == q, Customer.name == q)
            )
        if status:
            query = query.where(Callback.status == status)
        if alert:
            query = query.where(Callback.status != CallbackStatus.DONE)
            if alert == "missed":
                query = query.where(Callback.due_by <= moment)
            else:
                query = query.where(Callback.escalated_at.is_not(None), Callback.due_by > moment)
        page = paged(
            session,
            query,
            _keyset(),
            size=args["limit"],
            after=args["after"] or None,
            before=args["before"] or None,
            row=tuple,
        )
    except InvalidInput as error:
        return _list(
            Page(rows=[], size=50), filters, error=error, moment=moment, calls=[], numbers=None
        ), 422
    calls = []
    if numbers is not None:
        calls = list(
            session.scalars(
                select(Call)
                .where(or_(Call.to_number.in_(numbers), Call.from_number.in_(numbers)))
                .order_by(Call.created_at.desc(), Call.id.desc())
                .limit(CALLS_FOUND)
            )
        )
    return _list(page, filters, error=None, moment=moment, calls=calls, numbers=numbers)


def _list(
    page: Page,
    filters: dict[str, str],
    *,
    error: InvalidInput | None,
    moment: datetime,
    calls: list[Call],
    numbers: list[str] | None,
) -> str:
    kept = {key: value for key, value in filters.items() if value}
    return render_template(
        "console/callbacks.html",
        page=page,
        filters=filters,
        kept=kept,
        error=error,
        moment=moment,
        alerts=_alerts(db.session(), moment),
        calls=calls,
        numbers=numbers,
        statuses=list(CallbackStatus),
        page_sizes=PAGE_SIZES,
    )


# ----- one callback, one call -----


def _callback_or_404(callback_id: uuid.UUID) -> Callback:
    return db.session.get(Callback, callback_id) or abort(404)


@bp.get("/callbacks/<uuid:callback_id>")
@requires_role(READ)
def callback(callback_id: uuid.UUID) -> str:
    session = db.session()
    item = _callback_or_404(callback_id)
    customer = session.get(Customer, item.customer_id)
    attempts = list(
        session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.callback_id == callback_id)
            .order_by(CallbackAttempt.number.desc())
        )
    )
    attempt_calls = {a.call_id for a in attempts if a.call_id}
    calls = list(
        session.scalars(
            select(Call)
            .where(or_(Call.callback_id == callback_id, Call.id.in_(attempt_calls)))
            .order_by(Call.created_at.desc())
        )
    )
    staff = current_staff()
    return render_template(
        "console/callback.html",
        callback=item,
        customer=customer,
        attempts=attempts,
        calls=calls,
        calls_by_id={c.id: c for c in calls},
        related=_related(session, calls, callback_id=callback_id),
        audit_url=audit_link("callback", callback_id),
        moment=now(),
        can_call_now=staff is not None and staff.role in WORK,
        can_change=staff is not None and staff.role in RUN,
    )


def _related(
    session: Session, calls: list[Call], *, callback_id: uuid.UUID | None = None
) -> dict[str, list[Any]]:
    """The complaints and fraud cases that came of these calls (or of this callback)."""
    references = [c.reference for c in calls if c.reference]
    complaints = (
        list(session.scalars(select(Complaint).where(Complaint.call_reference.in_(references))))
        if references
        else []
    )
    conditions: list[ColumnElement[bool]] = [FraudCase.call_id.in_([c.id for c in calls])]
    if callback_id is not None:
        conditions.append(FraudCase.callback_id == callback_id)
    cases = list(session.scalars(select(FraudCase).where(or_(*conditions))))
    return {"complaints": complaints, "fraud_cases": cases}


@bp.get("/calls/<uuid:call_id>")
@requires_role(READ)
def call(call_id: uuid.UUID) -> str:
    session = db.session()
    item = session.get(Call, call_id) or abort(404)
    return render_template(
        "console/call.html",
        call=item,
        customer=session.get(Customer, item.customer_id) if item.customer_id else None,
        related=_related(session, [item]),
        audit_url=audit_link("call", call_id),
    )


# ----- a supervisor's cancel, new time and assign: a confirming page, then the change -----


class NewTimeForm(Form):
    at = ma.fields.String(load_default="")  # a browser's datetime-local, in the reader's zone
    confirmed = ma.fields.String(load_default="")


class AssignForm(Form):
    agent = ma.fields.UUID(load_default=None, error_messages={"invalid": _l("choose an agent")})
    confirmed = ma.fields.String(load_default="")


def _agents(session: Session) -> list[StaffUser]:
    """The people a callback can be handed to: active agents and supervisors, by name."""
    return list(
        session.scalars(
            select(StaffUser)
            .where(StaffUser.active.is_(True), StaffUser.role.in_([Role.AGENT, Role.SUPERVISOR]))
            .order_by(StaffUser.name)
        )
    )


def _confirm(item: Callback, action: str, status: int = 200, **values: Any) -> tuple[str, int]:
    session = db.session()
    return render_template(
        "console/callback_confirm.html",
        callback=item,
        customer=session.get(Customer, item.customer_id),
        action=action,
        agents=_agents(session) if action == "assign" else [],
        zone_name=str(get_timezone()),
        **values,
    ), status


@bp.get(
    "/callbacks/<uuid:callback_id>/cancel",
    endpoint="callback_cancel_ask",
    defaults={"action": "cancel"},
)
@bp.get(
    "/callbacks/<uuid:callback_id>/reschedule",
    endpoint="callback_reschedule_ask",
    defaults={"action": "reschedule"},
)
@bp.get(
    "/callbacks/<uuid:callback_id>/assign",
    endpoint="callback_assign_ask",
    defaults={"action": "assign"},
)
@requires_role(RUN)
def callback_change(callback_id: uuid.UUID, action: str) -> tuple[str, int]:
    """The page that asks before a change (and, for a new time or an agent, what it is)."""
    item = _callback_or_404(callback_id)
    return _confirm(item, action, step="ask")


@bp.post("/callbacks/<uuid:callback_id>/cancel")
@requires_role(RUN)
def callback_cancel(callback_id: uuid.UUID) -> Response:
    session = db.session()
    item = session.get(Callback, callback_id, with_for_update=True) or abort(404)
    try:
        lifecycle.cancel(session, item, now=now(), actor=staff_actor())
    except DomainError as exc:
        session.rollback()
        return refused(
            _("Not cancelled: %(why)s.", why=exc.message), "console.callback", callback_id=item.id
        )
    session.commit()
    return back(
        _("Cancelled: we will not call the customer about this."),
        "console.callback",
        callback_id=item.id,
    )


def _new_time(text: str, moment: datetime) -> datetime:
    """A time typed in the reader's zone, checked: in the future, within LATEST_NEW_TIME."""
    if not text.strip():
        raise InvalidInput(_("New time: choose a day and a time"), field="at")
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(_("New time: choose a day and a time"), field="at") from None
    # A zone by name (flask_babel's may be pytz's, which replace() would give its 1847 offset).
    at = local if local.tzinfo else local.replace(tzinfo=ZoneInfo(str(get_timezone())))
    if at <= moment:
        raise InvalidInput(_("New time: choose a time in the future"), field="at")
    if at > moment + LATEST_NEW_TIME:
        raise InvalidInput(_("New time: choose a time within 90 days"), field="at")
    return at


@bp.post("/callbacks/<uuid:callback_id>/reschedule")
@requires_role(RUN)
def callback_reschedule(callback_id: uuid.UUID) -> Response | tuple[str, int]:
    session, moment = db.session(), now()
    item = session.get(Callback, callback_id, with_for_update=True) or abort(404)
    form = read(NewTimeForm, request.form)
    try:
        at = _new_time(form["at"], moment)
    except InvalidInput as error:
        return _confirm(item, "reschedule", 422, step="ask", error=error, typed=form["at"])
    if not form["confirmed"]:
        return _confirm(item, "reschedule", step="confirm", at=at, typed=form["at"])
    try:
        lifecycle.reschedule(session, item, at, now=moment, actor=staff_actor())
    except DomainError as exc:
        session.rollback()
        return refused(
            _("Not changed: %(why)s.", why=exc.message), "console.callback", callback_id=item.id
        )
    session.commit()
    return back(_("New time saved."), "console.callback", callback_id=item.id)


@bp.post("/callbacks/<uuid:callback_id>/assign")
@requires_role(RUN)
def callback_assign(callback_id: uuid.UUID) -> Response | tuple[str, int]:
    """Hand a callback to an agent: we call the customer for them, verify them, and then ring
    that agent's desk (the agent's "call now", asked by a supervisor for them)."""
    session = db.session()
    item = session.get(Callback, callback_id, with_for_update=True) or abort(404)
    try:
        form = read(AssignForm, request.form)
        person = session.get(StaffUser, form["agent"]) if form["agent"] else None
        if person is None or person not in _agents(session):
            raise InvalidInput(_("Agent: choose an agent"), field="agent")
    except InvalidInput as error:
        return _confirm(item, "assign", 422, step="ask", error=error)
    if not form["confirmed"]:
        return _confirm(item, "assign", step="confirm", person=person)
    if item.flow == AGENT_CALLBACK_FLOW:
        return refused(
            _("Not assigned: this is already our call for an agent."),
            "console.callback",
            callback_id=item.id,
        )
    try:
        agent = agents.profile(session, person)
        calling = agents.call_now(session, agent, item, actor=staff_actor(), now=now())
        # On the matter too, so its own audit entries say who it was handed to.
        record(
            session,
            actor=staff_actor(),
            action="callback.assigned",
            subject_type="callback",
            subject_id=item.id,
            changes={"agent": person.email, "calling": calling.id},
        )
    except DomainError as exc:
        session.rollback()
        return refused(
            _("Not assigned: %(why)s.", why=exc.message), "console.callback", callback_id=item.id
        )
    session.commit()
    return back(
        _(
            "Assigned to %(name)s: we are calling the customer; their desk rings once the "
            "customer has verified.",
            name=person.name,
        ),
        "console.callback",
        callback_id=item.id,
    )


bp.add_app_template_filter(kept_text, "kept")


@bp.app_template_filter("outcome")
def outcome_shown(value: str | None) -> str:
    """A call's outcome, kept as text, by its label."""
    if not value:
        return "–"
    try:
        return label(Outcome(value))
    except ValueError:
        return value.replace("_", " ")


@bp.app_template_filter("attempt_result")
def attempt_result_shown(value: str | None) -> str:
    """How an attempt ended: "machine" or the call's last status, in words."""
    if not value:
        return "–"
    if value == "machine":
        return _("Reached a machine")
    try:
        return label(CallStatus(value))
    except ValueError:
        return value.replace("_", " ").replace("-", " ")


@bp.app_template_filter("callback_status")
def callback_status_shown(value: str | None) -> str:
    """A callback's status kept as text (a count's key), by its label."""
    if not value:
        return ""
    try:
        return label(CallbackStatus(value))
    except ValueError:
        return value

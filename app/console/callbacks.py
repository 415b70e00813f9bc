"""The callbacks screen: the queue, filtered, and one callback with its attempts and calls."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import abort, render_template, request
from sqlalchemy import or_, select

from app.callbacks.models import Callback, CallbackAttempt, CallbackStatus
from app.calls.models import Call
from app.console.blueprint import bp, requires_role
from app.console.forms import Choice, Form, read
from app.customers.models import Customer
from app.extensions import db
from app.staff.auth import READ, WORK, current_staff


class CallbacksQuery(Form):
    q = ma.fields.String(load_default="")  # a customer's id, a number or a flow
    status = Choice(CallbackStatus, load_default=None)


@bp.get("/callbacks")
@requires_role(READ)
def callbacks() -> str:
    args = read(CallbacksQuery, request.args)
    query = select(Callback, Customer).join(Customer, Customer.id == Callback.customer_id)
    q, status = args["q"].strip(), args["status"]
    if q:
        query = query.where(
            or_(
                Customer.external_id == q,
                Callback.to_number == q.replace(" ", ""),
                Callback.flow == q,
            )
        )
    if status:
        query = query.where(Callback.status == status)
    rows = db.session.execute(query.order_by(Callback.created_at.desc()).limit(200)).all()
    return render_template(
        "console/callbacks.html", rows=rows, q=q, status=status.value if status else None
    )


@bp.get("/callbacks/<uuid:callback_id>")
@requires_role(READ)
def callback(callback_id: uuid.UUID) -> str:
    item = db.session.get(Callback, callback_id) or abort(404)
    attempts = db.session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.callback_id == callback_id)
        .order_by(CallbackAttempt.number)
    ).all()
    calls = {a.call_id: db.session.get(Call, a.call_id) for a in attempts if a.call_id}
    staff = current_staff()
    can_call_now = staff is not None and staff.role in WORK
    return render_template(
        "console/callback.html",
        callback=item,
        attempts=attempts,
        calls=calls,
        can_call_now=can_call_now,
    )

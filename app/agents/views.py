"""Integrator API: the app's view of our calls to a customer."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from app import clock
from app.agents.call_status import STATES, call_status
from app.apikeys.auth import BEARER, require_api_key
from app.customers.service import get_customer
from app.extensions import db
from app.inputs import Blueprint

blp = require_api_key(
    Blueprint(
        "call_status",
        __name__,
        url_prefix="/api/v1/customers",
        description="What the customer's app shows of our calls to them (integrator key)",
    )
)


class CallStatusOut(ma.Schema):
    status = ma.fields.String(
        metadata={
            "description": "the first that holds: on_call, calling_now, scheduled, called, "
            "not_called",
            "enum": list(STATES),
        }
    )
    reference = ma.fields.String(
        allow_none=True,
        metadata={"description": "calling_now: the reference the call speaks"},
    )
    number = ma.fields.String(
        metadata={"description": "calling_now: our number their phone shows (E.164)"}
    )
    with_ = ma.fields.String(
        data_key="with",
        attribute="with",
        metadata={"description": 'on_call: "ivr", or the first name of the agent'},
    )
    at = ma.fields.DateTime(
        metadata={
            "description": "scheduled: when the callback is due (past: due now); called: when "
            "the last call in the last 24 hours started"
        }
    )


@blp.route("/<uuid:customer_id>/call-status")
class CallStatus(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CallStatusOut)
    @blp.alt_response(404, description="no customer has this id")
    def get(self, customer_id: uuid.UUID) -> dict[str, Any]:
        """Are we calling this customer now, are they on a call with us, did we call, will we?"""
        session = db.session()
        customer = get_customer(session, customer_id)
        return call_status(session, customer.id, now=clock.now())

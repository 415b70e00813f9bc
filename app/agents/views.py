"""Integrator API: the app's view of our calls to a customer."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import validate

from app import clock
from app.agents.call_status import STATES, as_json, call_status
from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.authenticity.models import ReportChannel
from app.authenticity.service import file_report
from app.customers.service import get_customer
from app.extensions import db
from app.inputs import Blueprint, InputSchema, MultilineString
from app.phones import parse_phone

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


class CallReportIn(InputSchema):
    number = ma.fields.String(
        load_default=None,
        metadata={
            "description": "the number the suspicious call showed, if the customer gives it "
            "(read in their own number's country when it has no country code)"
        },
    )
    description = MultilineString(load_default=None, validate=validate.Length(max=2000))


class CallReportOut(ma.Schema):
    reference = ma.fields.String(metadata={"description": "the scam report's reference"})
    call_status = ma.fields.Nested(
        CallStatusOut, metadata={"description": "our calls to the customer when they reported"}
    )


@blp.route("/<uuid:customer_id>/call-reports")
class CallReports(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(CallReportIn)
    @blp.response(201, CallReportOut)
    @blp.alt_response(404, description="no customer has this id")
    def post(self, payload: dict[str, Any], customer_id: uuid.UUID) -> dict[str, Any]:
        """Report a suspicious call from the app, in one step: the fraud queue gets it with our
        calls to the customer at that moment"""
        session = db.session()
        customer = get_customer(session, customer_id)
        now = clock.now()
        status = call_status(session, customer.id, now=now)
        report = file_report(
            session,
            number=payload["number"],
            channel=ReportChannel.APP,
            now=now,
            actor=current_actor(),
            locale=customer.locale,
            regions=[parse_phone(customer.phone).region],
            reporter_phone=customer.phone,
            description=payload["description"],
            customer_id=customer.id,
            call_status=as_json(status),
        )
        session.commit()
        return {"reference": report.reference, "call_status": status}

"""Integrator API: a fraud case by its reference (the one the customer's receipt names)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from app.apikeys.auth import BEARER, require_api_key
from app.extensions import db
from app.fraud import service
from app.inputs import Blueprint

blp = require_api_key(
    Blueprint(
        "fraud",
        __name__,
        url_prefix="/api/v1/fraud-cases",
        description="Fraud cases opened when a verified customer said it was not them",
    )
)


class FraudCaseOut(ma.Schema):
    reference = ma.fields.String()
    status = ma.fields.String()
    customer_id = ma.fields.UUID()
    callback_id = ma.fields.UUID(allow_none=True)
    call_id = ma.fields.UUID(allow_none=True)
    trigger = ma.fields.String()
    action = ma.fields.String(
        metadata={"description": "freeze_card, reject_withdrawal, block_registration, ..."}
    )
    created_at = ma.fields.AwareDateTime()
    receipt_sent_at = ma.fields.AwareDateTime(allow_none=True)


@blp.route("/<reference(FRD):reference>")
class FraudCaseByReference(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, FraudCaseOut)
    def get(self, reference: str) -> dict[str, Any]:
        """A fraud case"""
        case = service.get_case(db.session(), reference)
        return {
            **{c: getattr(case, c) for c in FraudCaseOut._declared_fields},
            "status": case.status.value,
        }

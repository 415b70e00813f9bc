"""Integrator API: the company's other channels freeze an account, or lift a freeze."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from app import clock
from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.customers.service import get_customer
from app.extensions import db
from app.freezes import service
from app.freezes.models import FreezeChannel, FreezeRequest
from app.freezes.schemas import FreezeIn, FreezeOut, UnfreezeIn
from app.inputs import Blueprint

blp = require_api_key(
    Blueprint(
        "freezes",
        __name__,
        url_prefix="/api/v1/customers",
        description="Freezing a customer's account at once, and lifting it after verification "
        "(integrator key)",
    )
)


@blp.route("/<uuid:customer_id>/freeze")
class Freeze(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(FreezeIn)
    @blp.response(201, FreezeOut)
    @blp.alt_response(200, schema=FreezeOut, description="the account was frozen already")
    def post(self, payload: dict[str, Any], customer_id: uuid.UUID) -> tuple[FreezeRequest, int]:
        """Freeze a customer's account (the caller has identified the customer)"""
        session = db.session()
        freeze, new = service.request_freeze(
            session,
            customer=get_customer(session, customer_id),
            channel=FreezeChannel(payload["channel"]),
            reason=payload["reason"],
            actor=current_actor(),
            now=clock.now(),
        )
        session.commit()
        return freeze, 201 if new else 200


@blp.route("/<uuid:customer_id>/unfreeze")
class Unfreeze(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(UnfreezeIn)
    @blp.response(200, FreezeOut)
    @blp.alt_response(409, description="the account is not frozen")
    def post(self, payload: dict[str, Any], customer_id: uuid.UUID) -> FreezeRequest:
        """Lift a freeze, after strong verification (never by the phone line alone)"""
        session = db.session()
        freeze = service.lift_freeze(
            session,
            customer=get_customer(session, customer_id),
            verified_by=payload["verified_by"],
            code=payload["code"],
            note=payload["note"],
            actor=current_actor(),
            now=clock.now(),
            keyring=current_app.extensions["verification_keyring"],
            policy=current_app.extensions["verification_policy"],
        )
        session.commit()
        return freeze

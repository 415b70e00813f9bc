"""Integrator API for the official-number registry."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.errors import NotFound
from app.extensions import db
from app.flows.registry import inbound_flow_names
from app.inputs import Blueprint
from app.numbers import service
from app.numbers.models import OfficialNumber
from app.numbers.schemas import (
    OfficialNumberCreate,
    OfficialNumberHistory,
    OfficialNumberOut,
    OfficialNumberQuery,
)
from app.phones import parse_phone

blp = require_api_key(
    Blueprint(
        "official_numbers",
        __name__,
        url_prefix="/api/v1/official-numbers",
        description="The registry of numbers we call from and answer on (integrator key)",
    )
)


@blp.route("")
class OfficialNumbers(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(OfficialNumberCreate)
    @blp.response(201, OfficialNumberOut)
    @blp.alt_response(409, description="the number is already in service")
    def post(self, payload: dict[str, Any]) -> OfficialNumber:
        """Put a number in service"""
        number = service.register_official_number(
            db.session(), actor=current_actor(), inbound_flows=inbound_flow_names(), **payload
        )
        db.session.commit()
        return number

    @blp.doc(security=BEARER)
    @blp.arguments(OfficialNumberQuery, location="query")
    @blp.response(200, OfficialNumberOut(many=True))
    def get(self, query: dict[str, Any]) -> list[OfficialNumber]:
        """Numbers in service (and, on request, retired ones)"""
        return service.list_numbers(db.session(), include_retired=query["include_retired"])


@blp.route("/<string:phone>")
class OfficialNumberByPhone(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, OfficialNumberHistory)
    def get(self, phone: str) -> dict[str, Any]:
        """Every period of service of one number"""
        e164 = parse_phone(phone).e164
        periods = service.history(db.session(), e164)
        if not periods:
            raise NotFound(f"phone: {e164} has never been an official number", field="phone")
        return {"phone": e164, "periods": periods}

    @blp.doc(security=BEARER)
    @blp.response(200, OfficialNumberOut)
    def delete(self, phone: str) -> OfficialNumber:
        """Retire a number, keeping its history"""
        number = service.retire_official_number(db.session(), actor=current_actor(), phone=phone)
        db.session.commit()
        return number

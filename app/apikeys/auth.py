"""The bearer-key check in front of every integrator route."""

from __future__ import annotations

import uuid

from flask import current_app, g, request

from app.apikeys.service import authenticate
from app.audit.service import Actor
from app.errors import Unauthorized
from app.extensions import db
from app.inputs import Blueprint

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def require_api_key(blueprint: Blueprint) -> Blueprint:
    """Every route of the blueprint answers 401 unless a valid key is presented."""

    @blueprint.before_request
    def _check_key() -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if not header:
            raise Unauthorized(
                "Authorization: send 'Authorization: Bearer <API key>'",
                field="Authorization",
                code="missing_api_key",
            )
        if scheme.lower() != "bearer" or not presented.strip():
            raise Unauthorized(
                "Authorization: use the Bearer scheme",
                field="Authorization",
                code="invalid_api_key",
            )
        label = authenticate(
            db.session(), presented.strip(), configured=current_app.config["API_KEYS"]
        )
        if label is None:
            raise Unauthorized(
                "Authorization: this API key is not valid",
                field="Authorization",
                code="invalid_api_key",
            )
        g.actor = Actor(label, request_id=g.get("request_id"))

    return blueprint


def current_actor() -> Actor:
    """Who the current request acts as (set by the key check)."""
    actor = g.get("actor")
    if actor is None:  # a public route: anonymous, but still traceable by request id
        actor = Actor("anonymous", request_id=g.get("request_id", str(uuid.uuid4())))
    return actor

"""Integrator API for customers."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView

from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.customers import service
from app.customers.models import Customer
from app.customers.schemas import CustomerCreate, CustomerOut, CustomerQuery, CustomerUpdate
from app.extensions import db
from app.inputs import Blueprint

blp = require_api_key(
    Blueprint(
        "customers",
        __name__,
        url_prefix="/api/v1/customers",
        description="Customers we call back (integrator key)",
    )
)


def _keyring() -> Any:
    """The verification keyring (app.verification puts it in the app's extensions)."""
    return current_app.extensions["verification_keyring"]


@blp.route("")
class Customers(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(CustomerCreate)
    @blp.response(201, CustomerOut)
    @blp.alt_response(409, description="a customer has this external_id already")
    def post(self, payload: dict[str, Any]) -> Customer:
        """Register a customer"""
        customer = service.create_customer(
            db.session(), actor=current_actor(), keyring=_keyring(), **payload
        )
        db.session.commit()
        return customer

    @blp.doc(security=BEARER)
    @blp.arguments(CustomerQuery, location="query")
    @blp.response(200, CustomerOut)
    @blp.alt_response(404, description="no customer has this external_id")
    def get(self, query: dict[str, Any]) -> Customer:
        """Find a customer by the core system's id"""
        return service.find_by_external_id(db.session(), query["external_id"])


@blp.route("/<uuid:customer_id>")
class CustomerById(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CustomerOut)
    def get(self, customer_id: uuid.UUID) -> Customer:
        """A customer"""
        return service.get_customer(db.session(), customer_id)

    @blp.doc(security=BEARER)
    @blp.arguments(CustomerUpdate)
    @blp.response(200, CustomerOut)
    @blp.alt_response(409, description="another customer has this phone number")
    def patch(self, payload: dict[str, Any], customer_id: uuid.UUID) -> Customer:
        """Change a customer's language, name, time zone or phone number"""
        customer = service.update_customer(
            db.session(),
            actor=current_actor(),
            customer_id=customer_id,
            keyring=_keyring(),
            **payload,
        )
        db.session.commit()
        return customer

"""Customers with codes: the real checker (not the telephony tests' stand-in), calls to check on."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pyotp
import pytest

from app.audit.service import Actor
from app.calls.models import Call, CallDirection
from app.extensions import db
from app.ivr.steps import code_checker_for
from app.verification import service
from app.verification.checker import keyring_for
from tests.engine_fixtures import MORNING

PHONES = {
    "en": "+44 20 7946 0123",
    "it": "+39 333 123 4567",
    "pl": "+48 601 234 567",
    "zh": "+86 138 1234 5678",
}


@pytest.fixture
def real_codes(app, simulator):
    """The simulator as carrier, and the product's own code checker behind every verify node."""
    app.extensions.pop("code_checker", None)
    return code_checker_for(app)


def register(api, external_id: str = "cust-it", phone: str = PHONES["it"], **extra) -> dict:
    response = api.post(
        "/api/v1/customers", json={"external_id": external_id, "phone": phone, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def new_call(app, customer_id, callback_id=None) -> Call:
    """A call in progress with the customer (the row the IVR's webhooks work on)."""
    with app.app_context():
        call = Call(
            id=uuid.uuid4(),
            direction=CallDirection.OUTBOUND,
            from_number="+14155550100",
            to_number="+393331234567",
            customer_id=uuid.UUID(str(customer_id)),
            callback_id=uuid.UUID(str(callback_id)) if callback_id else None,
            flow="transaction_alert",
            flow_version=1,
            locale="it",
        )
        db.session.add(call)
        db.session.commit()
        db.session.expunge(call)
        return call


def check(app, call: Call, code: str):
    """What the verify node hears back for a typed code (the IVR's own code path)."""
    with app.app_context():
        result = code_checker_for(app)(db.session, db.session.merge(call), code)
        db.session.commit()
        return result


def enrol(app, customer_id, *, secret: bytes | None = None, digits: int = 6) -> pyotp.TOTP:
    """Enrol through the service (tests need a known secret); answers the app's TOTP."""
    import base64
    import hashlib

    with app.app_context():
        authenticator = service.enrol_authenticator(
            db.session,
            uuid.UUID(str(customer_id)),
            keyring=keyring_for(app),
            now=app.extensions["clock"](),
            actor=Actor("test"),
            secret=secret,
            digits=digits,
        )
        raw = keyring_for(app).decrypt(
            authenticator.key_id,
            authenticator.secret_ciphertext,
            context=f"authenticator:{authenticator.customer_id}",
        )
        db.session.commit()
    return pyotp.TOTP(base64.b32encode(raw).decode(), digits=digits, digest=hashlib.sha1)


def at(totp: pyotp.TOTP, moment, steps: int = 0) -> str:
    return totp.at(moment + timedelta(seconds=30 * steps))


__all__ = ["MORNING", "PHONES", "at", "check", "enrol", "new_call", "register"]

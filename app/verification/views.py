"""Integrator API: enrol an authenticator, mint app codes, see and clear a customer's lock."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import segno
from flask import Response, current_app, url_for
from flask.typing import ResponseReturnValue
from flask.views import MethodView

from app import clock
from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.extensions import db
from app.inputs import Blueprint
from app.verification import service
from app.verification.checker import keyring_for, policy_for
from app.verification.schemas import (
    AppCodeCreate,
    AppCodeOut,
    AuthenticatorOut,
    Unlock,
    VerificationStateOut,
)

blp = require_api_key(
    Blueprint(
        "verification",
        __name__,
        url_prefix="/api/v1/customers",
        description="Codes from the customer's app: authenticators, one-time codes, locks",
    )
)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blp.route("/<uuid:customer_id>/authenticator")
class AuthenticatorEnrolment(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(201, AuthenticatorOut)
    def post(self, customer_id: uuid.UUID) -> ResponseReturnValue:
        """Enrol a TOTP authenticator for the customer's app (replaces the earlier one)"""
        keyring = keyring_for(current_app)
        authenticator = service.enrol_authenticator(
            db.session(), customer_id, keyring=keyring, now=clock.now(), actor=current_actor()
        )
        uri = service.provisioning_uri(
            db.session(), authenticator, keyring=keyring, issuer=current_app.config["COMPANY_NAME"]
        )
        db.session.commit()
        body = {
            "otpauth_uri": uri,
            "qr_svg_url": url_for(".qr", customer_id=customer_id, fmt="svg"),
            "qr_png_url": url_for(".qr", customer_id=customer_id, fmt="png"),
            "qr_available_until": service.qr_available_until(
                authenticator, policy=policy_for(current_app)
            ),
            "enrolled_at": authenticator.enrolled_at,
        }
        return body, 201, NO_STORE


@blp.route("/<uuid:customer_id>/authenticator/qr.<any(svg, png):fmt>", endpoint="qr")
class AuthenticatorQr(MethodView):
    @blp.doc(
        security=BEARER,
        responses={
            "200": {
                "description": "the otpauth URI as a QR code",
                "content": {"image/svg+xml": {}, "image/png": {}},
            },
            "410": {
                "description": "only shown for a short while after enrolment (the "
                "verification policy's authenticator.qr_shown_for), before first use"
            },
        },
    )
    def get(self, customer_id: uuid.UUID, fmt: str) -> Response:
        """The new authenticator's QR code, for the app to scan"""
        keyring = keyring_for(current_app)
        authenticator = service.authenticator_for_qr(
            db.session(), customer_id, now=clock.now(), policy=policy_for(current_app)
        )
        uri = service.provisioning_uri(
            db.session(), authenticator, keyring=keyring, issuer=current_app.config["COMPANY_NAME"]
        )
        out = io.BytesIO()
        segno.make(uri, error="m").save(out, kind=fmt, scale=6, border=4)
        mimetype = "image/svg+xml" if fmt == "svg" else "image/png"
        return Response(out.getvalue(), mimetype=mimetype, headers=NO_STORE)


@blp.route("/<uuid:customer_id>/app-codes")
class AppCodes(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(AppCodeCreate, required=False)
    @blp.response(201, AppCodeOut)
    @blp.alt_response(409, description="the callback named is already over")
    def post(self, payload: dict[str, Any], customer_id: uuid.UUID) -> ResponseReturnValue:
        """Mint a one-time code for the app to show (replaces the live one)"""
        code, app_code = service.issue_app_code(
            db.session(),
            customer_id,
            keyring=keyring_for(current_app),
            now=clock.now(),
            actor=current_actor(),
            ttl=timedelta(seconds=current_app.config["APP_CODE_TTL_SECONDS"]),
            digits=current_app.config["APP_CODE_DIGITS"],
            purpose=payload["purpose"],
            callback_id=payload["callback_id"],
        )
        db.session.commit()
        body = {
            "code": code,
            "expires_at": app_code.expires_at,
            "purpose": app_code.purpose.value,
            "callback_id": app_code.callback_id,
        }
        return body, 201, NO_STORE


@blp.route("/<uuid:customer_id>/verification")
class VerificationState(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, VerificationStateOut)
    def get(self, customer_id: uuid.UUID) -> dict[str, Any]:
        """What the customer has enrolled, whether they are locked, how many codes failed"""
        return service.state(
            db.session(), customer_id, now=clock.now(), policy=policy_for(current_app)
        )


@blp.route("/<uuid:customer_id>/verification/unlock")
class VerificationUnlock(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(Unlock)
    @blp.response(200, VerificationStateOut)
    @blp.alt_response(409, description="the customer is not locked")
    def post(self, payload: dict[str, Any], customer_id: uuid.UUID) -> dict[str, Any]:
        """Clear the lock after a success in the app or a supervisor's decision"""
        actor = current_actor()
        service.clear_lock(
            db.session(),
            customer_id,
            cleared_by=payload["cleared_by"],
            note=payload["note"],
            now=clock.now(),
            actor=actor,
        )
        db.session.commit()
        return service.state(
            db.session(), customer_id, now=clock.now(), policy=policy_for(current_app)
        )

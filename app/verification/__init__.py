"""Verification codes: the customer proves on the phone that the app is theirs."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The verification policy and the verification API."""
    from app.verification.policy import load_verification_policy
    from app.verification.views import blp

    app.extensions["verification_policy"] = load_verification_policy(
        app.config.get("VERIFICATION_POLICY_FILE")
    )
    registry_of(app).api_blueprint(blp)

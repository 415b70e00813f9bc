"""Verification codes: the customer proves on the phone that the app is theirs."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The verification keys and policy, and the verification API."""
    from app.config import ConfigurationError
    from app.verification.keys import BadKey, keyring
    from app.verification.policy import load_verification_policy

    try:
        # Also hashes the customers' birth dates (app.customers.facts), which cannot import it.
        app.extensions["verification_keyring"] = keyring(
            app.config.get("VERIFICATION_KEYS") or (), fallback=app.config.get("SECRET_KEY")
        )
    except BadKey as exc:
        raise ConfigurationError(f"VERIFICATION_KEYS: {exc}") from None
    from app.verification.views import blp

    app.extensions["verification_policy"] = load_verification_policy(
        app.config.get("VERIFICATION_POLICY_FILE")
    )
    registry_of(app).api_blueprint(blp)

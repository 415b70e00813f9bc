"""Verification codes: the customer proves on the phone that the app is theirs."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.verification.views import blp

    registry_of(app).api_blueprint(blp)

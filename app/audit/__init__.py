"""The append-only audit log: who changed what, when, and through which request."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.audit.views import blp

    registry_of(app).api_blueprint(blp)

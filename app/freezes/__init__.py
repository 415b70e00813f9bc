"""Freeze first, verify later: a customer who lost their phone, or fears someone is in their
account, freezes it from the phone lines, the public page or the company's other channels."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The freeze API, the public page and the lines' `freeze_account` action."""
    from app.freezes import line
    from app.freezes.views import blp
    from app.freezes.web import bp

    registry = registry_of(app)
    registry.api_blueprint(blp)
    registry.blueprint(bp)
    line.register_actions(registry)

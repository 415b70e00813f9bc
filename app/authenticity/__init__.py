""" "Is this call really from us?": the public check, scam reports, and the phone line."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.authenticity import line
    from app.authenticity.views import public, staff
    from app.authenticity.web import bp

    registry = registry_of(app)
    registry.blueprint(bp)
    registry.api_blueprint(public)
    registry.api_blueprint(staff)
    line.register_actions(registry)

"""Campaigns: many customers called about one matter, on a schedule."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.campaigns import engine, line
    from app.campaigns.views import blp

    registry = registry_of(app)
    registry.api_blueprint(blp)
    registry.tick("campaigns", 15.0, engine.campaigns)
    line.register_actions(registry)

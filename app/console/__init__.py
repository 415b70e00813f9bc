"""The staff console: supervisors, agents and auditors at work in the browser."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.console.views import bp

    registry_of(app).blueprint(bp)

"""Liveness of the web process, its database and the worker."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.health.views import bp

    registry_of(app).blueprint(bp)

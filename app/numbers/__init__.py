"""The registry of official numbers: the lines we call from and answer on."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.numbers.views import blp

    registry_of(app).api_blueprint(blp)

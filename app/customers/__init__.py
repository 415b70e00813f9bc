"""Customers of the financial company: the people we call back."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.customers.views import blp

    registry_of(app).api_blueprint(blp)

"""The staff console: supervisors, agents and auditors at work in the browser."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.console.blueprint import error_page_in_the_console
    from app.console.labels import LABELS
    from app.console.views import bp
    from app.errors import add_error_page_renderer
    from app.i18n import register_labels

    register_labels(LABELS)
    add_error_page_renderer(app, error_page_in_the_console)
    registry_of(app).blueprint(bp)

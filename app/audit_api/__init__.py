"""The audit log read over the integrator API: a face over the platform's audit log.

It lives apart from app.audit because the log is written by every layer, while this API sits
behind the integrator keys (app.apikeys), which themselves write to the log.
"""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.audit_api.views import blp

    registry_of(app).api_blueprint(blp)

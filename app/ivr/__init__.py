"""The IVR call layer: Twilio's webhooks, answered by running each call's flow."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The carriers' webhooks (status reports, inbound calls, each step of a flow)."""
    from app.ivr.views import bp

    registry_of(app).blueprint(bp)

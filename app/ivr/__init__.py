"""The IVR call layer: Twilio's webhooks, answered by running each call's flow."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The carriers' webhooks (status reports, inbound calls, each step of a flow), and the
    worker tick that offers callers waiting for a person a call back, keeping their place."""
    from app.ivr.views import bp
    from app.ivr.waiting import OFFER_EVERY_SECONDS, offer_call_backs_tick

    registry = registry_of(app)
    registry.blueprint(bp)
    registry.tick("queue_call_back_offers", OFFER_EVERY_SECONDS, offer_call_backs_tick)

"""Calls and the carriers that place them: Twilio, or the built-in simulator."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The carriers' webhooks; and, off production with the simulator, the softphone."""
    from app.telephony.views import bp

    registry = registry_of(app)
    registry.blueprint(bp)
    # The softphone shows simulated calls' prompts to whoever opens it: never in production.
    if app.config["TELEPHONY"] == "simulator" and app.config["ENV_NAME"] != "production":
        from app.telephony.softphone_views import bp as softphone_bp

        registry.blueprint(softphone_bp)

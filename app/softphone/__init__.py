"""The softphone page (development and tests only): take simulated calls in the browser."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """Off production, with the simulator, the softphone page."""
    # The softphone shows simulated calls' prompts to whoever opens it: never in production.
    if app.config["TELEPHONY"] == "simulator" and app.config["ENV_NAME"] != "production":
        from app.softphone.views import bp

        registry_of(app).blueprint(bp)

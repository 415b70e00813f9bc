"""Messaging: texts, e-mails and the core system's webhooks, delivered through one outbox."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The outbox's one worker tick."""
    from app.messaging.engine import outbox

    registry_of(app).tick("outbox", 5.0, outbox)

"""The app's notion of now: UTC from the system, or a fixed clock that tests set."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.database import utcnow


def now() -> datetime:
    """The current time for the current app (tests put a clock in app.extensions["clock"])."""
    return current_app.extensions.get("clock", utcnow)()

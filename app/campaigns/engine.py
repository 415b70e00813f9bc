"""The worker's campaign tick: scheduled starts, cron repeats, completion."""

from __future__ import annotations

from flask import Flask

from app import clock
from app.campaigns import service
from app.extensions import db


def campaigns(app: Flask, worker: str) -> None:
    """Registered by app.campaigns.init_app as the worker's `campaigns` tick."""
    service.tick(db.session(), policy=app.extensions["callback_policy"], now=clock.now())

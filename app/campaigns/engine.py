"""The worker's campaign tick: scheduled starts, cron repeats, completion."""

from __future__ import annotations

from flask import Flask

from app import clock
from app.callbacks.engine import tick_job
from app.campaigns import service
from app.extensions import db


def ticks(app: Flask) -> dict[str, tuple[float, object]]:
    def campaigns() -> None:
        service.tick(db.session, policy=app.extensions["callback_policy"], now=clock.now())

    return {"campaigns": (15.0, tick_job(app, campaigns))}

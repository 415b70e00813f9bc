"""/healthz for load balancers and operators, and the home page."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.database import utcnow
from app.extensions import db
from app.worker.service import latest_heartbeat

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers; the worker's last heartbeat is reported, not required."""
    try:
        db.session.execute(text("SELECT 1"))
        heartbeat = latest_heartbeat(db.session())
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("health check: database unreachable", extra={"error": type(exc).__name__})
        return jsonify(status="unavailable", database="unreachable"), 503
    worker = None
    if heartbeat is not None:
        worker = {
            "last_beat_at": heartbeat.last_beat_at.isoformat(),
            "age_seconds": round((utcnow() - heartbeat.last_beat_at).total_seconds(), 1),
        }
    return jsonify(
        status="ok",
        database="ok",
        database_backend=db.engine.dialect.name,
        telephony=current_app.config["TELEPHONY"],
        worker=worker,
    )


@bp.get("/")
def home() -> str:
    return render_template("home.html")

"""Wiring complaints into the app: transcriptions of recorded complaints, and the worker's ticks."""

from __future__ import annotations

from datetime import datetime

from flask import Config, Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.callbacks.engine import tick_job
from app.calls import service as calls
from app.calls.models import Call
from app.complaints import service
from app.complaints.notify import queue_messages
from app.extensions import db
from app.messaging.engine import collecting


def _on_transcription(call: Call, *, session: Session, text: str) -> None:
    service.attach_transcription(session, call.id, text)


def _on_transcription_failed(call: Call, *, session: Session) -> None:
    service.transcription_failed(session, call.id, now=clock.now())


def connect(app: Flask) -> None:
    calls.transcription_received.connect(_on_transcription, weak=False)
    calls.transcription_failed.connect(_on_transcription_failed, weak=False)
    collecting.connect(_queue_messages, weak=False)


def _queue_messages(_: object, *, session: Session, now: datetime, config: Config) -> None:
    queue_messages(session, mail_from=config["MAIL_FROM"], now=now)


def ticks(app: Flask) -> dict[str, tuple[float, object]]:
    def complaint_deadlines() -> None:
        service.watch_deadlines(
            db.session, policy=current_app.extensions["complaints_policy"], now=clock.now()
        )

    return {
        "complaint_deadlines": (60.0, tick_job(app, complaint_deadlines)),
    }

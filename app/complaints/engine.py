"""Complaints' moving parts: receivers for transcriptions of recorded complaints, and the
worker's ticks, which app.complaints.init_app registers."""

from __future__ import annotations

from datetime import datetime

from flask import Config, Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.calls.models import Call
from app.complaints import service
from app.complaints.notify import queue_messages
from app.extensions import db


def on_transcription(call: Call, *, session: Session, text: str) -> None:
    service.attach_transcription(session, call.id, text)


def on_transcription_failed(call: Call, *, session: Session) -> None:
    service.transcription_failed(session, call.id, now=clock.now())


def queue_messages_due(_: object, *, session: Session, now: datetime, config: Config) -> None:
    queue_messages(session, mail_from=config["MAIL_FROM"], now=now)


# ----- the worker's ticks (registered by app.complaints.init_app) -----


def complaint_deadlines(app: Flask, worker: str) -> None:
    service.watch_deadlines(
        db.session(), policy=current_app.extensions["complaints_policy"], now=clock.now()
    )

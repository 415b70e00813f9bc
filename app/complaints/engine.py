"""Wiring complaints into the app: transcriptions of recorded complaints, and the worker's ticks."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.callbacks.engine import tick_job
from app.calls import service as calls
from app.calls.models import Call
from app.carriers.service import telephony_for
from app.complaints import service
from app.complaints.notify import send_messages
from app.extensions import db


def _on_transcription(call: Call, *, session: Session, text: str) -> None:
    service.attach_transcription(session, call.id, text)


def _on_transcription_failed(call: Call, *, session: Session) -> None:
    service.transcription_failed(session, call.id, now=clock.now())


def connect(app: Flask) -> None:
    calls.transcription_received.connect(_on_transcription, weak=False)
    calls.transcription_failed.connect(_on_transcription_failed, weak=False)


def ticks(app: Flask) -> dict[str, tuple[float, object]]:
    def complaint_deadlines() -> None:
        service.watch_deadlines(
            db.session, policy=current_app.extensions["complaints_policy"], now=clock.now()
        )

    def complaint_messages() -> None:
        send_messages(
            db.session,
            telephony=telephony_for(app),
            smtp_url=app.config.get("SMTP_URL"),
            mail_from=app.config["MAIL_FROM"],
            now=clock.now(),
        )

    return {
        "complaint_deadlines": (60.0, tick_job(app, complaint_deadlines)),
        "complaint_messages": (10.0, tick_job(app, complaint_messages)),
    }

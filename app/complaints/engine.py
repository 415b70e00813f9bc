"""Complaints' moving parts: receivers for transcriptions of recorded complaints, and the
worker's ticks, which app.complaints.init_app registers."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.calls.models import Call
from app.carriers.service import telephony_for
from app.complaints import service
from app.complaints.notify import send_messages
from app.extensions import db


def on_transcription(call: Call, *, session: Session, text: str) -> None:
    service.attach_transcription(session, call.id, text)


def on_transcription_failed(call: Call, *, session: Session) -> None:
    service.transcription_failed(session, call.id, now=clock.now())


# ----- the worker's ticks (registered by app.complaints.init_app) -----


def complaint_deadlines(app: Flask, worker: str) -> None:
    service.watch_deadlines(
        db.session, policy=current_app.extensions["complaints_policy"], now=clock.now()
    )


def complaint_messages(app: Flask, worker: str) -> None:
    send_messages(
        db.session,
        telephony=telephony_for(app),
        smtp_url=app.config.get("SMTP_URL"),
        mail_from=app.config["MAIL_FROM"],
        now=clock.now(),
    )

"""Wiring the callback engine into the app: the call-ended receiver and the worker's ticks."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Config, Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.callbacks.dispatch import Dispatcher, call_ended
from app.callbacks.notices import queue_notices
from app.calls import service as calls
from app.calls.models import Call
from app.carriers.service import telephony_for
from app.extensions import db
from app.flows.registry import flows
from app.fraud.service import queue_receipts
from app.messaging.engine import collecting

log = logging.getLogger(__name__)


def _on_call_ended(call: Call, *, session: Session) -> None:
    call_ended(
        call, session=session, policy=current_app.extensions["callback_policy"], now=clock.now()
    )


def connect(app: Flask) -> None:
    # blinker keeps one connection per receiver, so connecting again is harmless.
    calls.call_ended.connect(_on_call_ended, weak=False)
    collecting.connect(_queue_texts, weak=False)


def _queue_texts(_: object, *, session: Session, now: datetime, config: Config) -> None:
    """The outbox asks: the notices of callbacks we gave up on, and fraud cases' receipts."""
    queue_notices(session, company=config["COMPANY_NAME"], now=now)
    queue_receipts(session, company=config["COMPANY_NAME"], now=now)


def dispatcher(app: Flask, worker: str) -> Dispatcher:
    """A dispatcher for this app's session, carrier, flows and policy (in an app context)."""
    return Dispatcher(
        session=db.session,
        policy=app.extensions["callback_policy"],
        telephony=telephony_for(app),
        urls=calls.CallUrls(app),
        flows=flows(),
        worker=worker,
        now=clock.now,
    )


def tick_job(app: Flask, step):  # type: ignore[no-untyped-def]
    """A worker job: the step in an app context; a failure is logged and rolled back."""

    def job() -> None:
        with app.app_context():
            try:
                step()
            except Exception:
                db.session.rollback()
                log.exception("worker tick failed", extra={"tick": step.__name__})
            finally:
                db.session.remove()

    return job


def ticks(app: Flask, worker: str) -> dict[str, tuple[float, object]]:
    """The worker's periodic jobs: (seconds between runs, function)."""

    def run(step):  # type: ignore[no-untyped-def]
        return tick_job(app, step)

    def dispatch() -> None:
        dispatcher(app, worker).dispatch()

    def reap() -> None:
        dispatcher(app, worker).reap()

    def escalate() -> None:
        dispatcher(app, worker).escalate()

    lease = app.extensions["callback_policy"].lease.total_seconds()
    return {
        "dispatch": (1.0, run(dispatch)),
        # Often enough that a lost lease is noticed within half its length.
        "reap": (max(1.0, min(30.0, lease / 2)), run(reap)),
        "escalate": (60.0, run(escalate)),
    }

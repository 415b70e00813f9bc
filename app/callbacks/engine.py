"""Wiring the callback engine into the app: the call-ended receiver and the worker's ticks."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.callbacks.after_call import call_ended
from app.callbacks.core_webhook import deliver_due
from app.callbacks.dialer import Dispatcher
from app.callbacks.notices import send_notices
from app.callbacks.reaper import Reaper
from app.extensions import db
from app.flows.registry import flows
from app.fraud.service import send_receipts
from app.telephony import calls
from app.telephony.models import Call
from app.telephony.service import telephony_for

log = logging.getLogger(__name__)


def _on_call_ended(call: Call, *, session: Session) -> None:
    call_ended(
        call, session=session, policy=current_app.extensions["callback_policy"], now=clock.now()
    )


def connect(app: Flask) -> None:
    # blinker keeps one connection per receiver, so connecting again is harmless.
    calls.call_ended.connect(_on_call_ended, weak=False)


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


def reaper(app: Flask, worker: str) -> Reaper:
    """A reaper for this app's session, carrier and policy (in an app context)."""
    return Reaper(
        session=db.session,
        policy=app.extensions["callback_policy"],
        telephony=telephony_for(app),
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
        reaper(app, worker).reap()

    def escalate() -> None:
        reaper(app, worker).escalate()

    def core_webhooks() -> None:
        deliver_due(
            db.session,
            url=app.config.get("CORE_WEBHOOK_URL"),
            secret=app.config.get("CORE_WEBHOOK_SECRET"),
            now=clock.now(),
        )

    def notices() -> None:
        send_notices(
            db.session,
            telephony=telephony_for(app),
            company=app.config["COMPANY_NAME"],
            now=clock.now(),
        )

    def receipts() -> None:
        send_receipts(
            db.session,
            telephony=telephony_for(app),
            company=app.config["COMPANY_NAME"],
            now=clock.now(),
        )

    lease = app.extensions["callback_policy"].lease.total_seconds()
    return {
        "dispatch": (1.0, run(dispatch)),
        # Often enough that a lost lease is noticed within half its length.
        "reap": (max(1.0, min(30.0, lease / 2)), run(reap)),
        "escalate": (60.0, run(escalate)),
        "notices": (30.0, run(notices)),
        # The receipt after "it was not me" should reach the customer while they still remember.
        "receipts": (5.0, run(receipts)),
        "core_webhooks": (5.0, run(core_webhooks)),
    }

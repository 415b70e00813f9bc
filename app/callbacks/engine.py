"""The callback engine's moving parts: the call-ended receiver and the worker's ticks, which
app.callbacks.init_app registers."""

from __future__ import annotations

from datetime import datetime

from flask import Config, Flask, current_app
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.callbacks.after_call import call_ended
from app.callbacks.dialer import (
    BACKLOG_RUN,
    CREATE_TIMES,
    PREPARE_LEAD,
    Dispatcher,
    creates_at_once,
)
from app.callbacks.lifecycle import follow_new_number
from app.callbacks.notices import queue_notices
from app.callbacks.reaper import Reaper
from app.calls import service as calls
from app.calls.models import Call
from app.carriers.service import telephony_for
from app.customers.models import Customer
from app.extensions import db
from app.flows.registry import flows


def on_call_ended(call: Call, *, session: Session) -> None:
    call_ended(
        call, session=session, policy=current_app.extensions["callback_policy"], now=clock.now()
    )


def on_phone_changed(
    customer: Customer, *, session: Session, old: str, new: str, actor: Actor
) -> None:
    """A customer's new number: their callbacks waiting to be dialed ring it."""
    follow_new_number(session, customer.id, old=old, new=new, actor=actor)


def queue_notices_due(_: object, *, session: Session, now: datetime, config: Config) -> None:
    """The outbox asks: the notices of callbacks we gave up on."""
    queue_notices(session, company=config["COMPANY_NAME"], now=now)


def dispatcher(app: Flask, worker: str) -> Dispatcher:
    """A dispatcher for this app's session, carrier, flows and policy (in an app context): it
    sends creates at once as its calls per second need with CARRIER_CREATE_SECONDS each, and
    goes on claiming while a backlog lasts."""
    policy = app.extensions["callback_policy"]
    return Dispatcher(
        session=db.session(),
        policy=policy,
        telephony=telephony_for(app),
        urls=calls.CallUrls(app),
        flows=flows(),
        worker=worker,
        now=clock.now,
        creates_at_once=creates_at_once(
            policy.calls_per_second,
            policy.max_concurrent_calls,
            float(app.config["CARRIER_CREATE_SECONDS"]),
        ),
        backlog_run=BACKLOG_RUN,
        times=CREATE_TIMES,
        lead=PREPARE_LEAD,
    )


def reaper(app: Flask, worker: str) -> Reaper:
    """A reaper for this app's session, carrier and policy (in an app context)."""
    return Reaper(
        session=db.session(),
        policy=app.extensions["callback_policy"],
        telephony=telephony_for(app),
        worker=worker,
        now=clock.now,
    )


# ----- the worker's ticks (registered by app.callbacks.init_app) -----


def dispatch(app: Flask, worker: str) -> None:
    dispatcher(app, worker).dispatch()


def dispatch_every(app: Flask) -> float:
    return float(app.config["DISPATCH_TICK_SECONDS"])


def reap(app: Flask, worker: str) -> None:
    reaper(app, worker).reap()


def reap_every(app: Flask) -> float:
    """Often enough that a lost lease is noticed within half its length."""
    lease: float = app.extensions["callback_policy"].lease.total_seconds()
    return max(1.0, min(30.0, lease / 2))


def escalate(app: Flask, worker: str) -> None:
    reaper(app, worker).escalate()

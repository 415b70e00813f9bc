"""A fixed clock, dispatchers on the scripted simulator, the core system on loopback (a plugin)."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.callbacks.dialer import Dispatcher
from app.callbacks.models import Callback
from app.callbacks.reaper import Reaper
from app.calls.service import CallUrls
from app.carriers.service import telephony_for
from app.extensions import db
from app.flows.registry import flows
from app.messaging.engine import run_outbox
from app.messaging.models import MessageKind

# 10:00 UTC: 11:00 in Rome, 11:00 in Warsaw, inside calling hours.
MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self.current = moment


@pytest.fixture
def clock(app):
    fixed = Clock(MORNING)
    app.extensions["clock"] = fixed
    return fixed


@pytest.fixture
def dispatcher(app, clock, simulator):
    """A dispatcher for one worker; the caller may change its policy (pacing, caps)."""

    def make(worker: str = "w1", **policy_changes) -> Dispatcher:
        policy = dataclasses.replace(app.extensions["callback_policy"], **policy_changes)
        return Dispatcher(
            session=db.session,
            policy=policy,
            telephony=telephony_for(app),
            urls=CallUrls(app),
            flows=flows(),
            worker=worker,
            now=clock,
            sleep=clock.advance,
        )

    return make


@pytest.fixture
def reaper(app, clock, simulator):
    """The reaper and escalation jobs of one worker."""

    def make(worker: str = "w1") -> Reaper:
        return Reaper(
            session=db.session,
            policy=app.extensions["callback_policy"],
            telephony=telephony_for(app),
            worker=worker,
            now=clock,
        )

    return make


def callback_of(app, callback_id: str) -> Callback:
    with app.app_context():
        callback = db.session.get_one(Callback, uuid.UUID(callback_id))
        db.session.expunge(callback)
        return callback


SECRET = "core-webhook-secret-for-tests"


class CoreSystem:
    """The company's core system on loopback: keeps what it receives; can be made to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str]] = []
        self.failing = 0
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/callcenter"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request: Request) -> Response:
        if self.failing:
            self.failing -= 1
            return Response("busy", status=503)
        body = request.get_data()
        self.received.append((json.loads(body), request.headers["X-Callcenter-Signature"], body))
        return Response("ok")


@pytest.fixture
def core(app):
    system = CoreSystem()
    app.config.update(CORE_WEBHOOK_URL=system.url, CORE_WEBHOOK_SECRET=SECRET)
    yield system
    system.server.shutdown()


def deliver(app, clock) -> int:
    """The core system's webhooks that are due, delivered by the outbox."""
    with app.app_context():
        return run_outbox(app, db.session, worker="test", now=clock(), kinds={MessageKind.WEBHOOK})


def send_outbox(app, clock) -> int:
    """One outbox tick, as the worker runs it: domains queue what is due, then all of it goes."""
    with app.app_context():
        return run_outbox(app, db.session, worker="test", now=clock())

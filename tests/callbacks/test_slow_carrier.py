"""A slow carrier does not slow the dialer: a worker sends each create at its slot while the ones
before it still wait for their answers, and pacing still holds in every second."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta

import pytest

from app.callbacks import engine
from app.callbacks.dialer import CreateTimes
from app.callbacks.models import AttemptStatus, CallbackAttempt, CallbackStatus, DialPacing
from app.carriers.carrier import OutboundCall, RetryLater
from app.carriers.recording import RecordingTelephony
from app.extensions import db
from tests.callbacks.test_dispatch import register, registration_callback
from tests.callbacks.test_pacing import busiest_second
from tests.engine_fixtures import MORNING, callback_of

pytestmark = [pytest.mark.usefixtures("lines"), pytest.mark.serial]

CREATE_SECONDS = 0.5


class RunningClock:
    """The test's morning, running at the pace of real time (the dialer really sleeps)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.began = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


class SlowCarrier(RecordingTelephony):
    """A carrier whose every create takes half a second; keeps the moment each request came."""

    def __init__(self, now: RunningClock, seconds: float = CREATE_SECONDS) -> None:
        super().__init__()
        self.now, self.seconds = now, seconds
        self.asked: list[tuple[str, datetime]] = []
        self.at_once = self.most_at_once = 0
        self.too_many = 0  # the next creates answered 429 at once

    def place_call(self, call: OutboundCall) -> str:
        with self._lock:
            self.asked.append((call.to, self.now()))
            if self.too_many:
                self.too_many -= 1
                raise RetryLater("Twilio 429 (code 20429): Too Many Requests", code=20429)
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        time.sleep(self.seconds)
        with self._lock:
            self.at_once -= 1
        return super().place_call(call)


def slow_center(api, app, clock, monkeypatch, backlog: int, carrier: SlowCarrier) -> list[str]:
    """`backlog` callbacks due at the test's morning; a worker at 10 calls/s on `carrier`."""
    callbacks = []
    for i in range(backlog):
        register(api, f"s{i}", f"+39 333 765 43{i:02d}")
        callbacks.append(registration_callback(api, clock, f"s{i}"))
    app.extensions.update(
        clock=carrier.now,
        telephony=carrier,
        callback_policy=dataclasses.replace(
            app.extensions["callback_policy"], calls_per_second=10, max_concurrent_calls=100
        ),
    )
    # This test's own create times (the process's are shared by every dispatcher it makes).
    monkeypatch.setattr(engine, "CREATE_TIMES", CreateTimes())
    return callbacks


def test_one_worker_keeps_its_rate_when_each_create_takes_half_a_second(
    api, app, clock, monkeypatch
):
    rate, backlog = 10, 10
    carrier = SlowCarrier(RunningClock(MORNING))
    callbacks = slow_center(api, app, clock, monkeypatch, backlog, carrier)

    with app.app_context():
        placed = engine.dispatcher(app, "w1").dispatch()  # as the worker's tick makes it

    moments = sorted((moment - MORNING).total_seconds() for _, moment in carrier.asked)
    assert placed == backlog
    assert sorted(number for number, _ in carrier.asked) == sorted(
        f"+3933376543{i:02d}" for i in range(backlog)
    )
    # A second of slots holds its ten calls: one create after the other would take 5 s.
    assert moments[-1] - moments[0] < 3.0, moments
    assert carrier.most_at_once > 1
    assert busiest_second(moments) <= rate + 1, moments
    for callback_id in callbacks:
        assert callback_of(app, callback_id).status is CallbackStatus.IN_CALL
    with app.app_context():
        attempts = db.session.scalars(db.select(CallbackAttempt)).all()
        assert [attempt.status for attempt in attempts] == [AttemptStatus.PLACED] * backlog


def test_a_429_stops_the_creates_not_sent_yet_and_slows_every_worker(api, app, clock, monkeypatch):
    backlog = 10
    carrier = SlowCarrier(RunningClock(MORNING), seconds=0.2)
    carrier.too_many = 1  # the batch's first create
    callbacks = slow_center(api, app, clock, monkeypatch, backlog, carrier)

    with app.app_context():
        placed = engine.dispatcher(app, "w1").dispatch()

    # The creates sent before the 429 came back go on; none is sent after it.
    assert 0 <= placed == len(carrier.asked) - 1 < backlog - 1, carrier.asked
    statuses = [callback_of(app, callback_id) for callback_id in callbacks]
    waiting = [cb for cb in statuses if cb.status is CallbackStatus.QUEUED]
    assert len(waiting) == backlog - placed
    assert all(cb.next_attempt_at >= MORNING + timedelta(seconds=30) for cb in waiting)
    assert all(cb.attempts == 0 for cb in waiting)  # a refused create uses no retry
    with app.app_context():
        pacing = db.session.get_one(DialPacing, "outbound")
        assert pacing.next_slot_at >= MORNING + timedelta(seconds=30)


class JumpingClock:
    """A machine too busy for any slot: every reading of the clock is a second later."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


def test_a_create_whose_slot_passed_before_its_thread_ran_is_not_sent_and_is_queued_again(
    api, app, clock, monkeypatch
):
    backlog = 3
    carrier = SlowCarrier(RunningClock(MORNING), seconds=0.0)
    callbacks = slow_center(api, app, clock, monkeypatch, backlog, carrier)
    jumping = JumpingClock(MORNING)
    app.extensions["clock"] = jumping

    with app.app_context():
        one_batch = dataclasses.replace(engine.dispatcher(app, "w1"), backlog_run=timedelta(0))
        assert one_batch.creates_at_once > 1  # the creates go to the pool's threads
        assert one_batch.dispatch() == 0

    assert carrier.asked == []  # never late: a passed slot is not spent
    for callback_id in callbacks:
        callback = callback_of(app, callback_id)
        assert callback.status is CallbackStatus.QUEUED
        assert callback.attempts == 0  # it was never sent: no retry is used
        assert callback.next_attempt_at <= jumping.current  # queued again at once
    with app.app_context():
        attempts = db.session.scalars(db.select(CallbackAttempt)).all()
        assert {(a.status, a.error) for a in attempts} == {
            (AttemptStatus.FAILED, "its dialing slot passed before the create was sent")
        }

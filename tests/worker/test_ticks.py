"""The worker runs the ticks the domains registered, each at its interval."""

from __future__ import annotations

from app import create_app
from app.registry import Tick
from app.worker.process import build_scheduler, tick_job


def bare_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "WORKER_HEARTBEAT_SECONDS": 20})


def test_the_worker_schedules_every_tick_the_domains_registered_at_its_interval():
    app = bare_app()
    lease = app.extensions["callback_policy"].lease.total_seconds()

    jobs = {job.id: job.trigger.interval.total_seconds() for job in build_scheduler(app).get_jobs()}

    assert jobs == {
        "heartbeat": 20,
        "dispatch": 1,
        "reap": max(1.0, min(30.0, lease / 2)),
        "escalate": 60,
        "outbox": 5,
        "complaint_deadlines": 60,
        "campaigns": 15,
        "route": 2,
        "queue_call_back_offers": 15,
        "call_status_clock": 60,
    }


def test_a_failing_tick_is_logged_and_the_next_one_runs(capfd):
    app = bare_app()
    ran = []

    def boom(app, worker):
        raise RuntimeError("carrier down")

    tick_job(app, Tick("boom", 1.0, boom), "w1")()
    tick_job(app, Tick("fine", 1.0, lambda app, worker: ran.append(worker)), "w1")()

    assert ran == ["w1"]
    assert '"tick": "boom"' in capfd.readouterr().err

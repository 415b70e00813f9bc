"""The worker's scheduler beats; /healthz shows when it last did."""

from __future__ import annotations

from app.worker.models import WorkerHeartbeat
from app.worker.process import build_scheduler
from tests.support import count_rows


def test_each_tick_records_a_heartbeat_that_health_reports(app, client):
    scheduler = build_scheduler(app)
    tick = scheduler.get_job("heartbeat").func

    tick()
    tick()

    assert count_rows(app, WorkerHeartbeat) == 1
    worker = client.get("/healthz").get_json()["worker"]
    assert worker["age_seconds"] < 60
    with app.app_context():
        from app.extensions import db

        assert db.session.query(WorkerHeartbeat).one().beats == 2


def test_the_scheduler_runs_the_heartbeat_at_the_configured_interval(app):
    app.config["WORKER_HEARTBEAT_SECONDS"] = 7

    job = build_scheduler(app).get_job("heartbeat")

    assert job.trigger.interval.total_seconds() == 7

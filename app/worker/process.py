"""Run the worker: a blocking APScheduler whose jobs are short periodic ticks.

The database is the schedule (each callback's timing lives in its row), so the scheduler keeps
only in-memory interval jobs and several workers can run side by side.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.extensions import db
from app.worker.service import beat

log = logging.getLogger("app.worker")


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The worker's scheduler with its ticks registered, not yet started."""
    hostname = socket.gethostname()
    pid = os.getpid()
    worker_id = f"{hostname}:{pid}:{secrets.token_hex(3)}"
    scheduler = BlockingScheduler(timezone=UTC)

    def heartbeat() -> None:
        with app.app_context():
            try:
                row = beat(db.session, worker_id=worker_id, hostname=hostname, pid=pid)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("worker heartbeat failed")
                return
            log.info("worker heartbeat", extra={"worker_id": worker_id, "beats": row.beats})

    from app.callbacks.engine import ticks
    from app.campaigns.engine import ticks as campaign_ticks
    from app.complaints.engine import ticks as complaint_ticks
    from app.messaging.engine import ticks as outbox_ticks

    for name, (seconds, job) in {
        **ticks(app, worker_id),
        **complaint_ticks(app),
        **campaign_ticks(app),
        **outbox_ticks(app, worker_id),
    }.items():
        scheduler.add_job(job, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True)
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=app.config["WORKER_HEARTBEAT_SECONDS"],
        id="heartbeat",
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
    )
    return scheduler


def run(app: Flask) -> None:
    """Block running the scheduler until SIGTERM or SIGINT."""
    scheduler = build_scheduler(app)

    def stop(signum: int, frame: object) -> None:
        log.info("worker stopping", extra={"signal": signal.Signals(signum).name})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started", extra={"jobs": [job.id for job in scheduler.get_jobs()]})
    scheduler.start()
    log.info("worker stopped")

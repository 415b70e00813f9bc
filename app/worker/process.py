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
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.extensions import db
from app.registry import Tick, registry_of
from app.worker.service import beat

log = logging.getLogger("app.worker")


def tick_job(app: Flask, tick: Tick, worker_id: str) -> Callable[[], None]:
    """A worker job: the tick in an app context; a failure is logged and rolled back."""

    def job() -> None:
        with app.app_context():
            try:
                tick.run(app, worker_id)
            except Exception:
                db.session.rollback()
                log.exception("worker tick failed", extra={"tick": tick.name})
            finally:
                db.session.remove()

    return job


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The worker's scheduler with the domains' ticks (and its heartbeat), not yet started."""
    hostname = socket.gethostname()
    pid = os.getpid()
    worker_id = f"{hostname}:{pid}:{secrets.token_hex(3)}"
    scheduler = BlockingScheduler(timezone=UTC)

    def heartbeat() -> None:
        with app.app_context():
            try:
                row = beat(db.session(), worker_id=worker_id, hostname=hostname, pid=pid)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("worker heartbeat failed")
                return
            log.info("worker heartbeat", extra={"worker_id": worker_id, "beats": row.beats})

    for name, tick in registry_of(app).ticks.items():
        scheduler.add_job(
            tick_job(app, tick, worker_id),
            "interval",
            seconds=tick.seconds(app),
            id=name,
            max_instances=1,
            coalesce=True,
        )
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

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
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.extensions import db
from app.registry import Tick, registry_of
from app.wakeup import Listener
from app.worker.service import beat

log = logging.getLogger("app.worker")

#: A tick woken again while it ran runs once more, at most this often and this many times in a
#: row (then its interval takes over): a flood of hints never becomes a busy loop.
WAKE_GAP_SECONDS = 0.1
WAKE_RUNS = 20


class Wake:
    """A wakeable tick's state: a hint that came while it ran, and whether it runs."""

    def __init__(self) -> None:
        self.hinted = threading.Event()
        self.running = threading.Event()


def tick_job(
    app: Flask, tick: Tick, worker_id: str, wake: Wake | None = None
) -> Callable[[], None]:
    """A worker job: the tick in an app context; a failure is logged and rolled back. A
    wakeable tick hinted while it ran runs again at once (see WAKE_RUNS)."""

    def run_once() -> None:
        try:
            tick.run(app, worker_id)
        except Exception:
            db.session.rollback()
            log.exception("worker tick failed", extra={"tick": tick.name})
        finally:
            db.session.remove()

    def job() -> None:
        with app.app_context():
            if wake is None:
                run_once()
                return
            wake.running.set()
            try:
                for _ in range(WAKE_RUNS):
                    started = time.monotonic()
                    wake.hinted.clear()
                    run_once()
                    if not wake.hinted.is_set():
                        break
                    time.sleep(max(0.0, WAKE_GAP_SECONDS - (time.monotonic() - started)))
            finally:
                wake.running.clear()

    return job


def build_scheduler(app: Flask, wakes: dict[str, Wake] | None = None) -> BlockingScheduler:
    """The worker's scheduler with the domains' ticks (and its heartbeat), not yet started;
    `wakes` receives the state of each wakeable tick (see `listen_for_hints`)."""
    hostname = socket.gethostname()
    pid = os.getpid()
    worker_id = f"{hostname}:{pid}:{secrets.token_hex(3)}"
    scheduler = BlockingScheduler(timezone=UTC)
    wakes = {} if wakes is None else wakes

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
        if tick.wake:
            wakes[name] = Wake()
        scheduler.add_job(
            tick_job(app, tick, worker_id, wakes.get(name)),
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


def listen_for_hints(app: Flask, scheduler: BlockingScheduler, wakes: dict[str, Wake]) -> Listener:
    """A listener that runs a wakeable tick at once on its hint (not yet started)."""

    def on_hint(name: str) -> None:
        wake = wakes[name]
        wake.hinted.set()  # a run under way runs once more
        if not wake.running.is_set():
            try:
                scheduler.modify_job(name, next_run_time=datetime.now(UTC))
            except Exception:  # not started or stopping: its interval runs it
                log.warning("worker tick not woken", extra={"tick": name}, exc_info=True)

    return Listener(app.config["SQLALCHEMY_DATABASE_URI"], wakes, on_hint)


def run(app: Flask) -> None:
    """Block running the scheduler until SIGTERM or SIGINT."""
    wakes: dict[str, Wake] = {}
    scheduler = build_scheduler(app, wakes)
    listener = listen_for_hints(app, scheduler, wakes)

    def stop(signum: int, frame: object) -> None:
        log.info("worker stopping", extra={"signal": signal.Signals(signum).name})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    hinted = listener.start()  # before the first heartbeat: a worker that beats listens
    log.info(
        "worker started",
        extra={"jobs": [job.id for job in scheduler.get_jobs()], "wake_hints": hinted},
    )
    scheduler.start()
    listener.stop()
    log.info("worker stopped")

"""Wake-up hints: a worker tick is run at once when something urgent was committed.

A hint is only a hint. It is sent after the commit that made the work (never inside that
transaction), it may be lost, and the tick still runs on its interval. On PostgreSQL it is a
NOTIFY on the channel `wake_<tick>` from a connection of its own; on SQLite there is none (one
worker, its tick only).

    hint(session, "dispatch")        # in the transaction that queued the work
    Listener(url, ["dispatch"], on_hint).start()   # in the worker, before its scheduler
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_KEY = "wake_ticks"
#: How long a listener waits for a notification before it looks whether it must stop.
POLL_SECONDS = 1.0
#: After a lost connection, the listener tries again this much later (the ticks go on meanwhile).
RECONNECT_SECONDS = 5.0


def channel(tick: str) -> str:
    return f"wake_{tick}"


def hint(session: Session, tick: str) -> None:
    """Wake the workers' `tick` once this session's transaction commits (nothing if it rolls
    back)."""
    session.info.setdefault(_KEY, set()).add(tick)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    ticks = session.info.pop(_KEY, None)
    if not ticks:
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as connection:
            for tick in sorted(ticks):
                connection.execute(
                    text("SELECT pg_notify(:channel, '')"), {"channel": channel(tick)}
                )
            connection.commit()
    except Exception:  # a hint that cannot be sent is the tick's work a second later
        log.warning("wake-up hint not sent", extra={"ticks": sorted(ticks)}, exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


class Listener:
    """A daemon thread that LISTENs for the hints of `ticks` and calls `on_hint(tick)`.

    Only PostgreSQL has hints: for any other database `start` answers False and does nothing.
    """

    def __init__(self, database_url: str, ticks: Iterable[str], on_hint: Callable[[str], None]):
        self.url = make_url(database_url)
        self.ticks = sorted(ticks)
        self.on_hint = on_hint
        self.stopping = threading.Event()
        self.listening = threading.Event()
        self.thread = threading.Thread(target=self._run, name="wake-listener", daemon=True)

    def start(self, timeout: float = 10.0) -> bool:
        """Start listening; answers whether it listens (waits up to `timeout` for the LISTEN)."""
        if not self.ticks or self.url.get_backend_name() != "postgresql":
            return False
        self.thread.start()
        return self.listening.wait(timeout)

    def stop(self) -> None:
        self.stopping.set()

    def _run(self) -> None:
        import psycopg

        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self.stopping.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    for tick in self.ticks:
                        connection.execute(f'LISTEN "{channel(tick)}"')
                    self.listening.set()
                    while not self.stopping.is_set():
                        for notice in connection.notifies(timeout=POLL_SECONDS):
                            tick = notice.channel.removeprefix("wake_")
                            if tick in self.ticks:
                                self.on_hint(tick)
            except Exception:
                self.listening.clear()
                log.warning("wake-up listener lost its connection", exc_info=True)
                self.stopping.wait(RECONNECT_SECONDS)

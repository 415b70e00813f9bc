"""Heartbeats of worker processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.database import utcnow
from app.worker.models import WorkerHeartbeat


def beat(
    session: Session, *, worker_id: str, hostname: str, pid: int, now: datetime | None = None
) -> WorkerHeartbeat:
    """Record that a worker is alive (one row per process, updated at each tick)."""
    now = now or utcnow()
    heartbeat = session.get(WorkerHeartbeat, worker_id)
    if heartbeat is None:
        heartbeat = WorkerHeartbeat(
            worker_id=worker_id,
            hostname=hostname,
            pid=pid,
            started_at=now,
            last_beat_at=now,
            beats=0,
        )
        session.add(heartbeat)
    heartbeat.last_beat_at = now
    heartbeat.beats += 1
    return heartbeat


def latest_heartbeat(session: Session) -> WorkerHeartbeat | None:
    return session.scalar(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_beat_at.desc()).limit(1)
    )

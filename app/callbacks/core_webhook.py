"""Telling the core system what happened, through signed webhooks delivered from an outbox.

Each notification is a row first (in the transaction of the change it reports), then the worker
POSTs it as JSON with `X-Callcenter-Signature: t=<unix time>,v1=<hex HMAC-SHA256>` over
"<t>.<body>" with CORE_WEBHOOK_SECRET, retrying with back-off until the core system answers 2xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callbacks.models import CoreNotification

log = logging.getLogger(__name__)

BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720, 1440)]
TIMEOUT_SECONDS = 10


def notify(session: Session, *, type: str, payload: dict[str, Any], now: datetime) -> None:
    """Queue a notification in the caller's transaction (it goes out once that commits)."""
    session.add(CoreNotification(type=type, payload=payload, next_attempt_at=now, created_at=now))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> bool:
    """What a receiver checks (also used by our tests): the HMAC, and that it is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def deliver_due(
    session: Session, *, url: str | None, secret: str | None, now: datetime, limit: int = 50
) -> int:
    """Send the notifications that are due; answers how many the core system accepted."""
    if not url or not secret:
        return 0  # nowhere to send: they wait, visible, until CORE_WEBHOOK_URL is set
    due = list(
        session.scalars(
            select(CoreNotification)
            .where(
                CoreNotification.delivered_at.is_(None),
                CoreNotification.given_up_at.is_(None),
                CoreNotification.next_attempt_at <= now,
            )
            .order_by(CoreNotification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    delivered = 0
    for notification in due:
        body = json.dumps(
            {
                "id": notification.id,
                "type": notification.type,
                "created_at": notification.created_at.isoformat(),
                "data": notification.payload,
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Callcenter-Signature": sign(secret, int(now.timestamp()), body),
        }
        notification.attempts += 1
        try:
            response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
            ok, error = 200 <= response.status_code < 300, f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            ok, error = False, type(exc).__name__
        if ok:
            notification.delivered_at, notification.last_error = now, None
            delivered += 1
        elif notification.attempts > len(BACKOFF):
            notification.given_up_at, notification.last_error = now, error
            log.error("core notification given up", extra={"id": notification.id})
        else:
            notification.last_error = error
            notification.next_attempt_at = now + BACKOFF[notification.attempts - 1]
    session.commit()
    return delivered

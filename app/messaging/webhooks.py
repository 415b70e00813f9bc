"""Telling the core system what happened, through signed webhooks.

Each notification is an outbox message first (in the transaction of the change it reports), then
the worker POSTs it as JSON with `X-Callcenter-Signature: t=<unix time>,v1=<hex HMAC-SHA256>` over
"<t>.<body>" with CORE_WEBHOOK_SECRET, retrying with back-off until the core system answers 2xx.
A notification is never given up (the core system must learn of a denial): the back-off grows to
once an hour and stays there, and a supervisor is alerted when one is overdue (the outbox).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import requests

BACKOFF = [timedelta(minutes=m) for m in (1, 5, 15, 60)]
#: A notification not delivered this long after it was queued alerts a supervisor.
OVERDUE = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """The wait after a failed attempt (the first is 1): the ladder, then its last step."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


TIMEOUT_SECONDS = 10


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


def envelope(id: int, type: str, created_at: datetime, data: dict[str, Any]) -> bytes:
    """The JSON the core system receives; `id` is the same on every retry, for its dedupe."""
    return json.dumps(
        {"id": id, "type": type, "created_at": created_at.isoformat(), "data": data},
        separators=(",", ":"),
    ).encode()


def post(url: str, secret: str, body: bytes, *, now: datetime) -> str | None:
    """POST one signed webhook; answers None when the core system took it, else why not."""
    headers = {
        "Content-Type": "application/json",
        "X-Callcenter-Signature": sign(secret, int(now.timestamp()), body),
    }
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        return type(exc).__name__
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

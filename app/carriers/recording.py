"""A carrier that places nothing and records what it was asked: for races and benchmarks."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

from app.carriers.carrier import OutboundCall


class RecordingTelephony:
    name = "recording"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.placed: list[str] = []  # the numbers called, in order
        self.texts: list[tuple[str, str]] = []

    def place_call(self, call: OutboundCall) -> str:
        with self._lock:
            self.placed.append(call.to)
        return "CA" + uuid.uuid4().hex

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        with self._lock:
            self.texts.append((to, body))
        return "SM" + uuid.uuid4().hex

    def hang_up(self, sid: str) -> None:
        return None

    def call_status(self, sid: str) -> str | None:
        return None

    def redirect(self, sid: str, url: str) -> None:
        return None

    def find_call(self, *, to: str, since: datetime, key: str) -> str | None:
        return None  # nothing is ever placed, so nothing is ever found

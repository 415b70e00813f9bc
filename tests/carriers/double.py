"""A carrier double for recovery tests: each create can answer late, answer 500, time out, hang,
or report the call's statuses (through the app's signed status callback) before it answers.

It implements the Telephony interface in process, on the test clock; a fixture installs it as the
app's carrier. Unlike the simulator it plays no flow: a call it places only ever reports what its
script says.
"""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate

from app.carriers.carrier import OutboundCall, OutcomeUnknown
from app.carriers.signatures import signature_for
from app.carriers.simulator import ACCOUNT_SID, Transport


@dataclass
class Create:
    """How the carrier handles one create request.

    answer: "sid" (the call's id), "lost" (the call is created, the answer is a 500),
    "timeout" (created, the reply never comes in time), "refused-500" (a 500, nothing created),
    "hang" (created; the request blocks until `release()`, then times out).
    """

    answer: str = "sid"
    # Statuses reported through the call's status callback before the create answers.
    report_first: tuple[str, ...] = ()
    # How long the create takes, on the test clock.
    seconds: float = 0.0
    # Run while the create is in flight (e.g. another job of the same worker).
    during: Callable[[], None] | None = None


@dataclass
class DoubleCall:
    sid: str
    to: str
    from_: str
    url: str
    status_callback: str
    placed_at: datetime
    statuses: list[str] = field(default_factory=list)


class CarrierDouble:
    name = "double"

    def __init__(
        self,
        *,
        transport: Transport,
        auth_token: str,
        now: Callable[[], datetime],
        advance: Callable[[float], None] | None = None,
    ) -> None:
        self.transport = transport
        self.auth_token = auth_token
        self.now = now
        self.advance = advance
        self.creates: dict[str, deque[Create]] = defaultdict(deque)
        self.calls: list[DoubleCall] = []
        self.requests: list[str] = []  # the number of every create asked for, in order
        self.messages: list[dict[str, str]] = []
        self.hung_up: list[str] = []
        self.redirected: list[tuple[str, str]] = []
        self.unblock = threading.Event()
        self._lock = threading.Lock()

    # ----- the test's controls -----

    def script(self, number: str, *creates: Create) -> None:
        """The next creates to this number go like this (the default answers a sid)."""
        with self._lock:
            self.creates[number].extend(creates)

    def release(self) -> None:
        """Let hung creates time out."""
        self.unblock.set()

    def report(self, call: DoubleCall, status: str) -> None:
        """The carrier reports a status through the call's status callback, signed."""
        call.statuses.append(status)
        params = {
            "CallSid": call.sid,
            "AccountSid": ACCOUNT_SID,
            "From": call.from_,
            "To": call.to,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "CallStatus": status,
            "SequenceNumber": str(len(call.statuses)),
            "Timestamp": formatdate(usegmt=True),
            "CallbackSource": "call-progress-events",
        }
        code, _ = self.transport.post(
            call.status_callback,
            params,
            signature_for(self.auth_token, call.status_callback, params),
        )
        assert code < 400, f"the status callback answered {code}"

    def to(self, number: str) -> list[DoubleCall]:
        return [call for call in self.calls if call.to == number]

    # ----- the Telephony interface -----

    def place_call(self, call: OutboundCall) -> str:
        with self._lock:
            self.requests.append(call.to)
            queue = self.creates.get(call.to)
            create = queue.popleft() if queue else Create()
        if create.seconds and self.advance is not None:
            self.advance(create.seconds)
        if create.during is not None:
            create.during()
        if create.answer == "refused-500":
            raise OutcomeUnknown("Twilio 500 (code 20500): internal error", code=20500, status=500)
        placed = DoubleCall(
            sid="CA" + secrets.token_hex(16),
            to=call.to,
            from_=call.from_,
            url=call.url,
            status_callback=call.status_callback,
            placed_at=self.now(),
        )
        with self._lock:
            self.calls.append(placed)
        for status in create.report_first:
            self.report(placed, status)
        if create.answer == "lost":
            raise OutcomeUnknown("Twilio 500 (code 20500): internal error", code=20500, status=500)
        if create.answer == "hang":
            self.unblock.wait(timeout=30)
            raise OutcomeUnknown("Twilio did not answer in time: read timeout")
        if create.answer == "timeout":
            raise OutcomeUnknown("Twilio did not answer in time: read timeout")
        return placed.sid

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        sid = "SM" + secrets.token_hex(16)
        self.messages.append({"sid": sid, "to": to, "from": from_, "body": body})
        return sid

    def hang_up(self, sid: str) -> None:
        self.hung_up.append(sid)

    def redirect(self, sid: str, url: str) -> None:
        self.redirected.append((sid, url))

    def call_status(self, sid: str) -> str | None:
        found = [call for call in self.calls if call.sid == sid]
        return found[0].statuses[-1] if found and found[0].statuses else "queued"

    def find_call(self, *, to: str, since: datetime, key: str) -> str | None:
        """As Twilio's call Events tell it: the call whose status callback carries our key."""
        for call in self.calls:
            if call.to == to and call.placed_at >= since and key in call.status_callback:
                return call.sid
        return None

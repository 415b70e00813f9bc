"""The Twilio backend: the twilio package's Client, optionally pointed at another origin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from app.carriers.carrier import (
    STATUS_CALLBACK_EVENTS,
    CarrierRefused,
    InvalidNumber,
    OutboundCall,
    OutcomeUnknown,
    RetryLater,
    TelephonyError,
)

# Twilio error codes meaning "this number cannot be reached", whatever we retry.
INVALID_NUMBER_CODES = {
    13223,
    13224,
    21210,
    21211,
    21212,
    21213,
    21214,
    21215,
    21216,
    21217,
    21401,
    21407,
    21421,
    21612,
    21614,
}
REST_TIMEOUT_SECONDS = 10


T = TypeVar("T")


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending every request to another origin (a test double, a proxy).

    Everything else, authentication, encoding and error handling, stays the SDK's own, so the
    code path that runs in tests is the one that runs against Twilio.
    """

    def __init__(
        self, base_url: str | None, timeout: float = REST_TIMEOUT_SECONDS, **kwargs: Any
    ) -> None:
        super().__init__(timeout=timeout, **kwargs)
        self.base_url = base_url.rstrip("/") if base_url else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class TwilioTelephony:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base_url: str | None = None,
        timeout: float = REST_TIMEOUT_SECONDS,
    ) -> None:
        self.client = Client(
            account_sid, auth_token, http_client=BaseUrlHttpClient(api_base_url, timeout=timeout)
        )

    def place_call(self, call: OutboundCall) -> str:
        options: dict[str, Any] = {
            "to": call.to,
            "from_": call.from_,
            "url": call.url,
            "method": "POST",
            "status_callback": call.status_callback,
            "status_callback_method": "POST",
            "status_callback_event": list(STATUS_CALLBACK_EVENTS),
            "timeout": call.ring_timeout,
        }
        if call.machine_detection:
            options["machine_detection"] = "Enable"
        created = self._do(lambda: self.client.calls.create(**options))
        return str(created.sid)

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        message = self._do(lambda: self.client.messages.create(to=to, from_=from_, body=body))
        return str(message.sid)

    def _events_of(self, sid: str) -> list[Any]:
        return list(self.client.calls(sid).events.list(limit=50))

    def find_call(self, *, to: str, since: datetime, key: str) -> str | None:
        """Twilio keeps the requests it made for a call (its Events): ours carry our call's id
        in the status callback URL. A call whose requests are not listed yet (Twilio lists them
        once it has made them) leaves the answer open: OutcomeUnknown, ask again later."""
        calls = self._do(lambda: self.client.calls.list(to=to, start_time_after=since, limit=20))
        unknown = False
        for call in calls:
            sid = str(call.sid)
            events = self._do(partial(self._events_of, sid))
            if not events:
                unknown = True
            elif any(key in str((event.request or {}).get("url", "")) for event in events):
                return sid
        if unknown:
            raise OutcomeUnknown("Twilio has not listed a call's requests yet")
        return None

    def call_status(self, sid: str) -> str | None:
        return str(self._do(lambda: self.client.calls(sid).fetch()).status)

    def hang_up(self, sid: str) -> None:
        # "completed" ends an answered call and cancels one that is still ringing.
        self._do(lambda: self.client.calls(sid).update(status="completed"))

    def redirect(self, sid: str, url: str) -> None:
        self._do(lambda: self.client.calls(sid).update(url=url, method="POST"))

    @staticmethod
    def _do(request: Callable[[], T]) -> T:
        try:
            return request()
        except TwilioRestException as exc:
            raise classify(exc.status, exc.code, exc.msg) from exc
        except TwilioException as exc:  # e.g. "Unable to fetch page": nothing more is known
            raise OutcomeUnknown(f"Twilio: {exc}") from exc
        except requests.Timeout as exc:
            raise OutcomeUnknown(f"Twilio did not answer in time: {exc}") from exc
        except requests.ConnectionError as exc:
            raise OutcomeUnknown(f"Twilio could not be reached: {exc}") from exc


def classify(status: int | None, code: int | None, message: str | None) -> TelephonyError:
    """What a Twilio error means for the attempt."""
    text = f"Twilio {status} (code {code}): {message}"
    if status == 429 or code == 20429:
        return RetryLater(text, code=code, status=status)
    if code in INVALID_NUMBER_CODES:
        return InvalidNumber(text, code=code, status=status)
    if status is None or status >= 500:
        return OutcomeUnknown(text, code=code, status=status)
    return CarrierRefused(text, code=code, status=status)

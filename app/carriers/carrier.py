"""The Telephony interface every carrier backend implements, and how carriers fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

STATUS_CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class OutboundCall:
    """What we ask a carrier to do when we place a call."""

    to: str  # E.164
    from_: str  # E.164, an official outbound number
    url: str  # the flow's first step
    status_callback: str
    ring_timeout: int = 30
    machine_detection: bool = True


class Telephony(Protocol):
    """A carrier: Twilio, or the built-in simulator."""

    name: str

    def place_call(self, call: OutboundCall) -> str:
        """Place a call; answer the carrier's call id (Twilio's CallSid)."""
        ...

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        """Send a text; answer the carrier's message id."""
        ...

    def hang_up(self, sid: str) -> None:
        """End a call in progress, or cancel one that has not been answered."""
        ...

    def find_call(self, *, to: str, since: datetime, key: str) -> str | None:
        """The id of the call we placed to a number since a moment whose webhook URLs carry
        `key` (our call's own id), to reconcile a lost answer; None when there is none.

        Never "a call to this number": another of our calls to it is not this one. Raises a
        TelephonyError when the carrier cannot tell yet (ask again later).
        """
        ...

    def call_status(self, sid: str) -> str | None:
        """A call's status as the carrier knows it (when its status callback went missing)."""
        ...

    def redirect(self, sid: str, url: str) -> None:
        """Take a call in progress to another TwiML document (POST to `url`), wherever it is
        (e.g. out of a conference's waiting room, to be offered a call back)."""
        ...


class TelephonyError(Exception):
    """The carrier did not do what we asked; subclasses say what to do next."""

    retry = False
    outcome_known = True

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class RetryLater(TelephonyError):
    """Rate-limited (HTTP 429, Twilio 20429): nothing was placed; try again later."""

    retry = True


class InvalidNumber(TelephonyError):
    """The number cannot be called (Twilio 21211, 21214, ...): fail this attempt for good."""


class CarrierRefused(TelephonyError):
    """Another 4xx: our request was wrong (credentials, caller ID); retrying will not help."""


class OutcomeUnknown(TelephonyError):
    """A 5xx or a timeout: the call may or may not have been placed. Never blindly re-dial."""

    outcome_known = False

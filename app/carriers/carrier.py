"""The Telephony interface every carrier backend implements, and how carriers fail."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

STATUS_CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")
# What a participant's status callback hears about the call to an agent or supervisor.
PARTICIPANT_CALLBACK_EVENTS = ("ringing", "answered", "completed")
# How a supervisor is in an agent's call: listening (muted), coaching the agent only (the
# customer does not hear them), or speaking to both.
SupervisorMode = Literal["monitor", "whisper", "barge"]
SUPERVISOR_MODES: tuple[SupervisorMode, ...] = ("monitor", "whisper", "barge")
# What Twilio's Voice SDK accepts as a client identity (an access token's "identity").
CLIENT_IDENTITY = re.compile(r"^[A-Za-z0-9_]{1,121}$")


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


class Conferencing(Protocol):
    """People in the loop: a caller waits in a conference named after their queue entry, and
    agents and supervisors are added to it as participants (their browser phones).

    Every method raises a TelephonyError when the carrier refuses; a conference that has ended
    (the caller hung up) is a CarrierRefused with status 404.
    """

    def add_agent(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        status_callback: str,
        timeout: int = 20,
        label: str = "agent",
    ) -> str:
        """Ring an agent's browser phone into the conference; answer the agent's call id.

        The agent starts the conference (the caller hears them at once) and may leave it
        without ending it (a warm transfer, a hang-up of the agent alone).
        """
        ...

    def add_supervisor(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        mode: SupervisorMode,
        agent_call_sid: str | None = None,
        status_callback: str | None = None,
    ) -> str:
        """Ring a supervisor's browser phone into the conference to monitor, whisper (coach the
        agent whose call is `agent_call_sid`) or barge; answer the supervisor's call id."""
        ...

    def change_supervisor_mode(
        self,
        conference: str,
        call_sid: str,
        *,
        mode: SupervisorMode,
        agent_call_sid: str | None = None,
    ) -> None:
        """Switch a supervisor already in the conference between monitor, whisper and barge."""
        ...

    def hold(
        self, conference: str, call_sid: str, on: bool, *, hold_url: str | None = None
    ) -> None:
        """Put a participant on hold (they hear `hold_url`'s TwiML, music by default) or back."""
        ...

    def remove(self, conference: str, call_sid: str) -> None:
        """Hang up one participant; the others stay (unless that one ends the conference)."""
        ...

    def warm_transfer(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        status_callback: str,
        timeout: int = 20,
    ) -> str:
        """Ring a second agent into the conference while the first stays on the line (they talk,
        then `remove` the first); answer the second agent's call id."""
        ...


def client_address(identity: str) -> str:
    """The To of a call to the browser phone registered under `identity`."""
    if not CLIENT_IDENTITY.match(identity):
        raise ValueError("a client identity is 1 to 121 letters, digits or underscores")
    return f"client:{identity}"


def staff_identity(staff_id: uuid.UUID) -> str:
    """The browser phone identity of a member of staff: the same in their access token (the
    desk) and in the calls that ring them (the router's ringer), and no personal data."""
    return f"staff_{staff_id.hex}"


def supervisor_settings(mode: SupervisorMode, agent_call_sid: str | None) -> dict[str, object]:
    """What a supervisor's mode means for their participant: muted, coaching, whom they coach."""
    if mode not in SUPERVISOR_MODES:
        raise ValueError(f"a supervisor's mode is one of {', '.join(SUPERVISOR_MODES)}")
    if mode == "whisper":
        if not agent_call_sid:
            raise ValueError("whispering needs the call id of the agent to coach")
        return {"muted": False, "coaching": True, "call_sid_to_coach": agent_call_sid}
    return {"muted": mode == "monitor", "coaching": False}


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

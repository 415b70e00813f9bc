"""The TwiML of people in the loop: a caller waiting in a conference for an agent, what they hear
while they wait, and an agent's own call from the browser phone.

Pure functions answering `VoiceResponse` documents; the words come from the caller of each
function (prompts live in the flows, in the caller's language), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twilio.twiml.voice_response import Dial, VoiceResponse

from app.carriers.carrier import client_address
from app.phones import parse_phone

# What the conference's status callback hears: people joining and leaving, and its end.
CONFERENCE_EVENTS = ("join", "leave", "end")
# Seconds of quiet between two announcements of the caller's place in the queue.
WAIT_PAUSE_SECONDS = 20


@dataclass(frozen=True)
class Speech:
    """Words to say, in a Twilio <Say> language and voice (e.g. "it-IT", "Polly.Bianca")."""

    text: str
    language: str
    voice: str


def _say(response: VoiceResponse, speech: Speech) -> None:
    response.say(speech.text, language=speech.language, voice=speech.voice)


def wait_for_an_agent(
    conference: str,
    *,
    greeting: Speech,
    wait_url: str,
    status_callback: str,
    action: str | None = None,
) -> VoiceResponse:
    """The caller hears `greeting`, then waits in the conference named after their queue entry.

    Nobody starts the conference but an agent (the caller hears `wait_url` until then); the
    caller's hang-up ends it for everyone. `action` is requested when the caller leaves the
    conference while still on the line (the agent's app removed them, e.g. to a callback).
    """
    response = VoiceResponse()
    _say(response, greeting)
    dial = Dial(action=action, method="POST") if action else Dial()
    dial.conference(
        conference,
        wait_url=wait_url,
        wait_method="POST",
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        beep=False,
        status_callback=status_callback,
        status_callback_method="POST",
        status_callback_event=" ".join(CONFERENCE_EVENTS),
    )
    response.append(dial)
    return response


def waiting(
    spoken: Speech, *, pause_seconds: int = WAIT_PAUSE_SECONDS, again: str | None = None
) -> VoiceResponse:
    """What a waiting (or held) caller hears: `spoken` (e.g. their place in the queue), a pause,
    and, with `again`, the same URL once more (so a new place is announced)."""
    response = VoiceResponse()
    _say(response, spoken)
    response.pause(length=pause_seconds)
    if again:
        response.redirect(again, method="POST")
    return response


def browser_call(
    *,
    caller_id: str,
    number: str | None = None,
    identity: str | None = None,
    action: str | None = None,
    timeout: int = 30,
) -> VoiceResponse:
    """An agent's call from the browser phone, through the TwiML app: to a phone number (E.164,
    shown the official `caller_id`) or to another agent's browser phone (their identity)."""
    if (number is None) == (identity is None):
        raise ValueError("a browser call goes to a number or to an identity, not both")
    options: dict[str, Any] = {
        "caller_id": parse_phone(caller_id, field="caller_id").e164,
        "timeout": timeout,
    }
    if action:
        options.update(action=action, method="POST")
    dial = Dial(**options)
    if number is not None:
        dial.number(parse_phone(number, field="number").e164)
    else:
        dial.client(client_address(identity or "").removeprefix("client:"))
    response = VoiceResponse()
    response.append(dial)
    return response

"""The built-in telephony simulator: an offline carrier that plays calls as Twilio would.

It signs every webhook request with X-Twilio-Signature, follows the TwiML the app answers
(Say, Gather, Record, Redirect, Pause, Dial, Hangup), and reports each call's status in order.
A scripted callee answers (or not) and presses keys, so tests and demos can run whole calls.

A caller's <Dial><Conference> waits there (they hear its waitUrl once) as a question nobody asks:
the call stays in progress until `conference_ended` (the agent's talk is over: <Dial action>),
`redirect` (the app takes the call elsewhere) or `caller_hangs_up`.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Protocol
from urllib.parse import urlsplit

import requests
from flask import Flask

from app.carriers.carrier import CarrierRefused, InvalidNumber, OutboundCall
from app.carriers.signatures import signature_for
from app.errors import InvalidInput
from app.phones import parse_phone

log = logging.getLogger(__name__)

ACCOUNT_SID = "AC" + "5" * 32  # the simulator's own account; never a real one
ANSWERS = ("human", "machine", "busy", "no-answer", "failed")
# What each TwiML verb may contain, as Twilio documents it.
NESTING = {
    "Response": {
        "Say",
        "Play",
        "Gather",
        "Record",
        "Redirect",
        "Pause",
        "Dial",
        "Hangup",
        "Reject",
        "Sms",
    },
    "Gather": {"Say", "Play", "Pause"},
    "Dial": {"Number", "Client", "Conference", "Queue", "Sip"},
}
_MAX_VERBS = 500
# Twilio's <Record transcribe> works on recordings over 2 seconds and at most 120 seconds long.
TRANSCRIBED_SECONDS = (2, 120)


class SimulatorError(RuntimeError):
    """The app answered something Twilio would refuse (bad TwiML, an error status)."""


@dataclass
class CalleeScript:
    """How the simulated person behaves: answer or not, and the keys for each question."""

    answer: str = "human"
    keys: list[str] = field(default_factory=list)  # one entry per Gather; "" presses nothing
    # Seconds spoken at each <Record>: one number for all, or one per <Record> in turn (the last
    # repeats); 0 is silence, which Twilio answers by going on with the next verb.
    recording_seconds: int | list[int] = 15
    dial_status: str = "completed"
    # What Twilio's transcription of a recording would say ("" when it makes out no words);
    # None sends no transcription. Out of Twilio's range (over 2 s, at most 120 s) it fails.
    transcription: str | None = None

    def seconds_at_record(self, index: int) -> int:
        """Seconds spoken at the index-th <Record> of the call."""
        if isinstance(self.recording_seconds, int):
            return self.recording_seconds
        return self.recording_seconds[min(index, len(self.recording_seconds) - 1)]

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)}")


@dataclass
class Line:
    """One line of what happened on a simulated call."""

    who: str  # "call" (what the callee heard), "callee" (what they did), "carrier"
    text: str


@dataclass
class SimulatedCall:
    sid: str
    direction: str
    from_: str
    to: str
    url: str
    status_callback: str | None
    script: CalleeScript
    machine_detection: bool = True
    lines: list[Line] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    seconds: int = 0
    sequence: int = -1  # the SequenceNumber of the last status callback sent
    placed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    records: int = 0  # the <Record> verbs played so far
    # Webhooks Twilio sends after the call (a recording's transcription): (url, parameters).
    after: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # The script's keys not pressed yet (a call that waited in a conference goes on with them).
    keys_left: deque[str] | None = None
    # The <Dial><Conference> document the caller waits in, while they wait.
    waiting: str | None = None

    @classmethod
    def inbound(
        cls, *, from_: str, to: str, url: str, status_callback: str | None, script: CalleeScript
    ) -> SimulatedCall:
        """A call a person places to one of our lines, with a new CallSid."""
        return cls(
            sid="CA" + secrets.token_hex(16),
            direction="inbound",
            from_=from_,
            to=to,
            url=url,
            status_callback=status_callback,
            script=script,
            machine_detection=False,
        )


class Transport(Protocol):
    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]: ...


class WsgiTransport:
    """Calls the app in-process (tests, `flows walk`), through the full request stack."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        with self.app.test_client() as client:
            response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
            return response.status_code, response.get_data(as_text=True)


class HttpTransport:
    """Calls the app over HTTP at PUBLIC_BASE_URL, as Twilio does (the running web process)."""

    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        response = requests.post(
            url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
        )
        return response.status_code, response.text


class SimulatorTelephony:
    name = "simulator"

    def __init__(
        self,
        *,
        transport: Transport,
        auth_token: str,
        synchronous: bool = False,
        default_script: CalleeScript | None = None,
        ring_store: Callable[[SimulatedCall], None] | None = None,
        ring_lookup: Callable[[str, datetime, str], str | None] | None = None,
    ) -> None:
        self.transport = transport
        self.auth_token = auth_token
        self.synchronous = synchronous
        self.default_script = default_script or CalleeScript()
        # Where unscripted calls wait for a person (the softphone); None plays the default script.
        self.ring_store = ring_store
        self.ring_lookup = ring_lookup
        self.scripts: dict[str, deque[CalleeScript]] = defaultdict(deque)
        self.calls: dict[str, SimulatedCall] = {}
        self.messages: list[dict[str, str]] = []
        self.hung_up: set[str] = set()
        self._lock = threading.Lock()

    # ----- the Telephony interface -----

    def place_call(self, call: OutboundCall) -> str:
        for number in (call.to, call.from_):
            try:
                parse_phone(number)
            except InvalidInput:
                raise InvalidNumber(
                    f"the number {number} is not valid", code=21211, status=400
                ) from None
        with self._lock:
            queue = self.scripts.get(call.to)
            script = queue.popleft() if queue else None
        simulated = SimulatedCall(
            sid="CA" + secrets.token_hex(16),
            direction="outbound-api",
            from_=call.from_,
            to=call.to,
            url=call.url,
            status_callback=call.status_callback,
            script=script or self.default_script,
            machine_detection=call.machine_detection,
        )
        self.calls[simulated.sid] = simulated
        if script is None and self.ring_store is not None:
            # Nobody scripted this callee: it rings on the softphone page for a person to take.
            # Kept before the sid is answered, as Twilio keeps a call once it accepts it.
            self.ring_store(simulated)
            self._run(self._ring_for_a_person, simulated)
        else:
            self._start(simulated)
        return simulated.sid

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        sid = "SM" + secrets.token_hex(16)
        self.messages.append({"sid": sid, "to": to, "from": from_, "body": body})
        return sid

    def hang_up(self, sid: str) -> None:
        self.hung_up.add(sid)

    def call_status(self, sid: str) -> str | None:
        call = self.calls.get(sid)
        return call.statuses[-1] if call and call.statuses else None

    def find_call(self, *, to: str, since: datetime, key: str) -> str | None:
        # The simulator's own record: this process's calls, and those kept in the database
        # (so that another worker can reconcile the calls of one that was killed).
        for call in list(self.calls.values()):
            if call.to == to and call.placed_at >= since and key in (call.status_callback or ""):
                return call.sid
        if self.ring_lookup is not None:
            return self.ring_lookup(to, since, key)
        return None

    # ----- the simulator's own controls -----

    def expect(self, number: str, script: CalleeScript) -> None:
        """The next call to this number meets this callee."""
        with self._lock:
            self.scripts[number].append(script)

    def call_in(
        self,
        *,
        from_: str,
        to: str,
        inbound_url: str,
        status_url: str | None = None,
        script: CalleeScript | None = None,
    ) -> SimulatedCall:
        """A person rings one of our lines (whose status callback, if set, hears "completed")."""
        simulated = SimulatedCall.inbound(
            from_=from_,
            to=to,
            url=inbound_url,
            status_callback=status_url,
            script=script or self.default_script,
        )
        self.calls[simulated.sid] = simulated
        self._start(simulated)
        return simulated

    def _start(self, simulated: SimulatedCall) -> None:
        self._run(self.play, simulated)

    def _run(self, work: Callable[[SimulatedCall], None], simulated: SimulatedCall) -> None:
        if self.synchronous:
            work(simulated)
        else:
            threading.Thread(target=work, args=(simulated,), daemon=True).start()

    def _ring_for_a_person(self, call: SimulatedCall) -> None:
        if not self.synchronous:
            time.sleep(0.2)
        try:
            self.ring(call)
        except Exception:
            log.exception("simulated call could not ring", extra={"sid": call.sid})
            if self.synchronous:
                raise

    # ----- playing a call -----

    def play(self, call: SimulatedCall) -> None:
        try:
            self._play(call)
        except Exception as exc:  # a thread must not die silently: keep and log what went wrong
            call.error = f"{type(exc).__name__}: {exc}"
            log.exception("simulated call failed", extra={"sid": call.sid})
            if self.synchronous:
                raise
        finally:
            call.finished.set()

    def _play(self, call: SimulatedCall) -> None:
        if call.direction != "inbound":
            # Twilio places the call a moment after the REST request returns.
            if not self.synchronous:
                time.sleep(0.2)
            self.ring(call)
            if call.script.answer in ("busy", "no-answer", "failed"):
                self.decline(call, call.script.answer)
                return
        call.keys_left = deque(call.script.keys)
        self._converse(call, self.answer(call, machine=call.script.answer == "machine"))

    def _converse(self, call: SimulatedCall, pending: str | None) -> None:
        """Answer each question with the script's keys, to the end of the call or a conference."""
        keys = call.keys_left if call.keys_left is not None else deque()
        for _ in range(_MAX_VERBS):
            if pending is None:
                break
            if waits_in_conference(pending):
                call.waiting = pending  # until conference_ended, redirect or caller_hangs_up
                return
            pending = self.press(call, pending, keys.popleft() if keys else "")
        else:
            raise SimulatorError("the call went on for too many steps")
        self.finish(call)

    # ----- the steps of a call, for a script or a person at the softphone -----

    def ring(self, call: SimulatedCall) -> None:
        self._status(call, "initiated")
        self._status(call, "ringing")

    def decline(self, call: SimulatedCall, how: str) -> None:
        """The callee does not pick up: busy, no-answer or failed."""
        call.lines.append(Line("carrier", how))
        self._status(call, how, CallDuration="0")

    def answer(self, call: SimulatedCall, *, machine: bool = False) -> str | None:
        """Pick up; answers the pending TwiML when a question waits for keys, else None."""
        params = self._base(call)
        if call.direction != "inbound":
            if call.machine_detection:
                params["AnsweredBy"] = "machine_start" if machine else "human"
            extra = {"AnsweredBy": params["AnsweredBy"]} if "AnsweredBy" in params else {}
            self._status(call, "in-progress", **extra)
        call.lines.append(Line("carrier", "answered by a machine" if machine else "answered"))
        return self._until_question(call, self._fetch(call, call.url, params))

    def press(self, call: SimulatedCall, pending: str, keys: str) -> str | None:
        """Answer the waiting <Gather> with keys ("" presses nothing); the next pending TwiML."""
        root = _parse(pending)
        if waits_in_conference(pending):
            # Nobody listens to keys in a waiting room: the caller goes on waiting.
            call.lines.append(Line("callee", _pressed(keys) + " while waiting"))
            return pending
        gather, rest = root[0], list(root)[1:]
        # Like Twilio, the finishing key ends the entry and is not part of Digits (default "#").
        finish = gather.get("finishOnKey", "#")
        if finish and finish in keys:
            keys = keys[: keys.index(finish)]
        call.lines.append(Line("callee", _pressed(keys)))
        call.seconds += 3 if keys else int(gather.get("timeout", "5"))
        if keys or gather.get("actionOnEmptyResult") == "true":
            twiml = self._fetch(
                call, gather.get("action", ""), {**self._base(call), "Digits": keys}
            )
            return self._until_question(call, twiml)
        # Without input and without actionOnEmptyResult, Twilio goes on with the next verb.
        return self._until_question(call, _document(rest))

    def finish(self, call: SimulatedCall) -> None:
        self._status(call, "completed", CallDuration=str(call.seconds))
        for url, params in call.after:  # e.g. a transcription, after the call has ended
            self._fetch(call, url, {**self._base(call), **params})
        call.after.clear()

    def _until_question(self, call: SimulatedCall, twiml: str) -> str | None:
        """Play verbs until a <Gather> waits for keys (answer it as pending TwiML) or the end."""
        for _ in range(_MAX_VERBS):
            if call.sid in self.hung_up:
                call.lines.append(Line("carrier", "hung up by the app"))
                return None
            verbs = list(_parse(twiml))
            follow: tuple[str, dict[str, str]] | None = None
            for index, verb in enumerate(verbs):
                if verb.tag == "Say":
                    self._heard(call, verb)
                elif verb.tag == "Pause":
                    call.seconds += int(verb.get("length", "1"))
                elif verb.tag in ("Hangup", "Reject"):
                    call.lines.append(Line("carrier", "hangup"))
                    return None
                elif verb.tag == "Redirect":
                    follow = ((verb.text or "").strip(), {})
                elif verb.tag == "Gather":
                    for child in verb:
                        if child.tag == "Say":
                            self._heard(call, child)
                    return _document(verbs[index:])
                elif verb.tag == "Record":
                    follow = self._record(call, verb)
                elif verb.tag == "Dial" and verb.find("Conference") is not None:
                    self._wait_in_conference(call, verb)
                    return _document(verbs[index:])  # a question: the caller waits
                elif verb.tag == "Dial":
                    target = " ".join((child.text or "").strip() for child in verb)
                    call.lines.append(Line("carrier", f"connects to {target}"))
                    follow = (verb.get("action", ""), {"DialCallStatus": call.script.dial_status})
                else:
                    raise SimulatorError(f"the simulator does not play <{verb.tag}>")
                if follow is not None:
                    break
            if follow is None:
                return None  # the end of the document: Twilio hangs up
            url, extra = follow
            twiml = self._fetch(call, url, {**self._base(call), **extra})
        raise SimulatorError("the call went on for too many steps")

    # ----- a caller waiting in a conference -----

    def _wait_in_conference(self, call: SimulatedCall, dial: ET.Element) -> None:
        """The caller enters a conference nobody has started: they hear its waitUrl once."""
        call.lines.append(Line("carrier", "waits in a conference"))
        conference = dial.find("Conference")
        wait_url = conference.get("waitUrl") if conference is not None else None
        if not wait_url:
            return
        for verb in _parse(self._fetch(call, wait_url, self._base(call))):
            if verb.tag == "Say":
                self._heard(call, verb)
            elif verb.tag == "Pause":
                call.seconds += int(verb.get("length", "1"))
            elif verb.tag != "Redirect":  # the next round of the waiting room is not played
                raise SimulatorError(f"<{verb.tag}> may not be in a conference's waitUrl")

    def conference_ended(self, call: SimulatedCall, pending: str | None = None) -> str | None:
        """The caller's conference is over with them still on the line (the agent's talk ended):
        Twilio requests <Dial action>. A scripted call goes on with its keys; otherwise (the
        softphone, whose `pending` is the waiting document) answers the next pending TwiML."""
        dial = self._waiting_dial(call, pending)
        call.lines.append(Line("carrier", "the conference ends"))
        twiml = self._fetch(
            call, dial.get("action", ""), {**self._base(call), "DialCallStatus": "completed"}
        )
        following = self._until_question(call, twiml)
        if call.keys_left is None:
            return following
        self._converse(call, following)
        return None

    def caller_hangs_up(self, call: SimulatedCall, pending: str | None = None) -> None:
        """The caller hangs up while waiting: Twilio requests <Dial action> (the caller's
        CallStatus completed), then reports the call completed."""
        dial = self._waiting_dial(call, pending)
        call.lines.append(Line("callee", "hangs up"))
        params = {**self._base(call), "CallStatus": "completed", "DialCallStatus": "completed"}
        self._fetch(call, dial.get("action", ""), params)
        self.finish(call)

    def redirect(self, sid: str, url: str) -> None:
        """The Telephony interface: the call goes on with the TwiML at `url` (out of a waiting
        room, say); a scripted call answers what follows with its keys."""
        call = self.calls.get(sid)
        if call is None or (call.finished.is_set() and call.waiting is None):
            raise CarrierRefused("Twilio 404 (code 20404): no call in progress", code=20404)
        call.waiting = None
        call.lines.append(Line("carrier", "redirected"))
        self._converse(call, self._until_question(call, self._fetch(call, url, self._base(call))))

    def _waiting_dial(self, call: SimulatedCall, pending: str | None) -> ET.Element:
        document = pending or call.waiting
        if document is None or not waits_in_conference(document):
            raise SimulatorError("the call is not waiting in a conference")
        call.waiting = None
        return _parse(document)[0]

    def _record(self, call: SimulatedCall, verb: ET.Element) -> tuple[str, dict[str, str]] | None:
        """The callee speaks (or not); the action to request, or None to go on (silence)."""
        spoken = call.script.seconds_at_record(call.records)
        call.records += 1
        if spoken <= 0:
            # Twilio trims the silence, and an empty recording requests no action: the call
            # goes on with the verb after <Record>.
            call.lines.append(Line("callee", "says nothing"))
            call.seconds += int(verb.get("timeout", "5"))
            return None
        seconds = min(spoken, int(verb.get("maxLength", "3600")))  # Twilio stops at maxLength
        call.lines.append(Line("callee", f"speaks for {seconds} seconds"))
        call.seconds += seconds
        recording = {
            "RecordingUrl": f"https://simulator.invalid/recordings/{call.sid}",
            "RecordingDuration": str(seconds),
            "RecordingSid": "RE" + secrets.token_hex(16),
        }
        if verb.get("transcribe") == "true" and verb.get("transcribeCallback"):
            # Twilio transcribes recordings longer than 2 seconds and at most two minutes long.
            if not TRANSCRIBED_SECONDS[0] < seconds <= TRANSCRIBED_SECONDS[1]:
                text, status = "", "failed"
            elif call.script.transcription is not None:
                text, status = call.script.transcription, "completed"
            else:
                text, status = None, None
            if status is not None:
                call.after.append(
                    (
                        verb.get("transcribeCallback", ""),
                        {
                            **recording,
                            "TranscriptionSid": "TR" + secrets.token_hex(16),
                            "TranscriptionText": text or "",
                            "TranscriptionStatus": status,
                        },
                    )
                )
        return verb.get("action", ""), recording

    def _heard(self, call: SimulatedCall, say: ET.Element) -> None:
        text = (say.text or "").strip()
        call.lines.append(Line("call", text))
        call.seconds += max(1, len(text) // 15)

    def _base(self, call: SimulatedCall) -> dict[str, str]:
        return {
            "CallSid": call.sid,
            "AccountSid": ACCOUNT_SID,
            "From": call.from_,
            "To": call.to,
            "Direction": call.direction,
            "ApiVersion": "2010-04-01",
            "CallStatus": "in-progress",
        }

    def _status(self, call: SimulatedCall, status: str, **extra: str) -> None:
        call.statuses.append(status)
        call.sequence += 1
        if not call.status_callback:
            return
        params = {
            **self._base(call),
            "CallStatus": status,
            "SequenceNumber": str(call.sequence),
            "Timestamp": formatdate(usegmt=True),
            "CallbackSource": "call-progress-events",
            **extra,
        }
        code, _ = self.transport.post(
            call.status_callback,
            params,
            signature_for(self.auth_token, call.status_callback, params),
        )
        if code >= 400:
            raise SimulatorError(f"status callback answered {code}")

    def _fetch(self, call: SimulatedCall, url: str, params: dict[str, str]) -> str:
        code, body = self.transport.post(url, params, signature_for(self.auth_token, url, params))
        if code >= 400:
            raise SimulatorError(f"{urlsplit(url).path} answered {code}: {body[:200]}")
        return body


def _parse(twiml: str) -> ET.Element:
    """TwiML as Twilio would read it: well-formed XML, verbs nested where they may be."""
    try:
        root = ET.fromstring(twiml)  # noqa: S314 - the app's own TwiML, not outside input
    except ET.ParseError as exc:
        raise SimulatorError(f"the app answered TwiML that is not XML: {exc}") from None
    if root.tag != "Response":
        raise SimulatorError(f"TwiML must be a <Response>, not <{root.tag}>")
    _check_nesting(root)
    return root


def waits_in_conference(twiml: str) -> bool:
    """A pending document that is a caller's <Dial><Conference> (not a <Gather>)."""
    first = next(iter(_parse(twiml)), None)
    return first is not None and first.tag == "Dial" and first.find("Conference") is not None


def _pressed(keys: str) -> str:
    """A menu choice is shown; a longer entry, likely a code, only by its length."""
    if not keys:
        return "presses nothing"
    return f"presses {keys}" if len(keys) == 1 else f"keys in {len(keys)} digits"


def _document(verbs: list[ET.Element]) -> str:
    root = ET.Element("Response")
    root.extend(verbs)
    return ET.tostring(root, encoding="unicode")


def _check_nesting(element: ET.Element) -> None:
    allowed = NESTING.get(element.tag)
    for child in element:
        if allowed is None or child.tag not in allowed:
            raise SimulatorError(f"<{child.tag}> may not be inside <{element.tag}>")
        _check_nesting(child)

"""Running a flow: each webhook of a call renders the next nodes as TwiML.

Nodes that need no answer (say, branch, outcome) are rendered together in one response; a node
that waits for the caller (gather, verify, record, transfer, queue) ends the response with the verb
whose action URL brings Twilio back to the flow.

A queue node puts the caller in the queue for a person (the `Queueing` port) and into a conference
named after their place, where they wait (hearing `waiting`) until an agent joins; the call's
variable `queue` keeps the node, the conference, how the wait stands (waiting, callback, done,
ended), since when, and when and whether the caller was offered a call back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from app.clock import now as current_time
from app.flows.actions import run_action
from app.flows.definition import (
    LANGUAGE_MENU,
    OFFER_CALLBACK_AFTER_MINUTES,
    RECORD_DEFAULT_SECONDS,
    REFERENCE_VARIABLES,
    VERIFIED,
    VERIFIED_AT,
    Flow,
)
from app.flows.ports import (
    QUEUE_PRIORITIES,
    ActionRegistry,
    CallState,
    CodeChecker,
    CodeResult,
    Queueing,
    QueueRequest,
)
from app.flows.prompts import LANGUAGES, NEVER_ASK, SAFE_FALLBACK, VOICES
from app.flows.registry import queueing_of
from app.flows.safety import refusals
from app.flows.speech import heard_choice, hints
from app.flows.variables import render, spoken_fields
from app.outcomes import Outcome
from app.registry import flow_actions_of

__all__ = [
    "LANGUAGE_MENU",
    "CodeChecker",
    "CodeResult",
    "FlowRun",
    "FlowUrls",
    "UnknownNode",
    "choose_language",
]

log = logging.getLogger(__name__)

MACHINE_ANSWERS = {
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
}
_MAX_IMMEDIATE = 50
#: The call variable of a caller's wait in the queue (a queue node's doing; nothing else sets it).
QUEUE = "queue"
#: Seconds of quiet between two announcements of a waiting caller's place.
WAIT_PAUSE_SECONDS = 20
#: A waiting room announces the place this many times at most (some hours), then stays quiet.
WAIT_ROUNDS = 500
#: The key that repeats the last question (and a reference said just before it).
AGAIN = "*"
#: The call variable of the says to repeat with a question: {"node": gather, "say": [nodes]}.
REPEAT = "repeat"
#: How many times a reference said at the end of a call is offered again.
HEAR_AGAIN_ROUNDS = 3
#: The call variable saying the caller is to choose their language before the flow starts.
CHOOSE_LANGUAGE = "choose_language"
#: The language menu's keys, in LANGUAGES' order, and the word list of each.
LANGUAGE_KEYS = {"1": "en", "2": "it", "3": "pl", "4": "zh"}
LANGUAGE_WORDS = {"1": "english", "2": "italian", "3": "polish", "4": "chinese"}
LANGUAGE_MENU_TRIES = 3


class FlowUrls(Protocol):
    """Absolute, signed-over URLs of the flow's own webhooks for one call."""

    def node(self, node: str) -> str: ...
    def input(self, node: str, attempt: int) -> str: ...
    def recorded(self, node: str) -> str: ...
    def transcribed(self, node: str) -> str: ...
    def dialed(self, node: str) -> str: ...
    def waiting(self, node: str, round_: int) -> str: ...
    def conference_events(self, node: str) -> str: ...


@dataclass
class FlowRun:
    """One webhook's worth of a call's flow."""

    session: Session
    call: CallState
    flow: Flow
    urls: FlowUrls
    check_code: CodeChecker
    values: dict[str, Any]  # company, name, callback_number, ... as the prompts speak them
    time_zone: str | None = None
    #: The actions a flow may name: by default, what the current app's domains registered.
    actions: ActionRegistry = field(default_factory=lambda: flow_actions_of(current_app))
    #: The queue for people: by default, what the current app's domains registered.
    queueing: Queueing = field(default_factory=lambda: queueing_of(current_app))
    #: The says of this response that spoke a reference (the next question can repeat them).
    _lead: list[str] = field(default_factory=list, init=False)

    # ----- entry points, one per webhook -----

    def begin(self, answered_by: str | None = None) -> VoiceResponse:
        """The first TwiML of a call; an answering machine gets a voicemail without details."""
        response = VoiceResponse()
        if answered_by in MACHINE_ANSWERS:
            self._say(response, "voicemail", self.flow.prompts["voicemail"])
            self.call.outcome = self.call.outcome or Outcome.VOICEMAIL.value
            response.hangup()
            return response
        if (self.call.variables or {}).get(CHOOSE_LANGUAGE) is True:
            return self._ask_language(response, attempt=1)
        return self._render(response, self.flow.start)

    def resume(self, node: str) -> VoiceResponse:
        return self._render(VoiceResponse(), self._known(node))

    def on_input(
        self, node_name: str, attempt: int, digits: str, speech: str = ""
    ) -> VoiceResponse:
        """The caller's answer to a question: keys (`digits`), or words (`speech`) on a menu."""
        if node_name == LANGUAGE_MENU:
            return self._on_language(attempt, digits.strip(), speech.strip())
        node_name = self._known(node_name)
        node = self.flow.node(node_name)
        digits = digits.strip()
        response = VoiceResponse()
        if node["type"] == "hangup":
            return self._on_hear_again(response, node_name, node, attempt, digits)
        # `*` is never part of a code or an answer (unless a menu offers it as a choice).
        again = node["type"] == "verify" or AGAIN not in map(str, node.get("choices", {}))
        if node["type"] in ("gather", "verify") and AGAIN in digits and again:
            return self._again(response, node_name, node, attempt)
        if node["type"] == "verify":
            return self._on_code(response, node_name, node, attempt, digits)
        if node["type"] == "queue":
            return self._on_hold_choice(response, node_name, digits)
        if node["type"] != "gather":
            return self._render(response, node_name)
        speech = speech.strip()
        choices = {str(key): target for key, target in node.get("choices", {}).items()}
        if not digits and speech and choices:
            key = heard_choice(speech, choices, node.get("speech", {}), self._locale())
            if key is None:
                self._turn(node_name, "caller", f'(said) "{speech}"')
                return self._retry(
                    response, node_name, node, attempt, "not_valid", node.get("retries", 2)
                )
            self._turn(node_name, "caller", f'(said) "{speech}": {key}')
            if "save_as" in node:
                self._remember(node["save_as"], key)
            return self._render(response, str(choices[key]))
        if not digits and "on_empty" in node:  # "just press #": a question the caller may skip
            self._turn(node_name, "caller", "(no keys)")
            return self._render(response, node["on_empty"])
        if not digits:
            return self._retry(
                response,
                node_name,
                node,
                attempt,
                "no_input",
                node.get("retries", 2),
            )
        if "choices" in node:
            target = choices.get(digits)
            valid = target is not None
        else:
            # A valid gather has min_digits and max_digits together, or digits alone.
            low: int = node["min_digits"] if "min_digits" in node else node["digits"]
            high: int = node["max_digits"] if "max_digits" in node else node["digits"]
            valid, target = digits.isdigit() and low <= len(digits) <= high, node["next"]
        if not valid:
            # A wrong fixed-length entry may be a mistyped secret: keep its length only.
            shown = "*" * len(digits) if "digits" in node or node.get("private") else digits
            self._turn(node_name, "caller", shown)
            return self._retry(
                response, node_name, node, attempt, "not_valid", node.get("retries", 2)
            )
        # A private answer (a date of birth) is kept only by its length in the transcript.
        self._turn(node_name, "caller", "*" * len(digits) if node.get("private") else digits)
        if "save_as" in node:
            self._remember(node["save_as"], digits)
        return self._render(response, str(target))

    def on_recording(self, node_name: str, recording_url: str, duration: str) -> VoiceResponse:
        node_name = self._known(node_name)
        node = self.flow.node(node_name)
        if not recording_url:  # nothing was recorded after all: as if the caller said nothing
            self._turn(node_name, "caller", "(no recording)")
            return self._render(VoiceResponse(), node["on_silence"])
        self._remember("recording_url", recording_url)
        self._remember("recording_seconds", int(duration) if duration.isdigit() else None)
        self._turn(node_name, "caller", f"[recording, {duration or '?'} s]")
        return self._render(VoiceResponse(), node["next"])

    def on_dial(
        self, node_name: str, dial_status: str, *, caller_gone: bool = False
    ) -> VoiceResponse:
        """A <Dial> ended: a transfer, or a queue node's conference (the talk with the agent).

        `caller_gone`: the caller hung up during it (Twilio still asks the action): nothing more
        is said, and the call's end tells the queue.
        """
        node_name = self._known(node_name)
        node = self.flow.node(node_name)
        if node["type"] == "queue":
            if caller_gone:
                left_the_queue(self.session, self.call, self.queueing)
                response = VoiceResponse()
                response.hangup()
                return response
            queued = self._queued(node_name)
            if queued is not None:
                self._remember(QUEUE, {**queued, "state": "done"})
            self._turn(node_name, "system", "[queue: the conversation ended]")
            return self._render(VoiceResponse(), node["next"])
        self._remember("transfer_status", dial_status)
        return self._render(VoiceResponse(), node["next"])

    def waiting(self, node_name: str, round_: int) -> VoiceResponse:
        """The waiting room (the conference's waitUrl): the caller's place, a hold message and a
        pause, then again. Twilio plays only Say, Play, Pause and Redirect here."""
        node_name = self._queue_node(node_name)
        response = VoiceResponse()
        # The transcript keeps the first announcement; later rounds only repeat it.
        keep = round_ == 1
        position = self.queueing.position(self.session, self.call.id)
        if position:
            self.values["position"] = position
            self._say(response, node_name, self.flow.prompts["queue_position"], keep=keep)
        self._say(response, node_name, self.flow.prompts["queue_waiting"], keep=keep)
        response.pause(length=WAIT_PAUSE_SECONDS)
        if round_ < WAIT_ROUNDS:
            response.redirect(self.urls.waiting(node_name, round_ + 1), method="POST")
        return response

    def offer_hold(self, node_name: str) -> VoiceResponse:
        """A waiting caller, brought out of the conference: "press 1 and we call you back,
        keeping your place; press 2 to keep waiting"."""
        node_name = self._queue_node(node_name)
        response = VoiceResponse()
        if not self._waiting(node_name):
            return self._not_waiting(response, node_name)
        gather = response.gather(
            action=self.urls.input(node_name, 1),
            method="POST",
            num_digits=1,
            timeout=8,
            action_on_empty_result=True,
        )
        self._say(gather, node_name, self.flow.prompts["queue_hold_offer"])
        return response

    # ----- rendering -----

    def _render(self, response: VoiceResponse, name: str) -> VoiceResponse:
        for _ in range(_MAX_IMMEDIATE):
            node = self.flow.node(name)
            kind = node["type"]
            if kind == "say":
                self._say(response, name, self.flow.prompt(node["prompt"]))
                if self._speaks_reference(node["prompt"]):
                    self._lead.append(name)
                name = node["next"]
            elif kind == "never_ask":
                self._say(response, name, NEVER_ASK)
                name = node["next"]
            elif kind == "outcome":
                self.call.outcome = node["value"]
                name = node["next"]
            elif kind == "branch":
                value = self.call.variables.get(node["variable"])
                name = str(node["cases"].get(str(value), node["default"]))
            elif kind == "action":
                name = self._act(name, node)
            elif kind == "queue":
                conference = self._enqueue(name, node)
                if conference is None:
                    self._turn(name, "system", "[queue: nobody can take the call]")
                    name = node["unavailable"]
                    continue
                self._say(response, name, self.flow.prompt(node["prompt"]))
                return self._wait_for_agent(response, name, conference)
            elif kind == "verify" and (self.call.variables or {}).get(VERIFIED) is True:
                # Verified earlier in this call (on our line, before taking their callback).
                name = node["on_success"]
            elif kind == "verify" and self._locked():
                return self._end_locked(response, name)
            elif kind in ("gather", "verify"):
                self._note_lead(name)
                return self._ask(response, name, node, attempt=1)
            elif kind == "record":
                self._say(response, name, self.flow.prompt(node["prompt"]))
                transcription = (
                    {"transcribe": True, "transcribe_callback": self.urls.transcribed(name)}
                    if node.get("transcribe")
                    else {}
                )
                response.record(
                    action=self.urls.recorded(name),
                    method="POST",
                    max_length=node.get("max_seconds", RECORD_DEFAULT_SECONDS),
                    finish_on_key="#",
                    play_beep=True,
                    **transcription,
                )
                # Twilio requests the action only when something was recorded; after silence it
                # goes on with the next verb, so the caller who said nothing is not hung up on.
                response.redirect(self.urls.node(node["on_silence"]), method="POST")
                return response
            elif kind == "transfer":
                self._say(response, name, self.flow.prompt(node["prompt"]))
                dial = response.dial(action=self.urls.dialed(name), method="POST", timeout=30)
                dial.number(str(node["to"]))
                return response
            else:  # hangup
                if "prompt" in node:
                    self._say(response, name, self.flow.prompt(node["prompt"]))
                    if self._speaks_reference(node["prompt"]):
                        return self._offer_again(response, name, round_=1)
                response.hangup()
                return response
        # The checker refuses loops of immediate nodes; this guards a live call all the same.
        log.error("flow rendered too many nodes at once", extra={"flow": self.flow.name})
        response.hangup()
        return response

    def _ask(
        self,
        response: VoiceResponse,
        name: str,
        node: dict[str, Any],
        *,
        attempt: int,
        reprompt: bool = False,
    ) -> VoiceResponse:
        prompt = node.get("reprompt", node["prompt"]) if reprompt else node["prompt"]
        options: dict[str, Any] = {
            "action": self.urls.input(name, attempt),
            "method": "POST",
            "timeout": node.get("timeout", 6),
            "action_on_empty_result": True,
        }
        if node["type"] == "verify":
            options["finish_on_key"] = "#"
            options["num_digits"] = node.get("max_digits", 8)
        elif "choices" in node:
            options["num_digits"] = 1
            # A menu hears words too, in the caller's language; codes and numbers never do.
            locale = self._locale()
            options["input"] = "dtmf speech"
            options["language"] = VOICES[locale][0]
            options["hints"] = hints(map(str, node["choices"]), node.get("speech", {}), locale)
        elif "min_digits" in node:
            options["num_digits"] = node["max_digits"]
            options["finish_on_key"] = "#"
        else:
            options["num_digits"] = node["digits"]
            options["finish_on_key"] = "#"
        gather = response.gather(**options)
        self._say(gather, name, self.flow.prompt(prompt))
        return response

    def _retry(
        self,
        response: VoiceResponse,
        name: str,
        node: dict[str, Any],
        attempt: int,
        why: str,
        retries: int,
    ) -> VoiceResponse:
        self._say(response, name, self.flow.prompts[why])
        if attempt <= retries:
            return self._ask(response, name, node, attempt=attempt + 1, reprompt=True)
        return self._render(response, node["fallback"])

    def _on_code(
        self, response: VoiceResponse, name: str, node: dict[str, Any], attempt: int, digits: str
    ) -> VoiceResponse:
        tries = node.get("tries", 3)
        low, high = node.get("min_digits", 6), node.get("max_digits", 8)
        # The code itself is never stored or logged: the transcript keeps only its length.
        self._turn(name, "caller", "*" * len(digits) if digits else "(no keys)")
        if not digits:
            verified, why = False, "no_input"
        elif not digits.isdigit() or not low <= len(digits) <= high:
            verified, why = False, "not_valid"
        else:
            result = self.check_code(self.session, self.call, digits)
            if result is True or result is False:
                result = CodeResult.VERIFIED if result else CodeResult.WRONG
            if result is CodeResult.LOCKED:
                self._say(response, name, self.flow.prompts["wrong_code"])
                return self._end_locked(response, name)
            verified, why = result is CodeResult.VERIFIED, "wrong_code"
        if verified:
            self._remember(VERIFIED, True)
            # When, for the agent who may take the call; never the code or its digits.
            self._remember(VERIFIED_AT, current_time().isoformat())
            return self._render(response, node["on_success"])
        self._say(response, name, self.flow.prompts[why])
        if attempt < tries:
            return self._ask(response, name, node, attempt=attempt + 1, reprompt=True)
        return self._render(response, node["on_failure"])

    # ----- hearing it again, and the language menu -----

    def _speaks_reference(self, prompt: Any) -> bool:
        texts = self.flow.prompt(prompt).values()
        return any(spoken_fields(text) & REFERENCE_VARIABLES for text in texts)

    def _note_lead(self, name: str) -> None:
        """Remember the references said just before this question: `*` says them again."""
        variables = self.call.variables or {}
        if self._lead:
            self._remember(REPEAT, {"node": name, "say": list(self._lead)})
        elif REPEAT in variables:
            self.call.variables = {k: v for k, v in variables.items() if k != REPEAT}

    def _again(
        self, response: VoiceResponse, name: str, node: dict[str, Any], attempt: int
    ) -> VoiceResponse:
        """`*` at a question: the question again (and the reference before it), the same try."""
        self._turn(name, "caller", "* (again)")
        repeat = (self.call.variables or {}).get(REPEAT)
        if isinstance(repeat, dict) and repeat.get("node") == name:
            for said in repeat.get("say", []):
                if said in self.flow.nodes and self.flow.node(said)["type"] == "say":
                    self._say(response, said, self.flow.prompt(self.flow.node(said)["prompt"]))
        return self._ask(response, name, node, attempt=attempt)

    def _offer_again(self, response: VoiceResponse, name: str, *, round_: int) -> VoiceResponse:
        """After a reference at the end of a call: "press * to hear it again", else goodbye."""
        gather = response.gather(
            action=self.urls.input(name, round_), method="POST", num_digits=1, timeout=5
        )
        self._say(gather, name, self.flow.prompts["hear_again"])
        response.hangup()  # nothing pressed: Twilio goes on with the next verb
        return response

    def _on_hear_again(
        self, response: VoiceResponse, name: str, node: dict[str, Any], round_: int, digits: str
    ) -> VoiceResponse:
        if digits != AGAIN or "prompt" not in node:
            response.hangup()
            return response
        self._turn(name, "caller", "* (again)")
        self._say(response, name, self.flow.prompt(node["prompt"]))
        if round_ < HEAR_AGAIN_ROUNDS:
            return self._offer_again(response, name, round_=round_ + 1)
        response.hangup()
        return response

    def _ask_language(self, response: VoiceResponse, *, attempt: int) -> VoiceResponse:
        """The language menu: each language's line in its own voice; keys or the language's
        name."""
        gather = response.gather(
            action=self.urls.input(LANGUAGE_MENU, attempt),
            method="POST",
            num_digits=1,
            timeout=6,
            action_on_empty_result=True,
            input="dtmf speech",
            language=VOICES["en"][0],
            hints=", ".join(
                dict.fromkeys(
                    word
                    for key in LANGUAGE_WORDS.values()
                    for words in self.flow.words.get(key, {}).values()
                    for word in words
                )
            ),
        )
        for locale in LANGUAGES:
            self._say(gather, LANGUAGE_MENU, self.flow.prompts["language_menu"], locale=locale)
        return response

    def _on_language(self, attempt: int, digits: str, speech: str) -> VoiceResponse:
        response = VoiceResponse()
        if (self.call.variables or {}).get(CHOOSE_LANGUAGE) is not True:
            raise UnknownNode(LANGUAGE_MENU)  # chosen already: a stale or forged step
        key = digits if digits in LANGUAGE_KEYS else None
        if key is None and not digits and speech:
            heard = {
                heard_choice(
                    speech,
                    LANGUAGE_KEYS,
                    {k: self.flow.words.get(w, {}) for k, w in LANGUAGE_WORDS.items()},
                    locale,
                )
                for locale in LANGUAGES
            } - {None}
            key = heard.pop() if len(heard) == 1 else None
        shown = f'(said) "{speech}"' if speech and not digits else digits or "(no keys)"
        self._turn(LANGUAGE_MENU, "caller", shown)
        if digits == AGAIN or (key is None and attempt < LANGUAGE_MENU_TRIES):
            return self._ask_language(response, attempt=attempt + (digits != AGAIN))
        # No choice after the tries: the call goes on in the language the number suggested.
        if key is not None:
            self.call.locale = LANGUAGE_KEYS[key]
        choose_language(self.call, False)
        self._turn(LANGUAGE_MENU, "system", f"[language: {self.call.locale}]")
        return self._render(response, self.flow.start)

    def _act(self, name: str, node: dict[str, Any]) -> str:
        """Run an action node; answers the next node (in another flow, if the action switched)."""
        outcome = run_action(self.actions, node["action"], self.session, self.call, self.values)
        for key, value in outcome.variables.items():
            if key not in (VERIFIED, VERIFIED_AT, QUEUE):  # only a verify node vouches
                self._remember(key, value)
        self._turn(name, "system", f"[{node['action']}: {outcome.result}]")
        if outcome.switch_to is not None:
            flow, resume = outcome.switch_to
            self.flow = flow
            self.call.flow, self.call.flow_version = flow.name, flow.version
            return resume
        return str(node.get("cases", {}).get(outcome.result, node["default"]))

    # ----- the queue for people -----

    def _enqueue(self, name: str, node: dict[str, Any]) -> str | None:
        """Put the caller in the queue; the conference they wait in, or None (nobody can)."""
        variables = self.call.variables or {}
        verified_at = None
        if variables.get(VERIFIED) is True and variables.get(VERIFIED_AT):
            try:
                verified_at = datetime.fromisoformat(str(variables[VERIFIED_AT]))
            except ValueError:
                verified_at = None
        offer_after = timedelta(
            minutes=node.get("offer_callback_after", OFFER_CALLBACK_AFTER_MINUTES)
        )
        request = QueueRequest(
            call_id=self.call.id,
            skill=node["skill"],
            priority=QUEUE_PRIORITIES[node.get("priority", "medium")],
            locale=self.call.locale,
            flow=self.flow.name,
            verified_at=verified_at,
            verified_by="app_code" if verified_at is not None else None,
            offer_callback_after=offer_after,
        )
        conference = self.queueing.enqueue(self.session, request)
        if conference is None:
            return None
        self._remember(
            QUEUE,
            {
                "node": name,
                "conference": conference,
                "state": "waiting",
                "since": current_time().isoformat(),
                "offer_after": int(offer_after.total_seconds()),
                "offered": False,
            },
        )
        verified = "verified" if verified_at is not None else "not verified"
        self._turn(name, "system", f"[queue: {node['skill']}, {verified}]")
        return conference

    def _wait_for_agent(self, response: VoiceResponse, name: str, conference: str) -> VoiceResponse:
        """The caller waits in their conference: only an agent starts it, their own hang-up
        ends it, and <Dial action> goes on with the flow when they leave it on the line."""
        dial = response.dial(action=self.urls.dialed(name), method="POST")
        dial.conference(
            conference,
            wait_url=self.urls.waiting(name, 1),
            wait_method="POST",
            start_conference_on_enter=False,
            end_conference_on_exit=True,
            beep=False,
            status_callback=self.urls.conference_events(name),
            status_callback_method="POST",
            status_callback_event="join leave end",
        )
        return response

    def _on_hold_choice(self, response: VoiceResponse, name: str, digits: str) -> VoiceResponse:
        """1: called back, keeping the place; 2, anything else or nothing: back to waiting."""
        queued = self._waiting(name)
        if queued is None:
            return self._not_waiting(response, name)
        self._turn(name, "caller", digits if len(digits) == 1 else "(no keys)")
        if digits == "1":
            self.queueing.take_virtual_hold(self.session, self.call.id)
            self._remember(QUEUE, {**queued, "state": "callback"})
            self._say(response, name, self.flow.prompts["queue_callback_taken"])
            response.hangup()
            return response
        return self._wait_for_agent(response, name, str(queued["conference"]))

    def _queued(self, name: str) -> dict[str, Any] | None:
        """The caller's wait at this queue node, if they entered it."""
        queued = (self.call.variables or {}).get(QUEUE)
        if isinstance(queued, dict) and queued.get("node") == name and queued.get("conference"):
            return queued
        return None

    def _waiting(self, name: str) -> dict[str, Any] | None:
        queued = self._queued(name)
        return queued if queued is not None and queued.get("state") == "waiting" else None

    def _not_waiting(self, response: VoiceResponse, name: str) -> VoiceResponse:
        """An offer for a caller who is not waiting at this node (any more): one who never
        entered it enters it now; one whose talk with the agent is over goes on after it."""
        if self._queued(name) is None:
            return self._render(response, name)
        return self._render(response, self.flow.node(name)["next"])

    def _queue_node(self, name: str) -> str:
        name = self._known(name)
        if self.flow.node(name)["type"] != "queue":
            raise UnknownNode(name)
        return name

    def _locked(self) -> bool:
        locked = getattr(self.check_code, "locked", None)
        return bool(locked and locked(self.session, self.call))

    def _end_locked(self, response: VoiceResponse, name: str) -> VoiceResponse:
        """Too many wrong codes for this customer: no more tries, by phone, until it is cleared."""
        self.call.outcome = Outcome.LOCKED.value
        self._say(response, name, self.flow.prompts["locked"])
        response.hangup()
        return response

    # ----- helpers -----

    def _locale(self) -> str:
        return self.call.locale if self.call.locale in VOICES else "en"

    def _say(
        self,
        verb: Any,
        node: str,
        prompt: dict[str, str],
        *,
        keep: bool = True,
        locale: str | None = None,
    ) -> None:
        locale = locale or self._locale()
        text = render(prompt[locale], locale, self.values, time_zone=self.time_zone)
        refused = refusals(text)
        if refused:
            # A value (a campaign's purpose, a number's label, the company) made the prompt ask
            # for a secret: it is never spoken. The log names what, never the text or the values.
            log.warning(
                "a prompt that asked for a secret was replaced by the safe text",
                extra={
                    "flow": self.flow.name,
                    "node": node,
                    "locale": locale,
                    "call_id": str(self.call.id),
                    "secrets": sorted({r.secret for r in refused}),
                },
            )
            text = SAFE_FALLBACK[locale]
        language, voice = VOICES[locale]
        verb.say(text, language=language, voice=voice)
        if keep:
            self._turn(node, "system", text)

    def _turn(self, node: str, speaker: str, text: str) -> None:
        self.call.add_turn(node, speaker, text)

    def _remember(self, key: str, value: Any) -> None:
        # Reassign, so that the JSON column sees the change.
        self.call.variables = {**(self.call.variables or {}), key: value}
        self.values[key] = value

    def _known(self, node: str) -> str:
        if node not in self.flow.nodes:
            # A URL for a node that a new version of the flow removed: end the call politely.
            raise UnknownNode(node)
        return node


def hold_offer_due(call: CallState, now: datetime) -> str | None:
    """The queue node whose offer of a call back is due for this call's caller, if any: they
    wait there, were not offered one yet, and have waited its `offer_callback_after`."""
    queued = (call.variables or {}).get(QUEUE)
    if not isinstance(queued, dict) or queued.get("state") != "waiting" or queued.get("offered"):
        return None
    try:
        since = datetime.fromisoformat(str(queued.get("since")))
        waited = now - since
    except (TypeError, ValueError):
        return None
    if waited.total_seconds() < float(queued.get("offer_after") or 0):
        return None
    return str(queued["node"])


def offered_hold(call: CallState) -> None:
    """Note that the caller is being offered a call back: never twice in one call."""
    queued = (call.variables or {}).get(QUEUE)
    if isinstance(queued, dict):
        call.variables = {**(call.variables or {}), QUEUE: {**queued, "offered": True}}


def left_the_queue(session: Session, call: CallState, queueing: Queueing) -> None:
    """The call ended while its caller waited for a person: the queue hears it, once (it leaves
    alone a caller an agent took, or who chose a call back)."""
    queued = (call.variables or {}).get(QUEUE)
    if not isinstance(queued, dict) or queued.get("state") != "waiting":
        return
    call.variables = {**(call.variables or {}), QUEUE: {**queued, "state": "ended"}}
    queueing.left(session, call.id)


def choose_language(call: CallState, ask: bool) -> None:
    """Whether the caller is to choose their language before the flow starts."""
    variables = {k: v for k, v in (call.variables or {}).items() if k != CHOOSE_LANGUAGE}
    call.variables = {**variables, CHOOSE_LANGUAGE: True} if ask else variables


class UnknownNode(LookupError):
    """The webhook named a node the flow does not have."""

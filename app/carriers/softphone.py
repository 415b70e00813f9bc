"""The softphone: a person takes a simulated call in the browser, reading prompts, pressing keys.

Calls wait in the simulator_calls table between clicks; each click plays the call forward
through the app's own webhooks (in-process, signed as Twilio would sign them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.carriers.models import SimulatorCall
from app.carriers.signatures import signing_token
from app.carriers.simulator import (
    CalleeScript,
    Line,
    SimulatedCall,
    SimulatorTelephony,
    WsgiTransport,
    room_for,
    spoken,
    waits_in_conference,
)
from app.database import utcnow
from app.errors import Conflict, NotFound

# A ring nobody answers becomes "no-answer", as a real phone would after a while.
RING_SECONDS = 90
VALID_KEYS = set("0123456789*#")


def store_ring(session: Session, call: SimulatedCall, *, sequence: int | None = None) -> None:
    """Keep a call the simulator placed so that the softphone page can show it ringing."""
    session.add(
        SimulatorCall(
            sid=call.sid,
            direction=call.direction,
            from_number=call.from_,
            to_number=call.to,
            url=call.url,
            status_callback=call.status_callback,
            machine_detection=call.machine_detection,
            state="ringing",
            lines=[],
            sequence=call.sequence if sequence is None else sequence,
        )
    )


class Softphone:
    """The person's side of simulated calls, for the softphone page."""

    def __init__(self, app: Flask, session: Session) -> None:
        self.session = session
        self.carrier = SimulatorTelephony(
            transport=WsgiTransport(app),
            auth_token=signing_token(app.config),
            synchronous=True,
            conferences=room_for(app),
        )

    def calls(self) -> list[dict[str, Any]]:
        """Calls ringing or in progress, newest first; stale rings give up as no-answer."""
        now = utcnow()
        rows = list(
            self.session.scalars(
                select(SimulatorCall)
                .where(SimulatorCall.state != "ended")
                .order_by(SimulatorCall.created_at.desc())
            )
        )
        ended: set[str] = set()
        for row in rows:
            if row.state == "ringing" and now - row.created_at > timedelta(seconds=RING_SECONDS):
                self._advance(
                    row,
                    lambda call: self.carrier.decline(call, "no-answer"),
                    "ended",
                    answered=False,
                )
            elif self._after_conference(row):
                ended.add(row.sid)
        # A call that ended so is shown once more, ended (the page then shows its goodbye).
        shown = [self.view(row) for row in rows if row.state != "ended" or row.sid in ended]
        for call in shown:  # what a caller in a conference heard since their last click
            lines = self.carrier.conference_lines(call["sid"])
            if lines is not None and len(lines) > len(call["lines"]):
                call["lines"] = lines
        return shown

    def _after_conference(self, row: SimulatorCall) -> bool:
        """A caller the app took out of their conference (the agent's talk is over) went on
        without a click, to the end of their call: keep what they heard, and that it ended
        (answers whether it did)."""
        if row.state != "in-progress" or not row.pending or not waits_in_conference(row.pending):
            return False
        went_on = self.carrier.after_conference(row.sid, row.pending)
        if went_on is None or went_on.statuses[-1:] != ["completed"]:
            return False
        row.lines = [{"who": line.who, "text": line.text} for line in went_on.lines]
        row.seconds, row.state, row.pending = went_on.seconds, "ended", None
        self.session.commit()
        return True

    def answer(self, sid: str) -> dict[str, Any]:
        row = self._row(sid, "ringing")
        return self._advance(row, self.carrier.answer)

    def decline(self, sid: str) -> dict[str, Any]:
        row = self._row(sid, "ringing")
        return self._advance(
            row, lambda call: self.carrier.decline(call, "busy"), "ended", answered=False
        )

    def press(self, sid: str, keys: str) -> dict[str, Any]:
        row = self._row(sid, "in-progress")
        if len(keys) > 32 or not set(keys) <= VALID_KEYS:
            raise Conflict("keys: only 0-9, * and # can be pressed", field="keys")
        if row.pending is None or waits_in_conference(row.pending):
            raise Conflict("the call is not waiting for keys", field="keys")
        pending = row.pending
        return self._advance(row, lambda call: self.carrier.press(call, pending, keys))

    def say(self, sid: str, words: str) -> dict[str, Any]:
        """Answer the waiting question with words, as Twilio's speech recognition would."""
        row = self._row(sid, "in-progress")
        words = " ".join(words.split())
        if len(words) > 100 or not spoken(words):
            raise Conflict(
                "words: say a few words, not keys (at most 100 characters)", field="words"
            )
        if row.pending is None or waits_in_conference(row.pending):
            raise Conflict("the call is not waiting for an answer", field="words")
        pending = row.pending
        return self._advance(row, lambda call: self.carrier.press(call, pending, words))

    def hang_up(self, sid: str) -> dict[str, Any]:
        row = self._row(sid, "in-progress")

        def hang(call: SimulatedCall) -> None:
            call.lines.append(Line("callee", "hangs up"))
            if self.carrier.in_conference(call.sid):
                # Leaving the conference ends the call (the caller's hang-up ends it for all).
                self.carrier.participant_hangs_up(call.sid)
                return

        return self._advance(row, hang, "ended")

    def dial_in(self, *, from_: str, to: str, inbound_url: str, status_url: str) -> dict[str, Any]:
        """The person rings one of our lines from the softphone."""
        call = SimulatedCall.inbound(
            from_=from_, to=to, url=inbound_url, status_callback=status_url, script=CalleeScript()
        )
        store_ring(self.session, call)
        self.session.commit()
        return self.answer(call.sid)

    # ----- keeping a call between clicks -----

    def _row(self, sid: str, state: str) -> SimulatorCall:
        row = self.session.get(SimulatorCall, sid)
        if row is None:
            raise NotFound("no simulated call has this sid", field="sid")
        if row.state != state:
            raise Conflict(f"the call is {row.state}, not {state}", field="sid")
        return row

    def _advance(
        self,
        row: SimulatorCall,
        step: Callable[[SimulatedCall], str | None],
        state: str | None = None,
        *,
        answered: bool = True,
    ) -> dict[str, Any]:
        """Run one step of the call; it ends when told to, or when no question waits."""
        call = SimulatedCall(
            sid=row.sid,
            direction=row.direction,
            from_=row.from_number,
            to=row.to_number,
            url=row.url,
            status_callback=row.status_callback,
            script=CalleeScript(),
            machine_detection=row.machine_detection,
            lines=[Line(line["who"], line["text"]) for line in row.lines or []],
            seconds=row.seconds,
            sequence=row.sequence,
        )
        # End this transaction before the webhooks run: they write in sessions of their own.
        self.session.commit()
        self.carrier.resume(call)
        pending = step(call)
        # A caller waiting in a conference stays on the line between clicks (their pending
        # document is the conference: a person, not keys, is what they wait for).
        waiting = self.carrier.in_conference(call.sid)
        if state == "ended" or (pending is None and not waiting):
            finished = call.statuses[-1:] == ["completed"]  # by leaving its conference
            if answered and not finished:
                self.carrier.finish(call)
            state, pending = "ended", None
        row = self.session.get_one(SimulatorCall, call.sid)
        row.lines = [{"who": line.who, "text": line.text} for line in call.lines]
        row.seconds, row.sequence = call.seconds, call.sequence
        row.state, row.pending = state or "in-progress", pending
        self.session.commit()
        return self.view(row)

    @staticmethod
    def view(row: SimulatorCall) -> dict[str, Any]:
        return {
            "sid": row.sid,
            "direction": row.direction,
            "from": row.from_number,
            "to": row.to_number,
            "state": row.state,
            # A caller in a conference's waiting room waits for a person, not for keys.
            "waiting_for_keys": row.pending is not None and not waits_in_conference(row.pending),
            "waiting_for_an_agent": row.pending is not None and waits_in_conference(row.pending),
            "lines": row.lines or [],
        }

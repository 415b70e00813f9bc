"""The built-in telephony simulator: an offline carrier that plays calls as Twilio would.

It signs every webhook request with X-Twilio-Signature, follows the TwiML the app answers
(Say, Gather, Record, Redirect, Pause, Dial, Hangup), and reports each call's status in order.
A scripted callee answers (or not) and presses keys, so tests and demos can run whole calls.

A caller's <Dial><Conference> waits in a simulated conference (hearing its waitUrl once) as a
question nobody asks (`SimulatedCall.waiting`); agents and supervisors join it through the
Conferencing interface, as on Twilio, and the simulator keeps who heard what. The caller leaves it
when the conference ends (`conference_ended`, or the app removes them: <Dial action>), when the
app redirects their call (`redirect`) or when they hang up (`caller_hangs_up`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from functools import partial
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from flask import Flask
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.carriers.carrier import (
    CarrierRefused,
    InvalidNumber,
    OutboundCall,
    SupervisorMode,
    client_address,
    supervisor_settings,
)
from app.carriers.models import SimulatorCallState, SimulatorConference, SimulatorParticipant
from app.carriers.signatures import signature_for
from app.database import utcnow
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
    # One entry per Gather: keys ("1", "123456#"), "" presses nothing, and anything else is said
    # (words, e.g. "yes" or "italiano"), heard only by a Gather that listens for speech.
    keys: list[str] = field(default_factory=list)
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


#: The StirVerstat of a caller ID the network fully vouches for (the simulator's default).
FULLY_ATTESTED = "TN-Validation-Passed-A"


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
    # Inbound: the StirVerstat Twilio posts (None posts none). The simulator vouches fully (A)
    # unless told otherwise, as a carrier does for a customer on their own phone (a call rebuilt
    # from the softphone's or the book's rows is one of those).
    stir_verstat: str | None = FULLY_ATTESTED
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
        cls,
        *,
        from_: str,
        to: str,
        url: str,
        status_callback: str | None,
        script: CalleeScript,
        stir_verstat: str | None = FULLY_ATTESTED,
    ) -> SimulatedCall:
        """A call a person places to one of our lines, with a new CallSid."""
        return cls(
            stir_verstat=stir_verstat,
            sid="CA" + secrets.token_hex(16),
            direction="inbound",
            from_=from_,
            to=to,
            url=url,
            status_callback=status_callback,
            script=script,
            machine_detection=False,
        )


# ----- the simulator's book of calls: each call's last status, and whether the app hung it up ---
# Each process plays calls with its own objects (`SimulatorTelephony.calls`); the book is what
# one process asks of a call another placed or plays. One book per conference room (`room.book`):
# in memory for a lone simulator, in the database for the app's (`room_for`).

KEPT_CALL_STATES = timedelta(days=2)  # calls in the database, to look back at


@dataclass
class CallState:
    """What the book says of one call."""

    sid: str
    direction: str = ""
    from_: str = ""
    to: str = ""
    url: str = ""
    status_callback: str | None = None
    status: str | None = None  # the last status reported; None before the first
    sequence: int = -1  # that report's SequenceNumber
    seconds: int = 0
    hung_up: bool = False
    placed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class CallBook:
    """The calls of the simulators that share one conference room, in memory."""

    def __init__(self) -> None:
        self._states: dict[str, CallState] = {}
        self._lock = threading.Lock()

    def note(self, call: SimulatedCall) -> None:
        """Keep the call's latest: placed, or a status reported (an older report of another
        process's object changes nothing)."""
        with self._lock:
            state = self._states.get(call.sid)
            if state is None:
                state = self._states[call.sid] = _state_of(call)
            _merge(state, call)

    def hang_up(self, sid: str) -> None:
        with self._lock:
            self._states.setdefault(sid, CallState(sid)).hung_up = True

    def is_hung_up(self, sid: str) -> bool:
        with self._lock:
            state = self._states.get(sid)
            return state is not None and state.hung_up

    def state(self, sid: str) -> CallState | None:
        with self._lock:
            state = self._states.get(sid)
            return CallState(**vars(state)) if state is not None else None

    def find(self, *, to: str, since: datetime, key: str) -> str | None:
        """The call to this number since a moment whose status callback carries a key."""
        with self._lock:
            for state in self._states.values():
                if (
                    state.to == to
                    and state.placed_at >= since
                    and key in (state.status_callback or "")
                ):
                    return state.sid
        return None


def _state_of(call: SimulatedCall) -> CallState:
    return CallState(
        sid=call.sid,
        direction=call.direction,
        from_=call.from_,
        to=call.to,
        url=call.url,
        status_callback=call.status_callback,
        placed_at=call.placed_at,
    )


def _merge(state: CallState | SimulatorCallState, call: SimulatedCall) -> None:
    """A call object's news into the book: its status when it is the latest report."""
    if call.statuses and call.sequence >= state.sequence:
        state.status, state.sequence = call.statuses[-1], call.sequence
    state.seconds = max(state.seconds, call.seconds)


# ----- the simulator's conferences: who is in each, in what state, what each one heard -----
# Only the simulator changes them; tests and the simulated agent desk read them. One room per
# app (`room_for`), shared by every simulator the app builds in a process.

KEPT_ENDED = 1000  # ended conferences kept to look back at, the newest
API_ENDED = "conference-ended-via-api"  # Twilio's ReasonConferenceEnded when the app ends one


@dataclass
class SimulatedParticipant:
    """One call in a conference: the caller's own, or the call to an agent's browser phone."""

    call: SimulatedCall
    label: str  # caller, agent, transfer, supervisor
    state: str = "ringing"  # ringing, joined, left
    muted: bool = False
    hold: bool = False
    coaching: bool = False
    call_sid_to_coach: str | None = None
    start_conference_on_enter: bool = True
    end_conference_on_exit: bool = False
    # The caller's <Dial action>, or the verbs after <Dial>: where their call goes on when the
    # app removes them from the conference.
    action: str | None = None
    then: str | None = None
    # What this participant heard others say in the conference: (who, words).
    heard: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sid(self) -> str:
        return self.call.sid

    def hears(self, speaker: SimulatedParticipant) -> bool:
        """Whether words spoken by `speaker` reach this participant, as Twilio mixes them."""
        if self is speaker or self.state != "joined" or self.hold or speaker.muted:
            return False
        if speaker.coaching:  # a whisper reaches the coached agent only
            return speaker.call_sid_to_coach == self.sid
        return not speaker.hold


@dataclass
class SimulatedConference:
    name: str  # the FriendlyName: the caller's queue entry
    sid: str = field(default_factory=lambda: "CF" + secrets.token_hex(16))
    status: str = "init"  # init, in-progress, completed
    participants: dict[str, SimulatedParticipant] = field(default_factory=dict)
    # What happened, in order, for tests and the simulated desk ("carrier" or a label, text).
    log: list[tuple[str, str]] = field(default_factory=list)
    status_callback: str | None = None
    events: frozenset[str] = frozenset()  # statusCallbackEvent: join leave end start hold ...
    sequence: int = 0

    def present(self) -> list[SimulatedParticipant]:
        return [p for p in self.participants.values() if p.state == "joined"]


class ConferenceRoom:
    """Every simulated conference of one simulator, by name, in memory; a name is reused once
    it has ended. The simulator changes a conference only under `lock`."""

    def __init__(self) -> None:
        self.lock: AbstractContextManager[object] = threading.RLock()
        self.conferences: dict[str, SimulatedConference] = {}
        self.ended: list[SimulatedConference] = []
        self.book: CallBook | StoredCallBook = CallBook()

    def live(self, name: str) -> SimulatedConference | None:
        return self.conferences.get(name)

    def open(self, name: str) -> SimulatedConference:
        """The live conference of this name, made when it is not there (as Twilio does)."""
        if name not in self.conferences:
            self.conferences[name] = SimulatedConference(name)
        return self.conferences[name]

    def close(self, conference: SimulatedConference) -> None:
        conference.status = "completed"
        if self.conferences.get(conference.name) is conference:
            del self.conferences[conference.name]
            self.ended.append(conference)
            del self.ended[:-KEPT_ENDED]

    def of_call(self, call_sid: str) -> tuple[SimulatedConference, SimulatedParticipant] | None:
        """The live conference this call is in (or ringing into), with its participant."""
        for conference in self.conferences.values():
            participant = conference.participants.get(call_sid)
            if participant is not None and participant.state != "left":
                return conference, participant
        return None

    def of_address(self, to: str) -> list[tuple[SimulatedConference, SimulatedParticipant]]:
        """The live conferences a call to this address (a person's browser phone) is in or
        ringing into, with its participant."""
        return [
            (conference, participant)
            for conference in list(self.conferences.values())
            for participant in conference.participants.values()
            if participant.call.to == to and participant.state != "left"
        ]

    def left(self, call_sid: str) -> SimulatedParticipant | None:
        """A call that has left its conference (the latest time), to see how it went on."""
        for room in [*self.conferences.values(), *reversed(self.ended)]:
            participant = room.participants.get(call_sid)
            if participant is not None and participant.state == "left":
                return participant
        return None

    def find(self, name: str) -> SimulatedConference | None:
        """The live conference of this name, else the last one that ended (to look back at)."""
        live = self.live(name)
        if live is not None:
            return live
        return next((c for c in reversed(self.ended) if c.name == name), None)

    def next_sequence(self, conference: SimulatedConference) -> int:
        """The SequenceNumber of the conference's next status callback."""
        conference.sequence += 1
        return conference.sequence

    def keep(self, call: SimulatedCall) -> None:
        """Note what a participant's call did outside the lock (statuses, what it heard); in
        memory it is the participant's own object already."""


def room_for(app: Flask) -> ConferenceRoom:
    """The app's conference room, shared by the simulators it builds (carrier, softphone) and,
    kept in its database, by its other processes (web workers, the worker)."""
    room = app.extensions.get("simulated_conferences")
    if room is None:
        from app.extensions import db

        engines: list[Engine] = []

        def engine() -> Engine:
            if not engines:
                with app.app_context():
                    engines.append(db.engine)
            return engines[0]

        room = app.extensions["simulated_conferences"] = StoredConferenceRoom(engine)
    return room


# ----- the app's conferences in its database, so that every process of the app meets them -----
# The product runs several web processes and a worker: the worker rings an agent into a caller's
# conference, the caller's and the agent's requests land in any web process. Each change the
# simulator makes under `room.lock` is one transaction: the conference's row is locked (SELECT ...
# FOR UPDATE on PostgreSQL; SQLite takes its one write lock first), read, changed and written
# back before any webhook is sent. What a participant's call does afterwards (its status
# callbacks, a hold document it hears) is merged into its row by `keep`.

# Participants' calls a process keeps in step with their rows (the newest).
KEPT_CALLS = 10_000
ENDED_KEPT_FOR = timedelta(days=2)  # ended conferences in the database, to look back at


@dataclass
class _Synced:
    """A call object of this process, and how much of its lines and statuses its row holds."""

    call: SimulatedCall
    lines: int
    statuses: int


class _Transaction:
    """`with room.lock:` — one transaction (re-entered by the same thread, it is the same one)."""

    def __init__(self, room: StoredConferenceRoom) -> None:
        self.room = room

    def __enter__(self) -> Session:
        return self.room._begin()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.room._end(failed=kind is not None)


class StoredConferenceRoom(ConferenceRoom):
    """Every simulated conference of one app, in the simulator_conferences and
    simulator_participants tables; the same interface as the in-memory room."""

    def __init__(self, engine: Callable[[], Engine]) -> None:
        # Not the in-memory room's dictionaries: `conferences` reads the table.
        self._engine = engine
        self._local = threading.local()
        self._calls: OrderedDict[str, _Synced] = OrderedDict()
        self._calls_lock = threading.Lock()
        self.lock = _Transaction(self)
        self.book = StoredCallBook(self)

    # ----- the room's interface -----

    @property
    def conferences(self) -> dict[str, SimulatedConference]:
        """Every live conference, by name (as the in-memory room's dictionary, to read)."""
        with self._reading() as session:
            rows = session.scalars(
                self._locked(select(SimulatorConference), session)
                .where(SimulatorConference.live_name.is_not(None))
                .order_by(SimulatorConference.sid)
            ).all()
            return {row.name: self._loaded(session, row) for row in rows}

    @conferences.setter
    def conferences(self, value: dict[str, SimulatedConference]) -> None:
        raise AttributeError("the stored room's conferences are its table's rows")

    def live(self, name: str) -> SimulatedConference | None:
        with self._reading() as session:
            row = session.scalar(
                self._locked(select(SimulatorConference), session).where(
                    SimulatorConference.live_name == name
                )
            )
            return self._loaded(session, row) if row is not None else None

    def open(self, name: str) -> SimulatedConference:
        session = self._session()  # only under the lock, as in the simulator
        found = self.live(name)
        if found is not None:
            return found
        conference = SimulatedConference(name)
        try:
            with session.begin_nested():
                session.add(
                    SimulatorConference(
                        sid=conference.sid,
                        name=name,
                        live_name=name,
                        status=conference.status,
                        events=[],
                        sequence=0,
                        log=[],
                    )
                )
        except IntegrityError:  # another process opened it a moment ago: join theirs
            found = self.live(name)
            if found is None:
                raise
            return found
        self._local.loaded[conference.sid] = conference
        return conference

    def close(self, conference: SimulatedConference) -> None:
        conference.status = "completed"  # written when the lock is let go

    def of_call(self, call_sid: str) -> tuple[SimulatedConference, SimulatedParticipant] | None:
        with self._reading() as session:
            conference_sid = session.scalar(
                select(SimulatorParticipant.conference_sid)
                .join(SimulatorConference)
                .where(
                    SimulatorParticipant.call_sid == call_sid,
                    SimulatorParticipant.state != "left",
                    SimulatorConference.live_name.is_not(None),
                )
            )
            if conference_sid is None:
                return None
            row = session.scalar(
                self._locked(select(SimulatorConference), session).where(
                    SimulatorConference.sid == conference_sid,
                    SimulatorConference.live_name.is_not(None),
                )
            )
            if row is None:
                return None
            conference = self._loaded(session, row)
        participant = conference.participants.get(call_sid)
        if participant is None or participant.state == "left":
            return None  # it left while we waited for the lock
        return conference, participant

    def of_address(self, to: str) -> list[tuple[SimulatedConference, SimulatedParticipant]]:
        with self._reading() as session:
            rows = session.scalars(
                self._locked(select(SimulatorConference), session)
                .where(
                    SimulatorConference.live_name.is_not(None),
                    SimulatorConference.sid.in_(
                        select(SimulatorParticipant.conference_sid).where(
                            SimulatorParticipant.to_number == to,
                            SimulatorParticipant.state != "left",
                        )
                    ),
                )
                .order_by(SimulatorConference.created_at)
            ).all()
            conferences = [self._loaded(session, row) for row in rows]
        return [
            (conference, participant)
            for conference in conferences
            for participant in conference.participants.values()
            if participant.call.to == to and participant.state != "left"
        ]

    def left(self, call_sid: str) -> SimulatedParticipant | None:
        """A call that has left its conference (the latest time), to see how it went on."""
        with self._reading() as session:
            person = session.scalar(
                select(SimulatorParticipant).where(
                    SimulatorParticipant.call_sid == call_sid, SimulatorParticipant.state == "left"
                )
            )
            if person is None:
                return None
            row = session.get_one(SimulatorConference, person.conference_sid)
            conference = self._loaded(session, row)
        participant = conference.participants.get(call_sid)
        return participant if participant is not None and participant.state == "left" else None

    def find(self, name: str) -> SimulatedConference | None:
        live = self.live(name)
        if live is not None:
            return live
        with self._reading() as session:
            row = session.scalar(
                select(SimulatorConference)
                .where(SimulatorConference.name == name)
                .order_by(SimulatorConference.ended_at.desc())
                .limit(1)
            )
            return self._loaded(session, row) if row is not None else None

    def next_sequence(self, conference: SimulatedConference) -> int:
        with self._writing() as session:
            row = session.scalar(
                self._locked(select(SimulatorConference), session).where(
                    SimulatorConference.sid == conference.sid
                )
            )
            if row is None:
                return super().next_sequence(conference)
            row.sequence = max(row.sequence, conference.sequence) + 1
            conference.sequence = row.sequence
            return row.sequence

    def keep(self, call: SimulatedCall) -> None:
        with self._calls_lock:
            synced = self._calls.get(call.sid)
        if synced is None or synced.call is not call:
            return  # not a participant's call this process knows
        with self._writing() as session:
            row = session.scalar(
                self._locked(select(SimulatorParticipant), session).where(
                    SimulatorParticipant.call_sid == call.sid
                )
            )
            if row is not None:
                self._write_call(row, call)

    # ----- transactions -----

    def _session(self) -> Session:
        session = getattr(self._local, "session", None)
        if session is None:
            raise RuntimeError("a conference changes only under `with room.lock`")
        return session

    def _begin(self) -> Session:
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            return self._session()
        session = self._writer()
        self._local.session, self._local.loaded, self._local.depth = session, {}, 1
        return session

    def _end(self, *, failed: bool) -> None:
        self._local.depth -= 1
        if self._local.depth:
            return
        session: Session = self._local.session
        loaded: dict[str, SimulatedConference] = self._local.loaded
        self._local.session, self._local.loaded = None, {}
        try:
            if failed:
                session.rollback()
                return
            for conference in loaded.values():
                self._write(session, conference)
            session.commit()
        finally:
            session.close()

    def _reading(self) -> _Reading:
        """The lock's transaction when one is open in this thread, else a short one of its own."""
        return _Reading(self, write=False)

    def _writing(self) -> _Reading:
        return _Reading(self, write=True)

    def _writer(self) -> Session:
        """A transaction that changes conferences: what it reads, it locks."""
        session = Session(self._engine(), expire_on_commit=False, info={"locks": True})
        session.begin()
        if session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks: take its one write lock now, before reading (a no-op).
            session.execute(text("UPDATE simulator_conferences SET sid = sid WHERE 0 = 1"))
        return session

    @staticmethod
    def _locked(statement: Any, session: Session) -> Any:
        """SELECT ... FOR UPDATE in a transaction that changes conferences; a plain read else."""
        return statement.with_for_update() if session.info.get("locks") else statement

    # ----- rows to objects and back -----

    def _loaded(self, session: Session, row: SimulatorConference) -> SimulatedConference:
        """The conference as its rows say (in a transaction, the same object each time)."""
        loaded: dict[str, SimulatedConference] | None = getattr(self._local, "loaded", None)
        in_lock = getattr(self._local, "session", None) is session
        if in_lock and loaded is not None and row.sid in loaded:
            return loaded[row.sid]
        conference = SimulatedConference(
            row.name,
            sid=row.sid,
            status=row.status,
            log=[(entry["who"], entry["text"]) for entry in row.log or []],
            status_callback=row.status_callback,
            events=frozenset(row.events or ()),
            sequence=row.sequence,
        )
        people = session.scalars(
            self._locked(select(SimulatorParticipant), session)
            .where(SimulatorParticipant.conference_sid == row.sid)
            .order_by(SimulatorParticipant.position)
        )
        for person in people:
            conference.participants[person.call_sid] = SimulatedParticipant(
                call=self._call(person),
                label=person.label,
                state=person.state,
                muted=person.muted,
                hold=person.hold,
                coaching=person.coaching,
                call_sid_to_coach=person.call_sid_to_coach,
                start_conference_on_enter=person.start_conference_on_enter,
                end_conference_on_exit=person.end_conference_on_exit,
                action=person.action,
                then=person.then,
                heard=[(entry["who"], entry["text"]) for entry in person.heard or []],
            )
        if in_lock and loaded is not None:
            loaded[row.sid] = conference
        return conference

    def _call(self, row: SimulatorParticipant) -> SimulatedCall:
        """The participant's call: this process's own object (brought up to date), or one
        rebuilt from the row (the call was placed or played by another process)."""
        lines = [Line(entry["who"], entry["text"]) for entry in row.lines or []]
        statuses = list(row.statuses or [])
        with self._calls_lock:
            synced = self._calls.get(row.call_sid)
            if synced is None:
                call = SimulatedCall(
                    sid=row.call_sid,
                    direction=row.direction,
                    from_=row.from_number,
                    to=row.to_number,
                    url=row.url,
                    status_callback=row.status_callback,
                    script=CalleeScript(),
                    machine_detection=False,
                    lines=lines,
                    statuses=statuses,
                    seconds=row.seconds,
                    sequence=row.sequence,
                )
                self._remember(call, len(lines), len(statuses))
                return call
            call = synced.call
            call.lines[:] = lines + call.lines[synced.lines :]
            call.statuses[:] = statuses + call.statuses[synced.statuses :]
            call.sequence = max(call.sequence, row.sequence)
            call.seconds = max(call.seconds, row.seconds)
            synced.lines, synced.statuses = len(lines), len(statuses)
            return call

    def _write(self, session: Session, conference: SimulatedConference) -> None:
        row = session.get_one(SimulatorConference, conference.sid)
        row.status = conference.status
        row.status_callback = conference.status_callback
        row.events = sorted(conference.events)
        row.sequence = max(row.sequence, conference.sequence)
        row.log = [{"who": who, "text": words} for who, words in conference.log]
        if conference.status == "completed" and row.live_name is not None:
            row.live_name, row.ended_at = None, utcnow()
            # Ended conferences are kept a while to look back at (their participants go too).
            session.execute(
                delete(SimulatorConference).where(
                    SimulatorConference.ended_at < row.ended_at - ENDED_KEPT_FOR
                )
            )
        for position, (sid, participant) in enumerate(conference.participants.items()):
            person = session.get(SimulatorParticipant, sid)
            if person is None:
                call = participant.call
                person = SimulatorParticipant(
                    call_sid=sid,
                    conference_sid=conference.sid,
                    position=position,
                    direction=call.direction,
                    from_number=call.from_,
                    to_number=call.to,
                    url=call.url,
                    status_callback=call.status_callback,
                    lines=[],
                    statuses=[],
                )
                session.add(person)
            elif person.conference_sid != conference.sid and participant.state != "left":
                # The call joins another conference (the one it was in has ended for it).
                person.conference_sid, person.position = conference.sid, position
            person.label = participant.label
            person.state = participant.state
            person.muted, person.hold = participant.muted, participant.hold
            person.coaching = participant.coaching
            person.call_sid_to_coach = participant.call_sid_to_coach
            person.start_conference_on_enter = participant.start_conference_on_enter
            person.end_conference_on_exit = participant.end_conference_on_exit
            person.action, person.then = participant.action, participant.then
            person.heard = [{"who": who, "text": words} for who, words in participant.heard]
            self._write_call(person, participant.call)

    def _write_call(self, row: SimulatorParticipant, call: SimulatedCall) -> None:
        """Merge what a call did into its row: what this process added since it last read it
        (others may have added lines meanwhile, as when someone spoke to it)."""
        with self._calls_lock:
            synced = self._calls.get(call.sid)
            if synced is None or synced.call is not call:
                # New to this process, or rebuilt between a person's clicks: it is the whole call.
                lines, statuses = list(call.lines), list(call.statuses)
                row.sequence, row.seconds = call.sequence, call.seconds
            else:
                lines = [
                    Line(entry["who"], entry["text"]) for entry in row.lines or []
                ] + call.lines[synced.lines :]
                statuses = list(row.statuses or []) + call.statuses[synced.statuses :]
                row.sequence = max(row.sequence, call.sequence)
                row.seconds = max(row.seconds, call.seconds)
                call.lines[:] = lines
                call.statuses[:] = statuses
                call.sequence, call.seconds = row.sequence, row.seconds
            row.lines = [{"who": line.who, "text": line.text} for line in lines]
            row.statuses = statuses
            self._remember(call, len(lines), len(statuses))

    def _remember(self, call: SimulatedCall, lines: int, statuses: int) -> None:
        """Keep this process's call object in step with its row (under _calls_lock)."""
        self._calls[call.sid] = _Synced(call, lines, statuses)
        self._calls.move_to_end(call.sid)
        while len(self._calls) > KEPT_CALLS:
            self._calls.popitem(last=False)


class _Reading:
    """The open lock's session, or a short transaction of its own (committed when it writes)."""

    def __init__(self, room: StoredConferenceRoom, *, write: bool) -> None:
        self.room = room
        self.write = write
        self.own: Session | None = None

    def __enter__(self) -> Session:
        session = getattr(self.room._local, "session", None)
        if session is not None:
            return session
        if self.write:
            self.own = self.room._writer()
        else:
            self.own = Session(self.room._engine(), expire_on_commit=False)
        return self.own

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.own is None:
            return
        try:
            if self.write and kind is None:
                self.own.commit()
            else:
                self.own.rollback()
        finally:
            self.own.close()


class StoredCallBook:
    """The app's book of calls, in the simulator_call_states table: every process's calls.

    Each change is its own short transaction (or the room's, when this thread holds its lock),
    so a status written by one process is what the next question from another reads."""

    def __init__(self, room: StoredConferenceRoom) -> None:
        self.room = room

    def note(self, call: SimulatedCall) -> None:
        with self.room._writing() as session:
            row = self._row(session, call.sid)
            if row is None:
                row = self._add(session, call)
            _merge(row, call)

    def hang_up(self, sid: str) -> None:
        with self.room._writing() as session:
            row = self._row(session, sid)
            if row is None:
                row = self._add(session, SimulatedCall(sid, "", "", "", "", None, CalleeScript()))
            row.hung_up = True

    def is_hung_up(self, sid: str) -> bool:
        with self.room._reading() as session:
            return bool(
                session.scalar(
                    select(SimulatorCallState.hung_up).where(SimulatorCallState.sid == sid)
                )
            )

    def state(self, sid: str) -> CallState | None:
        with self.room._reading() as session:
            row = session.get(SimulatorCallState, sid, populate_existing=True)
            if row is None:
                return None
            return CallState(
                sid=row.sid,
                direction=row.direction,
                from_=row.from_number,
                to=row.to_number,
                url=row.url,
                status_callback=row.status_callback,
                status=row.status,
                sequence=row.sequence,
                seconds=row.seconds,
                hung_up=row.hung_up,
                placed_at=row.placed_at,
            )

    def find(self, *, to: str, since: datetime, key: str) -> str | None:
        with self.room._reading() as session:
            rows = session.execute(
                select(SimulatorCallState.sid, SimulatorCallState.status_callback)
                .where(SimulatorCallState.to_number == to, SimulatorCallState.placed_at >= since)
                .order_by(SimulatorCallState.placed_at)
            )
            return next((sid for sid, url in rows if key in (url or "")), None)

    def _row(self, session: Session, sid: str) -> SimulatorCallState | None:
        return session.scalar(
            self.room._locked(select(SimulatorCallState), session)
            .where(SimulatorCallState.sid == sid)
            .execution_options(populate_existing=True)
        )

    def _add(self, session: Session, call: SimulatedCall) -> SimulatorCallState:
        """The call's row, new (another process adding it at the same moment: theirs)."""
        try:
            with session.begin_nested():
                row = SimulatorCallState(
                    sid=call.sid,
                    direction=call.direction,
                    from_number=call.from_,
                    to_number=call.to,
                    url=call.url,
                    status_callback=call.status_callback,
                    sequence=-1,
                    seconds=0,
                    hung_up=False,
                    placed_at=call.placed_at,
                )
                session.add(row)
        except IntegrityError:
            found = self._row(session, call.sid)
            if found is None:
                raise
            return found
        # Calls are kept a while to look back at (the reaper's questions come within hours).
        session.execute(
            delete(SimulatorCallState).where(
                SimulatorCallState.placed_at < call.placed_at - KEPT_CALL_STATES
            )
        )
        return row


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
        conferences: ConferenceRoom | None = None,
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
        self.conferences = conferences if conferences is not None else ConferenceRoom()
        # Each call's last status and whether the app hung it up, as every simulator sharing
        # the room sees it (the app's processes: in its database).
        self.book = self.conferences.book
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
        self._keep(simulated)
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
        # In the book: whichever process plays the call stops at its next step.
        self.book.hang_up(sid)
        if self.conferences.of_call(sid) is not None:
            self._leave(sid, reason="hung up by the app")

    def call_status(self, sid: str) -> str | None:
        """The call's last status, whichever process placed or plays it (the latest report)."""
        reports: list[tuple[int, str]] = []
        call = self.calls.get(sid)
        if call is not None and call.statuses:
            reports.append((call.sequence, call.statuses[-1]))
        state = self.book.state(sid)
        if state is not None and state.status:
            reports.append((state.sequence, state.status))
        return max(reports)[1] if reports else None

    def find_call(self, *, to: str, since: datetime, key: str) -> str | None:
        # The simulator's own record: this process's calls, and the book's (every process's, so
        # that another worker can reconcile the calls of one that was killed).
        for call in list(self.calls.values()):
            if call.to == to and call.placed_at >= since and key in (call.status_callback or ""):
                return call.sid
        found = self.book.find(to=to, since=since, key=key)
        if found is None and self.ring_lookup is not None:
            return self.ring_lookup(to, since, key)
        return found

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
        stir_verstat: str | None = FULLY_ATTESTED,
    ) -> SimulatedCall:
        """A person rings one of our lines (whose status callback, if set, hears "completed").

        `stir_verstat` is the caller ID's STIR/SHAKEN result Twilio would post (default: fully
        attested, A; None posts none, as for a caller ID nobody vouched for)."""
        simulated = SimulatedCall.inbound(
            from_=from_,
            to=to,
            url=inbound_url,
            status_callback=status_url,
            script=script or self.default_script,
            stir_verstat=stir_verstat,
        )
        self._keep(simulated)
        self._start(simulated)
        return simulated

    def _keep(self, call: SimulatedCall) -> None:
        """A call this process places or takes: in the book, and among its own objects (the
        newest KEPT_CALLS: the book answers for older ones, so a long-running process does not
        keep every call it ever made)."""
        self.book.note(call)
        with self._lock:
            self.calls[call.sid] = call
            while len(self.calls) > KEPT_CALLS:
                del self.calls[next(iter(self.calls))]

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

    # ----- conferences: the Conferencing interface -----

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
        return self._ring_in(
            conference,
            identity=identity,
            from_=from_,
            label=label,
            status_callback=status_callback,
            start_conference_on_enter=True,
        )

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
        settings = supervisor_settings(mode, agent_call_sid)
        return self._ring_in(
            conference,
            identity=identity,
            from_=from_,
            label="supervisor",
            status_callback=status_callback,
            start_conference_on_enter=False,
            muted=bool(settings["muted"]),
            coaching=bool(settings["coaching"]),
            call_sid_to_coach=agent_call_sid if settings["coaching"] else None,
            doing=mode,
        )

    def change_supervisor_mode(
        self,
        conference: str,
        call_sid: str,
        *,
        mode: SupervisorMode,
        agent_call_sid: str | None = None,
    ) -> None:
        settings = supervisor_settings(mode, agent_call_sid)
        with self.conferences.lock:
            room, participant = self._participant(conference, call_sid)
            participant.muted = bool(settings["muted"])
            participant.coaching = bool(settings["coaching"])
            participant.call_sid_to_coach = agent_call_sid if participant.coaching else None
            room.log.append((participant.label, f"now {_DOING[mode]}"))
        self._deliver([lambda: self._conference_event(room, "participant-modify", participant)])

    def hold(
        self, conference: str, call_sid: str, on: bool, *, hold_url: str | None = None
    ) -> None:
        with self.conferences.lock:
            room, participant = self._participant(conference, call_sid)
            participant.hold = on
            room.log.append((participant.label, "on hold" if on else "back from hold"))
        event = "participant-hold" if on else "participant-unhold"
        works: list[Callable[[], None]] = [lambda: self._conference_event(room, event, participant)]
        if on and hold_url:
            works.append(lambda: self._listen(participant.call, hold_url, "a hold document"))
        self._deliver(works)

    def remove(self, conference: str, call_sid: str) -> None:
        with self.conferences.lock:
            self._participant(conference, call_sid)
        self._leave(call_sid, reason="removed")

    def warm_transfer(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        status_callback: str,
        timeout: int = 20,
    ) -> str:
        return self.add_agent(
            conference,
            identity=identity,
            from_=from_,
            status_callback=status_callback,
            timeout=timeout,
            label="transfer",
        )

    # ----- conferences: what the people in them do (a test, the simulated agent desk) -----

    def answer_participant(self, call_sid: str) -> None:
        """An agent or supervisor picks up their browser phone: they join the conference."""
        with self.conferences.lock:
            found = self.conferences.of_call(call_sid)
            if found is None or found[1].state != "ringing":
                raise SimulatorError("no browser phone rings with this call id")
            room, participant = found
            participant.state = "joined"
            participant.call.lines.append(Line("carrier", "answered"))
            room.log.append((participant.label, "joins"))
            works: list[Callable[[], None]] = [
                partial(self._status, participant.call, "in-progress"),
                *self._joined(room, participant),
            ]
        self._deliver(works)

    def decline_participant(self, call_sid: str, how: str = "no-answer") -> None:
        """A browser phone rings out ("no-answer") or is refused ("busy"): nobody joins."""
        if how not in ("no-answer", "busy", "failed"):
            raise ValueError("a browser phone declines with no-answer, busy or failed")
        with self.conferences.lock:
            found = self.conferences.of_call(call_sid)
            if found is None or found[1].state != "ringing":
                raise SimulatorError("no browser phone rings with this call id")
            room, participant = found
            participant.state = "left"
            room.log.append((participant.label, how))
        self._deliver([partial(self._status, participant.call, how, CallDuration="0")])

    def participant_hangs_up(self, call_sid: str) -> None:
        """A person in a conference hangs up (the caller, or an agent at their browser phone)."""
        if self.conferences.of_call(call_sid) is None:
            raise SimulatorError("no conference has this call in it")
        self._leave(call_sid, reason="hung up")

    def speak(self, call_sid: str, words: str) -> list[str]:
        """A participant says something; answers the call ids of those who hear it, as Twilio
        mixes a conference (nobody hears the muted or the held; a whisper reaches one agent)."""
        with self.conferences.lock:
            found = self.conferences.of_call(call_sid)
            if found is None or found[1].state != "joined":
                raise SimulatorError("no conference has this call in it")
            room, speaker = found
            room.log.append((speaker.label, words))
            listeners = [p for p in room.present() if p.hears(speaker)]
            for listener in listeners:
                listener.heard.append((speaker.label, words))
                listener.call.lines.append(Line("call", words))
        return [listener.sid for listener in listeners]

    def in_conference(self, call_sid: str) -> bool:
        return self.conferences.of_call(call_sid) is not None

    def resume(self, call: SimulatedCall) -> None:
        """A call rebuilt between a person's clicks (the softphone) takes its place in its
        conference, with what it heard there meanwhile."""
        with self.conferences.lock:
            found = self.conferences.of_call(call.sid)
            if found is not None:
                if len(found[1].call.lines) > len(call.lines):
                    call.lines = list(found[1].call.lines)
                found[1].call = call

    def after_conference(self, call_sid: str, waiting: str) -> SimulatedCall | None:
        """The call of a caller who has left the conference `waiting` (their <Dial><Conference>
        document) still on the line, as it went on since; None while they are in a conference."""
        if self.in_conference(call_sid) or not waits_in_conference(waiting):
            return None
        element = _parse(waiting)[0].find("Conference")
        room = self.conferences.find((element.text or "").strip()) if element is not None else None
        participant = room.participants.get(call_sid) if room is not None else None
        if participant is None or participant.state != "left":
            return None
        return participant.call

    def conference_lines(self, call_sid: str) -> list[dict[str, str]] | None:
        """The lines of a call in a conference as it stands (None when it is in none)."""
        found = self.conferences.of_call(call_sid)
        if found is None:
            return None
        return [{"who": line.who, "text": line.text} for line in found[1].call.lines]

    # ----- conferences: how they work -----

    def _ring_in(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        label: str,
        status_callback: str | None,
        start_conference_on_enter: bool,
        muted: bool = False,
        coaching: bool = False,
        call_sid_to_coach: str | None = None,
        doing: str | None = None,
    ) -> str:
        leg = SimulatedCall(
            sid="CA" + secrets.token_hex(16),
            direction="outbound-api",
            from_=from_,
            to=client_address(identity),
            url="",  # no TwiML: the call joins the conference when answered
            status_callback=status_callback,
            script=self.default_script,
            machine_detection=False,
        )
        self._keep(leg)
        with self.conferences.lock:
            room = self.conferences.open(conference)
            room.participants[leg.sid] = SimulatedParticipant(
                call=leg,
                label=label,
                muted=muted,
                coaching=coaching,
                call_sid_to_coach=call_sid_to_coach,
                start_conference_on_enter=start_conference_on_enter,
                end_conference_on_exit=False,
            )
            room.log.append(("carrier", f"rings the {label} {identity}"))
            if doing:
                room.log.append((label, f"will be {_DOING[doing]}"))
        self._deliver([partial(self._status, leg, "ringing")])
        return leg.sid

    def _join_as_caller(
        self, call: SimulatedCall, dial: ET.Element, then: str, document: str
    ) -> None:
        """The caller's <Dial><Conference>: they join it, and wait (hearing waitUrl once) until it
        starts; `then` is the rest of their document, played if they leave it still on the line;
        `document` (from the <Dial> on) is what they wait in (`call.waiting`)."""
        element = dial.find("Conference")
        assert element is not None  # the caller checked
        name = (element.text or "").strip()
        if not name:
            raise SimulatorError("<Conference> needs a name")

        def flag(attribute: str, default: str) -> bool:
            return element.get(attribute, default) == "true"

        with self.conferences.lock:
            room = self.conferences.open(name)
            if element.get("statusCallback") and room.status_callback is None:
                room.status_callback = element.get("statusCallback")
                events = element.get("statusCallbackEvent", "").split() or ["start", "end"]
                room.events = frozenset(events)
            caller = room.participants[call.sid] = SimulatedParticipant(
                call=call,
                label="caller",
                state="joined",
                muted=flag("muted", "false"),
                start_conference_on_enter=flag("startConferenceOnEnter", "true"),
                end_conference_on_exit=flag("endConferenceOnExit", "false"),
                action=dial.get("action") or None,
                then=then,
            )
            room.log.append(("caller", "joins"))
            works = self._joined(room, caller)
            waiting = room.status == "init"
            call.waiting = document
        call.lines.append(Line("carrier", "waits in a conference" if waiting else "joins a call"))
        for work in works:  # the caller's own call is being played already: in turn
            work()
        wait_url = element.get("waitUrl")
        if waiting and wait_url:
            self._listen(call, wait_url, "a conference's waitUrl")
        self.conferences.keep(call)

    def _joined(
        self, room: SimulatedConference, newcomer: SimulatedParticipant
    ) -> list[Callable[[], None]]:
        """What Twilio reports when a participant has joined (under the room's lock)."""
        works: list[Callable[[], None]] = [
            partial(self._conference_event, room, "participant-join", newcomer)
        ]
        if newcomer.start_conference_on_enter and room.status == "init":
            room.status = "in-progress"
            room.log.append(("carrier", "the conference starts"))
            works.append(partial(self._conference_event, room, "conference-start", None))
        return works

    def _leave(self, call_sid: str, *, reason: str) -> None:
        """A participant leaves (hung up, removed, redirected); the conference ends with the
        caller, or when nobody is left in it."""
        with self.conferences.lock:
            found = self.conferences.of_call(call_sid)
            if found is None:
                return
            room, leaving = found
            joined = leaving.state == "joined"
            departures = [self._depart(room, leaving, reason)]
            events: list[Callable[[], None]] = []
            if joined:  # one who only rang never joined, and so never leaves
                events.append(partial(self._conference_event, room, "participant-leave", leaving))
            if (joined and leaving.end_conference_on_exit) or not room.present():
                why = (
                    "participant-with-end-conference-on-exit-left"
                    if joined and leaving.end_conference_on_exit
                    else "last-participant-left"
                )
                ended, gone = self._end(
                    room, ending=leaving, reason="the conference ended", why=why
                )
                events += ended
                departures += gone
        self._deliver([*events, *departures])

    def _end(
        self,
        room: SimulatedConference,
        *,
        ending: SimulatedParticipant,
        reason: str,
        why: str = API_ENDED,
    ) -> tuple[list[Callable[[], None]], list[Callable[[], None]]]:
        """End a conference (under the room's lock): everyone still in it leaves, `ending` too
        (who ends it; what then happens to their own call is their caller's to do); answers the
        events to report and the departures of the others' calls."""
        events: list[Callable[[], None]] = []
        departures: list[Callable[[], None]] = []
        for other in list(room.participants.values()):
            if other.state == "left":
                continue
            was_joined = other.state == "joined"
            departure = self._depart(room, other, reason)
            if other is not ending:
                departures.append(departure)
            if was_joined:
                events.append(partial(self._conference_event, room, "participant-leave", other))
        events.append(
            partial(
                self._conference_event,
                room,
                "conference-end",
                None,
                ReasonConferenceEnded=why,
                **({} if why == API_ENDED else {"CallSidEndingConference": ending.sid}),
            )
        )
        room.log.append(("carrier", "the conference ends"))
        self.conferences.close(room)
        return events, departures

    def _depart(
        self, room: SimulatedConference, participant: SimulatedParticipant, reason: str
    ) -> Callable[[], None]:
        """Mark a participant gone (under the room's lock); answer what then happens to their
        call: an agent's ends; a caller's ends (hung up), goes elsewhere (redirected) or goes on
        at <Dial action> (removed, or the conference ended, while still on the line)."""
        was = participant.state
        participant.state = "left"
        room.log.append((participant.label, f"leaves ({reason})"))
        call = participant.call
        call.lines.append(Line("carrier", f"leaves the conference ({reason})"))
        if participant.label != "caller":
            status = "completed" if was == "joined" else "canceled"
            return partial(self._status, call, status, CallDuration=str(call.seconds))
        call.waiting = None
        if reason == "hung up":
            return partial(self._hung_up_in_conference, call, participant)
        if reason == "hung up by the app":
            return partial(self.finish, call)
        if reason == "redirected":
            return partial(self._nothing)
        return partial(self._go_on, call, participant)

    @staticmethod
    def _nothing() -> None:
        """A departure whose call goes on elsewhere (the redirect plays it)."""

    def _hung_up_in_conference(
        self, call: SimulatedCall, participant: SimulatedParticipant
    ) -> None:
        """The caller hung up in their conference: Twilio still requests <Dial action> (with
        their own CallStatus completed; what it answers is not played), then the call ends."""
        if participant.action:
            params = {**self._base(call), "CallStatus": "completed", "DialCallStatus": "completed"}
            self._fetch(call, participant.action, params)
        self.finish(call)

    def _go_on(self, call: SimulatedCall, participant: SimulatedParticipant) -> None:
        """The caller left the conference still on the line: their call goes on, to its end."""
        self._converse(call, self._after(call, participant))

    def _after(self, call: SimulatedCall, participant: SimulatedParticipant) -> str | None:
        """Twilio requests <Dial action>, or goes on with the verbs after <Dial>; answers the
        next pending TwiML."""
        if participant.action:
            twiml = self._fetch(
                call, participant.action, {**self._base(call), "DialCallStatus": "completed"}
            )
        else:
            twiml = participant.then or "<Response/>"
        return self._until_question(call, twiml)

    def _participant(
        self, conference: str, call_sid: str
    ) -> tuple[SimulatedConference, SimulatedParticipant]:
        """A participant still in a live conference, or Twilio's 404 (under the room's lock)."""
        room = self.conferences.live(conference)
        participant = room.participants.get(call_sid) if room is not None else None
        if room is None or participant is None or participant.state == "left":
            raise CarrierRefused(
                "Twilio 404 (code 20404): no such participant in a live conference",
                code=20404,
                status=404,
            )
        return room, participant

    def _listen(self, call: SimulatedCall, url: str, what: str) -> None:
        """Play a wait or hold document once: what it says is heard, its pauses pass, its
        Redirect (the next round) is not followed; Twilio plays nothing else there."""
        for verb in _parse(self._fetch(call, url, self._base(call))):
            if verb.tag == "Say":
                self._heard(call, verb)
            elif verb.tag == "Pause":
                call.seconds += int(verb.get("length", "1"))
            elif verb.tag not in ("Play", "Redirect"):
                raise SimulatorError(f"<{verb.tag}> may not be in {what}")
        self.conferences.keep(call)

    def _conference_event(
        self,
        room: SimulatedConference,
        event: str,
        participant: SimulatedParticipant | None,
        **extra: str,
    ) -> None:
        """Report a conference event to its statusCallback, when it asked for that kind."""
        kind = event.split("-", 1)[1].replace("unhold", "hold")
        if not room.status_callback or kind not in room.events:
            return
        sequence = self.conferences.next_sequence(room)
        params = {
            "AccountSid": ACCOUNT_SID,
            "ConferenceSid": room.sid,
            "FriendlyName": room.name,
            "StatusCallbackEvent": event,
            "SequenceNumber": str(sequence),
            "Timestamp": formatdate(usegmt=True),
            **extra,
        }
        if participant is not None:
            params.update(
                CallSid=participant.sid,
                ParticipantLabel=participant.label,
                Muted=_bool(participant.muted),
                Hold=_bool(participant.hold),
                Coaching=_bool(participant.coaching),
                StartConferenceOnEnter=_bool(participant.start_conference_on_enter),
                EndConferenceOnExit=_bool(participant.end_conference_on_exit),
            )
            if participant.call_sid_to_coach:
                params["CallSidToCoach"] = participant.call_sid_to_coach
        url = room.status_callback
        code, _ = self.transport.post(url, params, signature_for(self.auth_token, url, params))
        if code >= 400:
            raise SimulatorError(f"the conference status callback answered {code}")

    def _deliver(self, works: Iterable[Callable[[], None]]) -> None:
        """Send what Twilio sends after a REST request: in turn, after it has answered."""
        todo = list(works)

        def send() -> None:
            try:
                for work in todo:
                    work()
            except Exception:
                log.exception("a simulated conference's webhook failed")
                if self.synchronous:
                    raise

        if self.synchronous:
            send()
        else:
            threading.Thread(target=send, daemon=True).start()

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
                return  # the caller waits in their conference until they leave it
            pending = self.press(call, pending, keys.popleft() if keys else "")
        else:
            raise SimulatorError("the call went on for too many steps")
        if not self.in_conference(call.sid):
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
        """Answer the waiting <Gather> with keys ("" presses nothing) or words (see `spoken`);
        the next pending TwiML."""
        root = _parse(pending)
        if waits_in_conference(pending):
            # Nobody listens to keys in a waiting room: the caller goes on waiting.
            call.lines.append(Line("callee", _pressed(keys) + " while waiting"))
            return pending
        gather, rest = root[0], list(root)[1:]
        if spoken(keys):
            return self._say_to(call, gather, rest, keys.strip())
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

    def _say_to(
        self, call: SimulatedCall, gather: ET.Element, rest: list[ET.Element], words: str
    ) -> str | None:
        """The caller answers a <Gather> with words: Twilio posts them as SpeechResult when the
        Gather listens for speech; one that listens for keys only hears nothing."""
        listens = "speech" in gather.get("input", "dtmf").split()
        call.lines.append(
            Line("callee", f'says "{words}"' + ("" if listens else " (only keys are heard)"))
        )
        call.seconds += 3
        if listens:
            params = {**self._base(call), "SpeechResult": words, "Confidence": "0.92"}
            return self._until_question(call, self._fetch(call, gather.get("action", ""), params))
        if gather.get("actionOnEmptyResult") == "true":
            twiml = self._fetch(call, gather.get("action", ""), {**self._base(call), "Digits": ""})
            return self._until_question(call, twiml)
        return self._until_question(call, _document(rest))

    def finish(self, call: SimulatedCall) -> None:
        self._status(call, "completed", CallDuration=str(call.seconds))
        for url, params in call.after:  # e.g. a transcription, after the call has ended
            self._fetch(call, url, {**self._base(call), **params})
        call.after.clear()

    def _until_question(self, call: SimulatedCall, twiml: str) -> str | None:
        """Play verbs until a <Gather> waits for keys (answer it as pending TwiML) or the end."""
        for _ in range(_MAX_VERBS):
            if self.book.is_hung_up(call.sid):
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
                    document = _document(verbs[index:])
                    self._join_as_caller(call, verb, _document(verbs[index + 1 :]), document)
                    return document  # a question nobody asks: the caller waits there
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

    # ----- a caller waiting in a conference: what happens to them (a test, the softphone) -----

    def conference_ended(self, call: SimulatedCall, pending: str | None = None) -> str | None:
        """The caller's conference ends with them still on the line (the agent's talk is over):
        everyone else leaves it, and Twilio requests the caller's <Dial action>. A scripted call
        goes on with its keys; a person at the softphone (no script) is answered the next
        pending TwiML."""
        with self.conferences.lock:
            room, caller = self._caller_waiting(call, pending)
            events, departures = self._end(room, ending=caller, reason="the conference ended")
        self._deliver([*events, *departures])
        following = self._after(call, caller)
        if call.keys_left is None:
            return following
        self._converse(call, following)
        return None

    def caller_hangs_up(self, call: SimulatedCall, pending: str | None = None) -> None:
        """The caller hangs up in their conference (waiting, or talking): it ends for everyone,
        Twilio requests <Dial action> with the caller's CallStatus completed, then reports the
        call completed."""
        with self.conferences.lock:
            self._caller_waiting(call, pending)
        call.lines.append(Line("callee", "hangs up"))
        self._leave(call.sid, reason="hung up")

    def redirect(self, sid: str, url: str) -> None:
        """The Telephony interface: the call goes on with the TwiML at `url`, leaving its
        conference without <Dial action> (out of a waiting room, say); a scripted call answers
        what follows with its keys."""
        # Only a call this process plays: one a person plays in another (the softphone) keeps its
        # next question in that process's row, which this one could not hand back to them.
        call = self.calls.get(sid)
        if call is None or self.call_status(sid) == "completed":
            raise CarrierRefused("Twilio 404 (code 20404): no call in progress", code=20404)
        if self.conferences.of_call(sid) is not None:
            self._leave(sid, reason="redirected")
        call.lines.append(Line("carrier", "redirected"))
        self._converse(call, self._until_question(call, self._fetch(call, url, self._base(call))))

    def _caller_waiting(
        self, call: SimulatedCall, pending: str | None
    ) -> tuple[SimulatedConference, SimulatedParticipant]:
        """The caller's live conference and participant (under the room's lock)."""
        found = self.conferences.of_call(call.sid)
        if (
            found is None
            or found[1].label != "caller"
            or (pending is not None and not waits_in_conference(pending))
        ):
            raise SimulatorError("the call is not waiting in a conference")
        return found

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
        base = {
            "CallSid": call.sid,
            "AccountSid": ACCOUNT_SID,
            "From": call.from_,
            "To": call.to,
            "Direction": call.direction,
            "ApiVersion": "2010-04-01",
            "CallStatus": "in-progress",
        }
        if call.direction == "inbound" and call.stir_verstat:
            base["StirVerstat"] = call.stir_verstat
        return base

    def _status(self, call: SimulatedCall, status: str, **extra: str) -> None:
        call.statuses.append(status)
        call.sequence += 1
        self.conferences.keep(call)
        self.book.note(call)
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


_DOING = {"monitor": "listening in", "whisper": "coaching the agent", "barge": "in the call"}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def waits_in_conference(twiml: str) -> bool:
    """A pending document that is a caller's <Dial><Conference> (not a <Gather>)."""
    first = next(iter(_parse(twiml)), None)
    return first is not None and first.tag == "Dial" and first.find("Conference") is not None


def spoken(answer: str) -> bool:
    """An answer that is words rather than keys ("yes", "uno", "中文"; not "1" or "123456#")."""
    return bool(answer.strip()) and not set(answer.strip()) <= set("0123456789*#")


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

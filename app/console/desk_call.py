"""A caller at an agent's desk, as the desk and the supervisor's wall show it, and the carrier's
side of that call (the conference named after the caller's queue entry).

The screen pop is built field by field from what staff may see: the customer's name and
language, the matter (its events' amounts, merchants, reasons), the call's reference and how the
caller was verified (method, time, result). Never the call's variables, never anything keyed on
the phone: they may hold the digits a caller typed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.agents import service as agents
from app.agents.models import QueueEntry, QueueState
from app.agents.queueing import conference_name
from app.callbacks.models import Callback, Event
from app.calls.models import Call, CallDirection
from app.carriers.carrier import (
    CarrierRefused,
    Conferencing,
    SupervisorMode,
    TelephonyError,
    client_address,
    staff_identity,
)
from app.carriers.service import conferencing_for
from app.carriers.simulator import SimulatedParticipant, SimulatorError, SimulatorTelephony
from app.console.labels import (
    QUEUE_PRIORITIES,
    flow_title,
    kept_text,
    language_label,
    verified_by_label,
)
from app.console.transcript import attestation
from app.customers.models import Customer
from app.errors import Conflict, InvalidInput
from app.flows.prompts import NEVER_ASK
from app.i18n import label, time_of_day, when
from app.numbers.models import NumberPurpose
from app.numbers.service import list_numbers
from app.staff.models import StaffUser

#: The standing line on every desk (staff read it; the caller hears it in their language).
NEVER_ASK_LINE = _l("We never ask for a password, PIN, card details or an SMS code.")
#: The event details the matter shows (never free text that could carry a secret).
MATTER_FIELDS = ("amount", "currency", "merchant", "country")
#: The most lines of a simulated conference a desk shows.
SHOWN_LINES = 40


def verification(entry: QueueEntry) -> dict[str, Any]:
    """How the caller was verified: the method, the time and the result; never the code."""
    if entry.verified_by is None or entry.verified_at is None:
        return {"verified": False, "label": _("Not verified")}
    return {
        "verified": True,
        "method": entry.verified_by,
        "at": entry.verified_at.isoformat(),
        "label": _(
            "Verified by %(method)s at %(time)s",
            method=verified_by_label(entry.verified_by),
            time=time_of_day(entry.verified_at),
        ),
    }


def caller_id(call: Call | None) -> dict[str, Any] | None:
    """How far the network vouched for an inbound caller's number (STIR/SHAKEN), in words: a
    caller ID not attested A may be spoofed, which matters most before the caller is verified.
    None for our own calls out (we dialed the number)."""
    if call is None or call.direction is not CallDirection.INBOUND:
        return None
    return {"attested": call.caller_id_attested, "label": attestation(call.caller_id_attestation)}


def priority_label(priority: int) -> str:
    """A caller's queue priority (3, 2, 1) as a person says it: High, Medium, Low."""
    known = QUEUE_PRIORITIES.get(priority)
    return label(known) if known is not None else str(priority)


def screen_pop(session: Session, entry: QueueEntry, *, now: datetime) -> dict[str, Any]:
    """What the agent sees of the caller at their desk (the page and its JSON alike)."""
    customer = session.get(Customer, entry.customer_id) if entry.customer_id else None
    call = session.get(Call, entry.call_id)
    matter: dict[str, Any] | None = None
    if entry.callback_id is not None:
        callback = session.get(Callback, entry.callback_id)
        if callback is not None:
            events = session.scalars(
                select(Event).where(Event.callback_id == callback.id).order_by(Event.occurred_at)
            ).all()
            matter = {
                "id": str(callback.id),
                "flow": callback.flow,
                "title": flow_title(callback.flow),
                "priority": callback.priority.value,
                "priority_label": label(callback.priority),
                "status": callback.status.value,
                "status_label": label(callback.status),
                "outcome": callback.outcome.value if callback.outcome else None,
                "outcome_label": label(callback.outcome) if callback.outcome else None,
                "reasons": [kept_text(reason) for reason in callback.reasons or []],
                # Our call for a complaint's call back: which complaint (its reference, ours).
                "complaint": (agents.agent_call_of(callback) or {}).get("complaint"),
                "events": [
                    {
                        "type": label(event.type),
                        "occurred_at": when(event.occurred_at),
                        **{k: str(event.data[k]) for k in MATTER_FIELDS if k in (event.data or {})},
                        "reasons": [kept_text(reason) for reason in event.reasons or []],
                    }
                    for event in events
                ],
            }
    return {
        "entry_id": str(entry.id),
        "state": entry.state.value,
        "state_label": label(entry.state),
        "skill": entry.skill.value,
        "skill_label": label(entry.skill),
        "priority": entry.priority,
        "priority_label": priority_label(entry.priority),
        "language": entry.locale,
        "language_name": language_label(entry.locale),
        "waited_seconds": max(0, int(agents.waited(entry, now).total_seconds())),
        "customer": customer.name if customer and customer.name else None,
        "reference": call.reference if call else None,
        "verification": verification(entry),
        "caller_id": caller_id(call),
        "matter": matter,
        "never_ask": str(NEVER_ASK_LINE),
        "never_ask_spoken": NEVER_ASK.get(entry.locale) if entry.locale != "en" else None,
        "wrapped": entry.wrapped_at is not None,
    }


def offer(entry: QueueEntry, *, now: datetime) -> dict[str, Any]:
    """What a ringing desk shows before the agent answers: the language, the skill, the wait."""
    return {
        "entry_id": str(entry.id),
        "state": entry.state.value,
        "state_label": label(entry.state),
        "skill": entry.skill.value,
        "skill_label": label(entry.skill),
        "priority_label": priority_label(entry.priority),
        "language": entry.locale,
        "language_name": language_label(entry.locale),
        "waited_seconds": max(0, int(agents.waited(entry, now).total_seconds())),
        "verified": entry.verified_by is not None,
    }


# ----- the carrier's side: the conference named after the entry -----


@dataclass(frozen=True)
class Line:
    """The conference a caller waits in, and who may act on it."""

    conferencing: Conferencing
    name: str  # the conference's FriendlyName: the queue entry's id

    @property
    def simulated(self) -> SimulatorTelephony | None:
        return self.conferencing if isinstance(self.conferencing, SimulatorTelephony) else None

    def leg(self, staff_id: uuid.UUID) -> SimulatedParticipant | None:
        """The simulated call to this person's browser phone in the conference, if any."""
        simulator = self.simulated
        if simulator is None:
            return None
        address = client_address(staff_identity(staff_id))
        with simulator.conferences.lock:
            room = simulator.conferences.live(self.name)
            if room is None:
                return None
            for participant in reversed(list(room.participants.values())):
                if participant.call.to == address and participant.state != "left":
                    return participant
        return None

    def log(self, session: Session, *, me: uuid.UUID | None = None) -> list[dict[str, str]]:
        """What happened in the simulated conference, latest last (the desk and the wall), in
        the reader's words: people by name ("You" for `me`), never a phone's identity."""
        simulator = self.simulated
        if simulator is None:
            return []
        with simulator.conferences.lock:
            room = simulator.conferences.find(self.name)
            lines = list(room.log) if room is not None else []
        return said(lines, names=_names(session, lines), me=me)[-SHOWN_LINES:]


#: Who is who in a simulated conference's log (the simulator names them by their part).
_WHO = {
    "caller": _l("Caller"),
    "agent": _l("Agent"),
    "transfer": _l("Colleague"),
    "supervisor": _l("Supervisor"),
    "carrier": _l("Phone line"),
}
#: What happens in it (the simulator's own words are English); anything else was said.
_HAPPENED = {
    "joins": _l("joins the call"),
    "on hold": _l("is on hold"),
    "back from hold": _l("is back from hold"),
    "no-answer": _l("did not answer"),
    "busy": _l("declined the call"),
    "failed": _l("could not be reached"),
    "the conference starts": _l("the call starts"),
    "the conference ends": _l("the call ends"),
    "leaves (hung up)": _l("hangs up"),
    "leaves (hung up by the app)": _l("hangs up"),
    "leaves (removed)": _l("leaves the call"),
    "leaves (redirected)": _l("leaves the call"),
    "leaves (the conference ended)": _l("leaves: the call ended"),
    "now listening in": _l("is listening in"),
    "now coaching the agent": _l("is coaching the agent"),
    "now in the call": _l("is in the call"),
    "will be listening in": _l("will listen in"),
    "will be coaching the agent": _l("will coach the agent"),
    "will be in the call": _l("will join the call"),
}
_RINGS = re.compile(r"^rings the (\w+) (staff_[0-9a-f]{32})$")
_IDENTITY = re.compile(r"staff_([0-9a-f]{32})")


def _names(session: Session, lines: list[tuple[str, str]]) -> dict[str, str]:
    """The names of the staff whose browser phones the log mentions, by phone identity."""
    ids = {uuid.UUID(found) for _who, text in lines for found in _IDENTITY.findall(text)}
    if not ids:
        return {}
    rows = session.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids)))
    return {staff_identity(staff_id): name for staff_id, name in rows}


def said(
    lines: list[tuple[str, str]], *, names: dict[str, str], me: uuid.UUID | None
) -> list[dict[str, str]]:
    """A conference's log as people read it: who (a name, "You", or their part in the call)
    and what happened or what they said."""
    mine = staff_identity(me) if me is not None else None
    phones: dict[str, str] = {}  # the part in the call -> the phone last rung for it
    shown = []
    for who, text in lines:
        rung = _RINGS.match(text)
        if who == "carrier" and rung is not None:
            part, identity = rung.groups()
            phones[part] = identity
            text = (
                _("rings you")
                if identity == mine
                else _("rings %(name)s", name=_person(identity, part, names))
            )
        elif text in _HAPPENED:
            text = str(_HAPPENED[text])
        elif text.startswith("leaves ("):
            text = _("leaves the call")
        identity = phones.get(who)
        if identity is not None and identity == mine:
            person = _("You")
        elif identity is not None and identity in names:
            person = names[identity]
        else:
            person = str(_WHO.get(who, who))
        shown.append({"who": person, "text": text})
    return shown


def _person(identity: str, part: str, names: dict[str, str]) -> str:
    if identity in names:
        return names[identity]
    return {"supervisor": _("a supervisor"), "transfer": _("a colleague")}.get(part, _("an agent"))


def line_simulator(app: Flask) -> SimulatorTelephony | None:
    """The simulator, when it is the app's carrier (its calls are the desk's to act on)."""
    conferencing = conferencing_for(app)
    return conferencing if isinstance(conferencing, SimulatorTelephony) else None


def phone_legs(app: Flask, staff_id: uuid.UUID) -> list[str]:
    """The simulated calls in which this person's browser phone is still joined, in any
    conference (an agent who handed their caller on is still on that line)."""
    simulator = conferencing_for(app)
    if not isinstance(simulator, SimulatorTelephony):
        return []
    address = client_address(staff_identity(staff_id))
    with simulator.conferences.lock:
        return [
            participant.sid
            for _room, participant in simulator.conferences.of_address(address)
            if participant.state == "joined"
        ]


def line_of(app: Flask, entry: QueueEntry) -> Line:
    return Line(conferencing_for(app), conference_name(entry.id))


def agent_call_sid(line: Line, entry: QueueEntry) -> str | None:
    """The call id of the agent's browser phone in the conference: the simulator knows it;
    elsewhere it is the one the router's ringer kept on the entry."""
    if entry.agent_id is not None:
        leg = line.leg(entry.agent_id)
        if leg is not None:
            return leg.sid
    return entry.agent_call_sid  # the router's ringer keeps it


def carrier_refused(error: TelephonyError | SimulatorError) -> Conflict:
    """A carrier's refusal as the console's conflict (a clear message, never a 5xx)."""
    if isinstance(error, CarrierRefused) and error.status == 404:
        return Conflict(_("the caller is no longer on the line"))
    return Conflict(_("the phone line did not do it; try again in a moment"))


def caller_sid(session: Session, entry: QueueEntry) -> str:
    call = session.get(Call, entry.call_id)
    if call is None or not call.sid:
        raise Conflict(_("the caller's call is not connected yet"))
    return call.sid


def official_from(session: Session) -> str:
    """The number our calls to browser phones come from: an outbound line in service."""
    numbers = list_numbers(session)
    for number in numbers:
        if number.purpose is NumberPurpose.OUTBOUND_VERIFICATION:
            return number.phone
    if numbers:
        return numbers[0].phone
    raise Conflict(_("no official number is in service to call staff from"))


def live_calls(session: Session) -> list[QueueEntry]:
    """The callers with an agent now, oldest answer first (the wall's live calls)."""
    return list(
        session.scalars(
            select(QueueEntry)
            .where(QueueEntry.state == QueueState.CONNECTED)
            .order_by(QueueEntry.answered_at)
            .limit(200)
        )
    )


def supervise(
    app: Flask,
    session: Session,
    entry: QueueEntry,
    *,
    supervisor_id: uuid.UUID,
    mode: SupervisorMode,
    joined_sid: str | None = None,
) -> tuple[str, str]:
    """Bring a supervisor into an agent's live call, or change how they are in it (their call
    `joined_sid`, when they joined it before); answers what now happens and their call's id.
    In the simulator the supervisor's browser phone picks up at once."""
    if entry.state is not QueueState.CONNECTED:
        raise Conflict(_("this call is not live any more"))
    line = line_of(app, entry)
    agent_sid = agent_call_sid(line, entry)
    if mode == "whisper" and agent_sid is None:
        raise InvalidInput(_("whisper: the agent's call is not known yet; monitor or barge"))
    present = line.leg(supervisor_id)
    if line.simulated is not None:
        joined_sid = present.sid if present is not None and present.state == "joined" else None
    sid: str | None = None
    try:
        if joined_sid is not None:
            try:
                line.conferencing.change_supervisor_mode(
                    line.name, joined_sid, mode=mode, agent_call_sid=agent_sid
                )
                sid = joined_sid
            except CarrierRefused as exc:
                if exc.status != 404:
                    raise
                # They hung up since: ring them in again.
        if sid is None:
            sid = line.conferencing.add_supervisor(
                line.name,
                identity=staff_identity(supervisor_id),
                from_=official_from(session),
                mode=mode,
                agent_call_sid=agent_sid,
            )
            if line.simulated is not None:
                line.simulated.answer_participant(sid)
    except (TelephonyError, SimulatorError) as exc:
        raise carrier_refused(exc) from None
    return str(SUPERVISING[mode]), sid


#: What a supervisor's mode means, as the wall tells them.
SUPERVISING = {
    "monitor": _l("You are listening in; nobody hears you."),
    "whisper": _l("You are coaching the agent; the customer does not hear you."),
    "barge": _l("You are in the call; the customer and the agent both hear you."),
}

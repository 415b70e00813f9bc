"""The agent desk: presence, the caller offered to the agent, the screen pop once they answer,
hold, hang up and the wrap-up; on Twilio the browser phone, in the simulator the agent's side
of the simulated call (what they say, the customer reads on the softphone).

Each agent sees only their own desk: every action names the caller's queue entry, and the
agents service refuses one that is not theirs. The page polls `/console/desk/state` (JSON, no
secret in it: the screen pop is built field by field in app.console.desk_call).
"""

from __future__ import annotations

import re
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app, jsonify, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.agents.models import Agent, Disposition, Presence, QueueEntry, QueueState, Skill
from app.agents.ringing import ring
from app.agents.rules import NOTES_MAX
from app.audit.models import AuditEvent
from app.audit.service import record
from app.callbacks.models import Callback, CallbackStatus
from app.callbacks.service import AGENT_CALLBACK_FLOW
from app.carriers.access_tokens import voice_token
from app.carriers.carrier import TelephonyError, staff_identity
from app.carriers.simulator import SimulatorError
from app.config import ConfigurationError
from app.console import desk_call
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Form, Moment, Text, read
from app.console.labels import language_label
from app.customers.models import Customer
from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.extensions import db
from app.i18n import label, when
from app.inputs import MultilineString
from app.staff.auth import WORK, current_staff, staff_actor
from app.staff.models import StaffUser

DECLINED = _l("Declined: the caller goes to the next agent. You are away.")
#: What the desk says once the agent chose a presence.
CHOSEN = {
    Presence.AVAILABLE: _l("You are available."),
    Presence.AWAY: _l("You are away."),
}


class PresenceForm(Form):
    presence = ma.fields.String(required=True)


class EntryForm(Form):
    entry_id = ma.fields.UUID(required=True, error_messages={"invalid_uuid": _l("not a caller")})


class SayForm(EntryForm):
    words = Text(500, required=True)


class HoldForm(EntryForm):
    on = ma.fields.Boolean(required=True)


class TransferForm(EntryForm):
    to = ma.fields.String(required=True)  # "skill:fraud" or "agent:<staff id>"


class WrapUpForm(EntryForm):
    disposition = ma.fields.String(required=True)
    notes = MultilineString(load_default=None)
    follow_up_at = Moment(load_default=None)


# ----- the page and its state -----


@bp.get("/desk")
@requires_role(WORK)
def desk() -> str:
    session = db.session()
    agent = _agent(session)
    state = _state(session, agent)
    session.commit()  # the agent's row, made on their first visit
    handed_on = bool(state["entry"] and state["entry"].get("handoff"))
    return render_template(
        "console/desk.html",
        agent=agent,
        state=state,
        # A caller handed on: the follow-up is for the agent who ends the call.
        dispositions=[d for d in Disposition if not (handed_on and d is Disposition.FOLLOW_UP)],
        notes_max=NOTES_MAX,
        skills=list(Skill),
        twilio=current_app.config["TELEPHONY"] == "twilio",
        texts=browser_texts(),
        zone=str(get_timezone()),
    )


def browser_texts() -> dict[str, str]:
    """What the desk's script says itself (the browser phone's state), in the agent's words."""
    return {
        "phone": _("Browser phone: %(state)s"),
        "starting": _("starting…"),
        "ready": _("ready"),
        "ringing": _("ringing"),
        "on_call": _("on a call"),
        "unavailable": _("not available"),
    }


@bp.get("/desk/state")
@requires_role(WORK, background=True)
def desk_state() -> Response:
    session = db.session()
    agent = _agent(session)
    state = _state(session, agent)
    session.commit()
    return jsonify(state)


@bp.get("/desk/token")
@requires_role(WORK, background=True)
def desk_token() -> tuple[Response, int] | Response:
    """An access token for the signed-in member of staff's browser phone (Twilio only)."""
    if current_app.config["TELEPHONY"] != "twilio":
        return jsonify(message=_("the simulator needs no browser phone")), 404
    staff = _staff()
    identity = staff_identity(staff.id)
    try:
        token = voice_token(current_app.config, identity)
    except ConfigurationError as exc:
        return jsonify(message=str(exc)), 409
    return jsonify(token=token, identity=identity)


def _staff() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # requires_role let a signed-in member of staff in
    return staff


def _agent(session: Session) -> Agent:
    return agents.profile(session, _staff())


def _state(session: Session, agent: Agent) -> dict[str, Any]:
    """The desk as it is now: the agent's presence and the caller at their desk, if any."""
    moment = now()
    entry = agents.current_entry(session, agent)
    state: dict[str, Any] = {
        "presence": agent.presence.value,
        "presence_label": label(agent.presence),
        "skills": [skill.value for skill in agent.skills],
        "skill_labels": [label(skill) for skill in agent.skills],
        "languages": list(agent.languages),
        "language_labels": [language_label(code) for code in agent.languages],
        "entry": None,
        "offer": None,
        "on_hold": False,
        "lines": [],
        "colleagues": [],
        "still_on_a_line": False,
        # Our calls to customers for this agent ("call now", a follow-up): ringing them, or
        # verifying them; the desk rings once the customer has verified.
        "calling": [
            {
                "callback_id": str(calling.id),
                "status": calling.status.value,
                "label": _("Calling the customer…")
                if calling.status is not CallbackStatus.QUEUED or calling.next_attempt_at <= moment
                else _("We call the customer at %(time)s", time=when(calling.next_attempt_at)),
            }
            # Once the customer is at their desk (ringing, talking), that is what it shows.
            for calling in (agents.calling_for(session, agent) if entry is None else [])
        ],
    }
    if entry is not None:
        if entry.state is QueueState.OFFERED and entry.virtual_hold_at is not None:
            # A caller on virtual hold whose turn came: we call them back; the desk rings once
            # they have verified (nothing to answer yet).
            state["calling"] = [
                {
                    "callback_id": None,
                    "status": "calling_back",
                    "label": _("Calling the customer back…"),
                }
            ]
        elif entry.state is QueueState.OFFERED:
            state["offer"] = desk_call.offer(entry, now=moment)
        else:
            state["entry"] = desk_call.screen_pop(session, entry, now=moment)
            state["on_hold"] = entry.state is QueueState.CONNECTED and _on_hold(session, entry)
            if entry.state is QueueState.CONNECTED:
                state["colleagues"] = _colleagues(session, agent)
        state["lines"] = desk_call.line_of(current_app, entry).log(session, me=agent.staff_id)
    elif (handoff := agents.handoff_of(session, agent)) is not None:
        # A caller handed on: on that line still, introducing them; then their own wrap-up.
        handed = session.get(QueueEntry, handoff.entry_id)
        if handoff.left_at is None or handed is None:
            state["still_on_a_line"] = True
        else:
            state["entry"] = desk_call.screen_pop(session, handed, now=moment) | {
                "state": QueueState.ENDED.value,  # for them: their part is over
                "handoff": True,
                "wrapped": False,  # their own wrap-up is still to write
            }
        state["handoff"] = f"{handoff.id}/{'left' if handoff.left_at else 'on'}"
    elif agent.presence is Presence.WRAP_UP:
        # A caller handed on: the agent may still be on that line, introducing them.
        state["still_on_a_line"] = True
    state["signature"] = ":".join(
        [
            agent.presence.value,
            str(entry.id) if entry else "-",
            entry.state.value if entry else "-",
            "hold" if state["on_hold"] else "-",
            ",".join(f"{c['callback_id']}/{c['status']}" for c in state["calling"]) or "-",
            state.get("handoff", "-"),
        ]
    )
    return state


def _colleagues(session: Session, agent: Agent) -> list[dict[str, str]]:
    """The agents free to take a transfer now, by name."""
    rows = session.execute(
        select(StaffUser.id, StaffUser.name)
        .join(Agent, Agent.staff_id == StaffUser.id)
        .where(
            Agent.presence == Presence.AVAILABLE,
            StaffUser.active.is_(True),
            StaffUser.id != agent.staff_id,
        )
        .order_by(StaffUser.name)
        .limit(100)
    )
    return [{"id": str(staff_id), "name": name} for staff_id, name in rows]


def _returned_from(session: Session, entry: QueueEntry, agent: Agent) -> bool:
    """Whether the caller, no longer offered to the agent, went back to the queue from them."""
    if entry.agent_id == agent.staff_id:
        return False
    latest = session.scalar(
        select(AuditEvent.changes)
        .where(
            AuditEvent.subject_type == "queue_entry",
            AuditEvent.subject_id == str(entry.id),
            AuditEvent.action == "queue.returned",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return bool(latest and latest.get("agent_id") == str(agent.staff_id))


def _on_hold(session: Session, entry: QueueEntry) -> bool:
    latest = session.scalar(
        select(AuditEvent.changes)
        .where(
            AuditEvent.subject_type == "queue_entry",
            AuditEvent.subject_id == str(entry.id),
            AuditEvent.action == "queue.hold",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return bool(latest and latest.get("on"))


# ----- the agent's actions -----


@bp.get("/callbacks/<uuid:callback_id>/call-now", endpoint="call_now_ask")
@requires_role(WORK)
def call_now_ask(callback_id: uuid.UUID) -> tuple[str, int] | Response:
    """Before "call now" rings a customer: who, which number and what about, to confirm."""
    session = db.session()
    matter = session.get(Callback, callback_id)
    if matter is None:
        return refused(_("Not called: no callback has this id."), "console.callbacks")
    return render_template(
        "console/callback_confirm.html",
        callback=matter,
        customer=session.get(Customer, matter.customer_id),
        action="call_now",
    ), 200


@bp.post("/callbacks/<uuid:callback_id>/call-now")
@requires_role(WORK)
def call_now(callback_id: uuid.UUID) -> Response:
    """An agent's (or a supervisor's) "call now" on a callback: we call the customer, verify
    them, and only then ring this member of staff's desk."""
    session = db.session()
    matter = session.get(Callback, callback_id, with_for_update=True)
    if matter is None:
        return refused(_("Not called: no callback has this id."), "console.callbacks")
    if matter.flow == AGENT_CALLBACK_FLOW:
        return refused(
            _("Not called: this is already our call for an agent."),
            "console.callback",
            callback_id=callback_id,
        )
    try:
        agents.call_now(session, _agent(session), matter, actor=staff_actor(), now=now())
    except DomainError as exc:
        session.rollback()
        return refused(
            _("Not called: %(why)s", why=exc.message), "console.callback", callback_id=callback_id
        )
    session.commit()
    return back(
        _("We are calling the customer: your desk rings once they have verified."), "console.desk"
    )


@bp.post("/desk/presence")
@requires_role(WORK)
def desk_presence() -> Response:
    try:
        form = read(PresenceForm, request.form)
        agent = _agent(db.session())
        agents.set_presence(db.session(), agent, form["presence"], actor=staff_actor(), now=now())
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not changed: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    chosen = CHOSEN.get(agent.presence)
    return back(
        str(chosen) if chosen else _("You are: %(presence)s.", presence=label(agent.presence)),
        "console.desk",
    )


@bp.post("/desk/answer")
@requires_role(WORK)
def desk_answer() -> Response:
    """The agent answers the caller offered to them; in the simulator their browser phone
    joins the caller's conference."""
    try:
        form = read(EntryForm, request.form)
        agent = _agent(db.session())
        answered = db.session.get(QueueEntry, form["entry_id"])
        if (
            answered is not None
            and answered.agent_id == agent.staff_id
            and answered.state is QueueState.CONNECTED
        ):
            # The browser phone's own report (answered) reached the queue first, or a second
            # click: either way they are on the call.
            return back(_("You are on this call already."), "console.desk")
        entry = agents.accept(db.session(), agent, form["entry_id"], now=now())
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not answered: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    line = desk_call.line_of(current_app, entry)
    leg = line.leg(agent.staff_id)
    if line.simulated is not None and leg is not None and leg.state == "ringing":
        try:
            line.simulated.answer_participant(leg.sid)
        except SimulatorError:
            return refused(_("Answered, but the simulated phone did not connect."), "console.desk")
    return back(_("Answered: you are on the call."), "console.desk")


@bp.post("/desk/decline")
@requires_role(WORK)
def desk_decline() -> Response:
    """The agent lets the ringing caller go to the next agent, and is away until they say."""
    try:
        form = read(EntryForm, request.form)
        agent = _agent(db.session())
        declined = db.session.get(QueueEntry, form["entry_id"])
        if declined is not None and _returned_from(db.session(), declined, agent):
            # The browser phone's own report (busy) reached the queue first: done already.
            return back(str(DECLINED), "console.desk")
        entry = _entry(db.session(), agent, form["entry_id"], QueueState.OFFERED)
        agents.set_presence(db.session(), agent, Presence.AWAY, actor=staff_actor(), now=now())
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not declined: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    line = desk_call.line_of(current_app, entry)
    leg = line.leg(agent.staff_id)
    if line.simulated is not None and leg is not None and leg.state == "ringing":
        # It may have stopped ringing by itself meanwhile: nothing left to decline then.
        with suppress(SimulatorError):
            line.simulated.decline_participant(leg.sid, "busy")
    return back(str(DECLINED), "console.desk")


@bp.post("/desk/say")
@requires_role(WORK)
def desk_say() -> Response:
    """In the simulator, what the agent says: the customer reads it on the softphone."""
    try:
        form = read(SayForm, request.form)
        agent = _agent(db.session())
        entry = _entry(db.session(), agent, form["entry_id"], QueueState.CONNECTED)
        line = desk_call.line_of(current_app, entry)
        leg = line.leg(agent.staff_id)
        if line.simulated is None:
            raise Conflict(_("on Twilio you speak through your headset"))
        if leg is None or leg.state != "joined":
            raise Conflict(_("your phone is not in the call"))
        try:
            heard = line.simulated.speak(leg.sid, form["words"])
        except SimulatorError:
            raise Conflict(_("your phone is not in the call")) from None
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not said: %(why)s", why=exc.message), "console.desk")
    db.session.rollback()  # nothing changed in the database
    if not heard:
        return back(
            _("Said, but nobody heard it (the customer is on hold or gone)."), "console.desk"
        )
    return back(_("Said."), "console.desk")


@bp.post("/desk/hold")
@requires_role(WORK)
def desk_hold() -> Response:
    """Put the customer on hold (they hear music) or bring them back."""
    try:
        form = read(HoldForm, request.form)
        agent = _agent(db.session())
        entry = _entry(db.session(), agent, form["entry_id"], QueueState.CONNECTED)
        line = desk_call.line_of(current_app, entry)
        try:
            line.conferencing.hold(line.name, desk_call.caller_sid(db.session(), entry), form["on"])
        except (TelephonyError, SimulatorError) as exc:
            raise desk_call.carrier_refused(exc) from None
        record(
            db.session(),
            actor=staff_actor(),
            action="queue.hold",
            subject_type="queue_entry",
            subject_id=entry.id,
            changes={"on": form["on"], "agent_id": agent.staff_id},
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not changed: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    return back(
        _("The customer is on hold.") if form["on"] else _("The customer is back."), "console.desk"
    )


@bp.post("/desk/hang-up")
@requires_role(WORK)
def desk_hang_up() -> Response:
    """The agent leaves the call: the call ends for them and they write its wrap-up."""
    try:
        form = read(EntryForm, request.form)
        agent = _agent(db.session())
        entry = _entry(db.session(), agent, form["entry_id"], QueueState.CONNECTED)
        agents.hang_up(db.session(), entry, now=now())
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not hung up: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    _leave(entry, agent)
    return back(_("Hung up. Write the wrap-up."), "console.desk")


@bp.post("/desk/transfer")
@requires_role(WORK)
def desk_transfer() -> Response:
    """A warm transfer: the caller goes to a colleague or a skill while the agent stays on the
    line to introduce them, then leaves the call."""
    try:
        form = read(TransferForm, request.form)
        agent = _agent(db.session())
        entry = _entry(db.session(), agent, form["entry_id"], QueueState.CONNECTED)
        kind, _colon, value = form["to"].partition(":")
        if kind == "skill":
            offer = agents.transfer(
                db.session(), agent, entry, skill=value, actor=staff_actor(), now=now()
            )
        elif kind == "agent":
            try:
                colleague = uuid.UUID(value)
            except ValueError:
                raise NotFound(_("no agent has this id"), field="to") from None
            offer = agents.transfer(
                db.session(), agent, entry, to=colleague, actor=staff_actor(), now=now()
            )
        else:
            raise InvalidInput(_("to: a skill or an available agent"), field="to")
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not transferred: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    if offer is not None:
        ring(current_app, [offer])  # the colleague's desk and browser phone ring now
        done = _("Transferring: your colleague's phone rings.")
    else:
        done = _("Transferring: the caller is first in line for that team.")
    return back(_("%(done)s Introduce the caller, then leave the call.", done=done), "console.desk")


@bp.post("/desk/leave")
@requires_role(WORK)
def desk_leave() -> Response:
    """After a transfer, the agent's phone leaves the call and they write their own wrap-up;
    after a call that ended, it leaves whatever call it is still in, and they are available
    for the next caller."""
    try:
        agent = _agent(db.session())
        if agents.current_entry(db.session(), agent) is not None:
            raise Conflict(_("you still have a caller at your desk: hang up or wrap up first"))
        if agents.handoff_of(db.session(), agent) is not None:
            agents.leave_handoff(db.session(), agent, actor=staff_actor(), now=now())
            done = _("You left the call. Write the wrap-up of your part of it.")
        else:
            agents.set_presence(
                db.session(), agent, Presence.AVAILABLE, actor=staff_actor(), now=now()
            )
            done = _("You left the call and are available.")
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not done: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    simulator = desk_call.line_simulator(current_app)
    if simulator is not None:
        for sid in desk_call.phone_legs(current_app, agent.staff_id):
            with suppress(SimulatorError):  # gone meanwhile
                simulator.participant_hangs_up(sid)
    return back(done, "console.desk")


@bp.post("/desk/wrap-up")
@requires_role(WORK)
def desk_wrap_up() -> Response:
    try:
        form = read(WrapUpForm, request.form)
        form["follow_up_at"] = _in_my_zone(form["follow_up_at"], request.form.get("follow_up_at"))
        agent = _agent(db.session())
        entry = agents.get_entry(db.session(), form["entry_id"])
        # Live and theirs (not a caller they handed on): the talk ends with their wrap-up.
        was_live = entry.state is QueueState.CONNECTED and entry.agent_id == agent.staff_id
        agents.wrap_up(
            db.session(),
            agent,
            entry,
            disposition=form["disposition"],
            notes=form["notes"],
            follow_up_at=form["follow_up_at"],
            actor=staff_actor(),
            now=now(),
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not saved: %(why)s", why=exc.message), "console.desk")
    db.session.commit()
    if was_live:
        _leave(entry, agent)
    return back(_("Wrapped up. You are available for the next caller."), "console.desk")


def _in_my_zone(moment: datetime | None, typed: str | None) -> datetime | None:
    """A time the agent typed without a zone (the form's date and time) is in their own zone,
    the one the console shows them times in."""
    if moment is None or not typed or _NAMES_A_ZONE.search(typed.strip()):
        return moment
    return moment.replace(tzinfo=ZoneInfo(str(get_timezone()))).astimezone(UTC)


#: A typed time that names its zone: "...Z", "...+02:00", "...-0500".
_NAMES_A_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _entry(session: Session, agent: Agent, entry_id: uuid.UUID, state: QueueState) -> QueueEntry:
    """The agent's own caller, in the state the action needs; a clear refusal otherwise."""
    entry = session.get(QueueEntry, entry_id)
    if entry is None:
        raise NotFound(_("no caller has this place in the queue"), field="entry_id")
    if entry.agent_id != agent.staff_id:
        raise Conflict(_("this caller is not at your desk"), field="entry_id")
    if entry.state is not state:
        if state is QueueState.OFFERED:
            raise Conflict(_("this caller is no longer offered to you"), field="entry_id")
        raise Conflict(_("this call is not live any more"), field="entry_id")
    return entry


def _leave(entry: QueueEntry, agent: Agent) -> None:
    """The talk is over (committed): the caller is taken out of the conference, on with their
    flow (the goodbye), which ends the conference and so the agent's call; the agent's phone
    is hung up too, should the caller be gone already."""
    line = desk_call.line_of(current_app, entry)
    agent_sid = desk_call.agent_call_sid(line, entry)
    with suppress(TelephonyError, SimulatorError, Conflict):  # gone already: nothing to end
        line.conferencing.remove(line.name, desk_call.caller_sid(db.session(), entry))
    if agent_sid is None:
        return
    with suppress(TelephonyError, SimulatorError):
        if line.simulated is not None:
            if line.simulated.in_conference(agent_sid):
                line.simulated.participant_hangs_up(agent_sid)
        else:
            line.conferencing.remove(line.name, agent_sid)

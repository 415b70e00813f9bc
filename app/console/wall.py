"""The supervisor's wall: who waits for which skill and for how long, the agents by presence,
the live calls, and monitor, whisper and barge on a live call (the supervisor's browser phone
joins its conference; in the simulator the wall shows what then happens in it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.agents.models import WAITING_STATES, Agent, Presence, QueueEntry, QueueState, Skill
from app.audit.models import AuditEvent
from app.audit.service import record
from app.callbacks.models import Callback, CallbackStatus
from app.callbacks.service import AGENT_CALLBACK_FLOW
from app.carriers.carrier import SUPERVISOR_MODES
from app.console import desk_call
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Form, read
from app.console.labels import language_label
from app.errors import DomainError, NotFound
from app.extensions import db
from app.i18n import label, when
from app.staff.auth import RUN, current_staff, staff_actor
from app.staff.models import StaffUser

#: The wall's figures cover this long.
FIGURES_SINCE = timedelta(hours=24)


class SuperviseForm(Form):
    entry_id = ma.fields.UUID(required=True, error_messages={"invalid_uuid": _l("not a call")})
    mode = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SUPERVISOR_MODES, error=_l("one of monitor, whisper, barge")),
    )


@bp.get("/wall")
@requires_role(RUN)
def wall() -> str:
    return render_template("console/wall.html", data=wall_data(db.session(), now=now()))


@bp.get("/wall/live")
@requires_role(RUN, background=True)
def wall_live() -> str:
    return render_template("console/_wall.html", data=wall_data(db.session(), now=now()))


@bp.post("/wall/supervise")
@requires_role(RUN)
def wall_supervise() -> Response:
    """Monitor, whisper to the agent, or barge into a live call (audited)."""
    staff = current_staff()
    assert staff is not None
    try:
        form = read(SuperviseForm, request.form)
        entry = db.session.get(QueueEntry, form["entry_id"])
        if entry is None:
            raise NotFound(_("no call has this id"), field="entry_id")
        doing, sid = desk_call.supervise(
            current_app,
            db.session(),
            entry,
            supervisor_id=staff.id,
            mode=form["mode"],
            joined_sid=_joined(db.session(), entry, staff_actor().label),
        )
        record(
            db.session(),
            actor=staff_actor(),
            action="queue.supervised",
            subject_type="queue_entry",
            subject_id=entry.id,
            changes={"mode": form["mode"], "agent_id": entry.agent_id, "call_sid": sid},
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not done: %(why)s", why=exc.message), "console.wall")
    db.session.commit()
    return back(doing, "console.wall")


def _joined(session: Session, entry: QueueEntry, actor: str) -> str | None:
    """The supervisor's call in this caller's conference, when they joined it before (their
    latest `queue.supervised` entry for it keeps the call's id)."""
    changes = session.scalar(
        select(AuditEvent.changes)
        .where(
            AuditEvent.subject_type == "queue_entry",
            AuditEvent.subject_id == str(entry.id),
            AuditEvent.action == "queue.supervised",
            AuditEvent.actor == actor,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    sid = (changes or {}).get("call_sid")
    return str(sid) if sid else None


def wall_data(session: Session, *, now: datetime) -> dict[str, Any]:
    """What the wall shows: the figures, the callers waiting, our call backs and the agents
    held for them, the agents, the live calls; every value in the supervisor's words."""
    figures = agents.figures(session, since=now - FIGURES_SINCE, now=now)
    waiting = session.scalars(
        select(QueueEntry)
        .where(QueueEntry.state.in_([*WAITING_STATES, QueueState.OFFERED]))
        .order_by(QueueEntry.priority.desc(), QueueEntry.entered_at)
        .limit(200)
    ).all()
    staff_rows = session.execute(
        select(Agent, StaffUser)
        .join(StaffUser, StaffUser.id == Agent.staff_id)
        .where(StaffUser.active.is_(True))
        .order_by(StaffUser.name)
    ).all()
    names = {staff.id: staff.name for _agent, staff in staff_rows}
    call_backs = _call_backs(session, waiting, names, now=now)
    held = {row["agent_id"]: row["held"] for row in call_backs if row["agent_id"] and row["held"]}
    live = desk_call.live_calls(session)
    supervisor = current_staff()
    return {
        "figures": figures,
        "waiting_by_skill": [
            {
                "skill": skill.value,
                "label": label(skill),
                "count": figures.waiting_by_skill.get(skill.value, 0),
            }
            for skill in Skill
        ],
        "agents_by_presence": [
            {
                "presence": presence.value,
                "label": label(presence),
                "count": figures.agents_by_presence.get(presence.value, 0),
            }
            for presence in Presence
        ],
        "waiting": [
            {
                "skill": label(entry.skill),
                "language": language_label(entry.locale),
                "priority": desk_call.priority_label(entry.priority),
                "state": _("Being called back")
                if entry.state is QueueState.OFFERED and entry.virtual_hold_at is not None
                else label(entry.state),
                "waited": seconds(agents.waited(entry, now)),
                "verified": entry.verified_by is not None,
                "agent": names.get(entry.agent_id) if entry.agent_id else None,
                "kept_for": names.get(entry.reserved_for) if entry.reserved_for else None,
            }
            for entry in waiting
        ],
        "call_backs": call_backs,
        "calling_back": sum(1 for row in call_backs if row["held"]),
        "agents": [
            {
                "name": staff.name,
                "presence": label(agent.presence),
                "since": seconds(now - agent.presence_since),
                "skills": ", ".join(label(skill) for skill in agent.skills),
                "languages": ", ".join(language_label(code) for code in agent.languages),
                "held": held.get(agent.staff_id),
            }
            for agent, staff in staff_rows
        ],
        "live": [
            {
                "entry_id": str(entry.id),
                "agent": names.get(entry.agent_id, _("An agent"))
                if entry.agent_id
                else _("An agent"),
                "skill": label(entry.skill),
                "language": language_label(entry.locale),
                "talking": seconds(now - (entry.answered_at or now)),
                "lines": desk_call.line_of(current_app, entry).log(
                    session, me=supervisor.id if supervisor else None
                )[-8:],
            }
            for entry in live
        ],
    }


def seconds(span: timedelta) -> int:
    """A duration in whole seconds, never negative (clocks of two machines may differ)."""
    return max(0, int(span.total_seconds()))


def _call_backs(
    session: Session,
    waiting: Sequence[QueueEntry],
    names: dict[uuid.UUID, str],
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """Our calls back to customers and the agents held for them: a caller on virtual hold
    whose turn came (we call them back for an agent), a customer who verified on our call and
    waits for the agent kept for them, and our calls to customers for an agent ("call now",
    a follow-up)."""
    rows: list[dict[str, Any]] = []
    for entry in waiting:
        held_for = entry.agent_id or entry.reserved_for
        who = (names.get(held_for) if held_for else None) or _("an agent")
        if entry.state is QueueState.OFFERED and entry.virtual_hold_at is not None:
            rows.append(
                _call_back(
                    entry.agent_id,
                    _("Calling the customer back for %(agent)s", agent=who),
                    _("Held for a call back"),
                    skill=label(entry.skill),
                    language=language_label(entry.locale),
                    since=entry.offered_at,
                    now=now,
                )
            )
        elif entry.state is QueueState.WAITING and entry.reserved_for is not None:
            rows.append(
                _call_back(
                    entry.reserved_for,
                    _("The customer has verified and waits for %(agent)s", agent=who),
                    _("Kept for a customer we called back"),
                    skill=label(entry.skill),
                    language=language_label(entry.locale),
                    since=entry.entered_at,
                    now=now,
                )
            )
    ours = session.scalars(
        select(Callback)
        .where(Callback.flow == AGENT_CALLBACK_FLOW, Callback.status != CallbackStatus.DONE)
        .order_by(Callback.next_attempt_at)
        .limit(200)
    ).all()
    for callback in ours:
        carried = agents.agent_call_of(callback) or {}
        if "entry_id" in carried:  # a caller on virtual hold: their queue entry says it above
            continue
        try:
            agent_id: uuid.UUID | None = uuid.UUID(carried.get("agent_id", ""))
        except ValueError:
            agent_id = None
        who = names.get(agent_id) if agent_id else None
        later = callback.status is CallbackStatus.QUEUED and callback.next_attempt_at > now
        rows.append(
            _call_back(
                agent_id,
                _(
                    "We call the customer for %(agent)s at %(time)s",
                    agent=who or _("an agent"),
                    time=when(callback.next_attempt_at),
                )
                if later
                else _("Calling the customer for %(agent)s", agent=who or _("an agent")),
                None if later else _("Calling a customer for a call back"),
                skill=label(Skill(carried["skill"])) if carried.get("skill") in SKILLS else "",
                language="",
                since=None,
                now=now,
            )
        )
    return rows


SKILLS = frozenset(skill.value for skill in Skill)


def _call_back(
    agent_id: uuid.UUID | None,
    text: str,
    held: str | None,
    *,
    skill: str,
    language: str,
    since: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "text": text,
        "held": held,
        "skill": skill,
        "language": language,
        "since": seconds(now - since) if since is not None else None,
    }

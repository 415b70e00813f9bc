"""The supervisor's wall: who waits for which skill and for how long, the agents by presence,
the live calls, and monitor, whisper and barge on a live call (the supervisor's browser phone
joins its conference; in the simulator the wall shows what then happens in it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.agents.models import WAITING_STATES, Agent, QueueEntry, QueueState
from app.audit.models import AuditEvent
from app.audit.service import record
from app.carriers.carrier import SUPERVISOR_MODES
from app.console import desk_call
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.desk import PRESENCES
from app.console.forms import Form, read
from app.errors import DomainError, NotFound
from app.extensions import db
from app.staff.auth import RUN, current_staff, staff_actor
from app.staff.models import StaffUser

#: The wall's figures cover this long.
FIGURES_SINCE = timedelta(hours=24)


class SuperviseForm(Form):
    entry_id = ma.fields.UUID(required=True, error_messages={"invalid_uuid": "not a call"})
    mode = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SUPERVISOR_MODES, error="one of monitor, whisper, barge"),
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
            raise NotFound("no call has this id", field="entry_id")
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
        return refused(f"Not done: {exc.message}", "console.wall")
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
    """What the wall shows: the figures, the callers waiting, the agents, the live calls."""
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
    names = {staff.id: staff.name for _, staff in staff_rows}
    live = desk_call.live_calls(session)
    return {
        "figures": figures,
        "waiting": [
            {
                "skill": entry.skill.value,
                "language": entry.locale,
                "priority": entry.priority,
                "state": entry.state.value.replace("_", " "),
                "waited": int(agents.waited(entry, now).total_seconds()),
                "verified": entry.verified_by is not None,
                "agent": names.get(entry.agent_id) if entry.agent_id else None,
            }
            for entry in waiting
        ],
        "agents": [
            {
                "name": staff.name,
                "presence": PRESENCES[agent.presence],
                "since": int((now - agent.presence_since).total_seconds()),
                "skills": ", ".join(skill.value for skill in agent.skills),
                "languages": ", ".join(agent.languages),
            }
            for agent, staff in staff_rows
        ],
        "live": [
            {
                "entry_id": str(entry.id),
                "agent": names.get(entry.agent_id, "?") if entry.agent_id else "?",
                "skill": entry.skill.value,
                "language": entry.locale,
                "talking": int((now - (entry.answered_at or now)).total_seconds()),
                "lines": desk_call.line_of(current_app, entry).log()[-8:],
            }
            for entry in live
        ],
        "presences": PRESENCES,
    }

"""Agents and callers for the queue's tests: staff made directly (no password hashing), calls
as the carrier would have them."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.agents import service
from app.agents.models import Agent, Presence, QueueEntry
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.calls.models import Call, CallDirection
from app.extensions import db
from app.staff.models import Role, StaffUser
from tests.engine_fixtures import MORNING

SUPERVISOR = Actor("staff:supervisor")
_numbers = itertools.count(1000)


def add_agent(
    session,
    name: str,
    *,
    skills=("general",),
    languages=("en",),
    available_since: datetime | None = None,
) -> Agent:
    """A staff member with the agent role; available since the given moment when one is given."""
    staff = StaffUser(
        id=uuid.uuid4(),
        email=f"{name}-{uuid.uuid4().hex[:6]}@bank.example",
        name=name,
        role=Role.AGENT,
        password_hash="not-used",
    )
    session.add(staff)
    session.flush()
    agent = service.profile(session, staff)
    service.set_skills(session, agent, skills, languages, actor=SUPERVISOR)
    if available_since is not None:
        service.set_presence(
            session, agent, Presence.AVAILABLE, actor=Actor(f"staff:{name}"), now=available_since
        )
    session.flush()
    return agent


def add_call(session, *, locale: str = "en") -> Call:
    """A caller's leg, as our line answered it."""
    call = Call(
        id=uuid.uuid4(),
        sid=f"CA{uuid.uuid4().hex}",
        direction=CallDirection.INBOUND,
        from_number=f"+3933312{next(_numbers):05d}",
        to_number="+14155550101",
        flow="verify_caller_line",
        flow_version=1,
        locale=locale,
    )
    session.add(call)
    session.flush()
    return call


def caller(
    session,
    *,
    skill: str = "general",
    priority: int = 2,
    locale: str = "en",
    entered: datetime = MORNING,
    **more,
) -> QueueEntry:
    """A caller who entered the queue at `entered`."""
    call = add_call(session, locale=locale)
    return service.enqueue(
        session, call=call, skill=skill, priority=priority, locale=locale, now=entered, **more
    )


def audit(session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def later(seconds: float) -> datetime:
    return MORNING + timedelta(seconds=seconds)


@pytest.fixture
def session(app):
    """The app's session, inside an app context."""
    with app.app_context():
        yield db.session
        db.session.rollback()

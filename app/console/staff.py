"""The staff screen: the accounts, supervisors opening a new one, and the skills and languages
of the staff who take calls."""

from __future__ import annotations

import uuid

import marshmallow as ma
from flask import render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.agents.models import Agent, Skill
from app.console.blueprint import back, bp, refused, requires_role
from app.console.forms import Choice, Form, Text, read
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.locales import SUPPORTED_LOCALES
from app.staff import service as staff_service
from app.staff.auth import READ, RUN, staff_actor
from app.staff.models import Role, StaffUser


class StaffForm(Form):
    email = ma.fields.String(load_default="")  # the service says what an address must be
    name = Text(120, load_default="")
    role = Choice(Role, load_default=Role.AGENT)
    password = ma.fields.String(load_default="")


#: The roles whose staff may take calls (auditors only read).
TAKES_CALLS = (Role.AGENT, Role.SUPERVISOR)
#: Each language in its own words, as a person picks it.
LANGUAGE_NAMES = {"en": "English", "it": "Italiano", "pl": "Polski", "zh": "中文"}


class AgentForm(Form):
    skills = ma.fields.List(Choice(Skill), load_default=list)
    languages = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(SUPPORTED_LOCALES, error="one of {choices}")),
        load_default=list,
    )


@bp.get("/staff")
@requires_role(READ)
def staff() -> str:
    rows = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    desks = {agent.staff_id: agent for agent in db.session.scalars(select(Agent))}
    return render_template(
        "console/staff.html",
        rows=rows,
        roles=list(Role),
        desks=desks,
        takes_calls=TAKES_CALLS,
        skills=list(Skill),
        languages={locale: LANGUAGE_NAMES.get(locale, locale) for locale in SUPPORTED_LOCALES},
    )


@bp.post("/staff/<uuid:staff_id>/agent")
@requires_role(RUN)
def staff_agent(staff_id: uuid.UUID) -> Response:
    """A supervisor sets the skills and languages of someone who takes calls."""
    try:
        form = read(AgentForm, request.form)
        member = db.session.get(StaffUser, staff_id)
        if member is None:
            raise NotFound("no staff member has this id")
        if member.role not in TAKES_CALLS:
            raise Conflict(f"{member.role.value}s take no calls")
        agent = agents.profile(db.session(), member)
        agents.set_skills(
            db.session(), agent, form["skills"], form["languages"], actor=staff_actor()
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not saved: {exc.message}", "console.staff")
    db.session.commit()
    return back(f"Skills and languages of {member.name} saved.", "console.staff")


@bp.post("/staff")
@requires_role(RUN)
def staff_create() -> Response:
    try:
        form = read(StaffForm, request.form)
        staff_service.create_staff(
            db.session(),
            email=form["email"],
            name=form["name"],
            role=form["role"],
            password=form["password"],
            actor=staff_actor(),
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(f"Not created: {exc.message}", "console.staff")
    db.session.commit()
    return back("Account created.", "console.staff")

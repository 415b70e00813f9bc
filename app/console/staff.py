"""The staff screen: the accounts, supervisors opening a new one, and the skills and languages
of the staff who take calls."""

from __future__ import annotations

import logging
import smtplib
import uuid

import marshmallow as ma
from flask import current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.agents import service as agents
from app.agents.models import Agent, Presence, Skill
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.forms import Choice, Form, Text, read
from app.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.i18n import label
from app.locales import SUPPORTED_LOCALES
from app.messaging.email import masked_address, send_email
from app.staff import second_factor
from app.staff import service as staff_service
from app.staff.auth import READ, RUN, staff_actor
from app.staff.models import EndReason, Role, StaffUser

log = logging.getLogger(__name__)


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
        ma.fields.String(
            validate=ma.validate.OneOf(SUPPORTED_LOCALES, error=_l("one of {choices}"))
        ),
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
        away=Presence.AWAY,
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
            raise NotFound(_("no staff member has this id"))
        if member.role not in TAKES_CALLS:
            raise Conflict(_("%(role)s: this role takes no calls", role=label(member.role)))
        agent = agents.profile(db.session(), member)
        agents.set_skills(
            db.session(), agent, form["skills"], form["languages"], actor=staff_actor()
        )
    except DomainError as exc:
        db.session.rollback()
        return refused(_("Not saved: %(reason)s", reason=exc.message), "console.staff")
    db.session.commit()
    return back(_("Skills and languages of %(name)s saved.", name=member.name), "console.staff")


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
        return refused(_("Not created: %(reason)s", reason=exc.message), "console.staff")
    db.session.commit()
    return back(_("Account created."), "console.staff")


#: What a supervisor can do to an account, each behind a confirmation page.
ACTIONS = ("deactivate", "reactivate", "role", "reset-password", "reset-second-factor")


class RoleForm(Form):
    role = Choice(Role, required=True)


def _member(staff_id: uuid.UUID, action: str | None = None) -> StaffUser:
    if action is not None and action not in ACTIONS:
        raise NotFound(_("there is no such action on an account"))
    return staff_service.find(db.session(), staff_id)


def _already(member: StaffUser, action: str) -> str | None:
    """Why the action has nothing to do on this account (it is already so), or None."""
    if action == "deactivate" and not member.active:
        return _("%(name)s is already deactivated.", name=member.name)
    if action == "reactivate" and member.active:
        return _("%(name)s can already sign in.", name=member.name)
    if action == "reset-second-factor" and not second_factor.enrolled(member):
        return _("%(name)s has no second factor to remove.", name=member.name)
    return None


@bp.get("/staff/<uuid:staff_id>")
@requires_role(RUN)
def staff_account(staff_id: uuid.UUID) -> str:
    """One account: its role, state, second factor, what a supervisor can do, its sign-ins."""
    member = _member(staff_id)
    return render_template(
        "console/staff_account.html",
        member=member,
        enrolled=second_factor.enrolled(member),
        recovery_codes_left=second_factor.recovery_codes_left(db.session(), member),
        history=staff_service.sign_in_history(db.session(), member),
    )


@bp.get("/staff/<uuid:staff_id>/<action>")
@requires_role(RUN)
def staff_confirm(staff_id: uuid.UUID, action: str) -> str | Response:
    """The confirmation page of an action on an account (nothing changes until it is sent)."""
    member = _member(staff_id, action)
    already = _already(member, action)
    if already is not None:
        return refused(already, "console.staff_account", staff_id=member.id)
    return render_template(
        "console/staff_confirm.html", member=member, action=action, roles=list(Role), error=None
    )


@bp.post("/staff/<uuid:staff_id>/<action>")
@requires_role(RUN)
def staff_apply(staff_id: uuid.UUID, action: str) -> Response | str | tuple[str, int]:
    """A supervisor confirmed an action on an account: do it, audited, and say what was done."""
    member = _member(staff_id, action)
    already = _already(member, action)
    if already is not None:
        return refused(already, "console.staff_account", staff_id=member.id)
    actor, moment = staff_actor(), now()
    try:
        if action == "deactivate":
            staff_service.set_active(db.session(), member, active=False, actor=actor, now=moment)
            message = _("%(name)s can no longer sign in; their sessions ended.", name=member.name)
        elif action == "reactivate":
            staff_service.set_active(db.session(), member, active=True, actor=actor, now=moment)
            message = _("%(name)s can sign in again.", name=member.name)
        elif action == "role":
            role = read(RoleForm, request.form)["role"]
            staff_service.change_role(db.session(), member, role, actor=actor, now=moment)
            message = _(
                "%(name)s is now: %(role)s. They sign in again to use it.",
                name=member.name,
                role=label(role),
            )
        elif action == "reset-second-factor":
            second_factor.remove(db.session(), member, actor=actor)
            staff_service.end_sessions(
                db.session(), member, reason=EndReason.SECOND_FACTOR_RESET, now=moment, actor=actor
            )
            message = _(
                "The second factor of %(name)s is removed; they set up a new one at their next "
                "sign-in.",
                name=member.name,
            )
        else:  # reset-password: the link is shown once, on this page, never in a redirect
            token = staff_service.issue_password_reset(
                db.session(), member, actor=actor, now=moment
            )
            db.session.commit()
            link = url_for("console.reset_password", token=token, _external=True)
            emailed = _email_reset_link(member, link)
            return render_template(
                "console/staff_reset_link.html", member=member, link=link, emailed=emailed
            )
    except DomainError as exc:
        db.session.rollback()
        error = refusal(exc)
        page = render_template(
            "console/staff_confirm.html",
            member=member,
            action=action,
            roles=list(Role),
            error=error,
        )
        return page, exc.status
    db.session.commit()
    return back(message, "console.staff_account", staff_id=member.id)


def refusal(exc: DomainError) -> str:
    """Why a supervisor's action on an account was refused, in their words."""
    if exc.code == "last_supervisor":
        return _("This is the last active supervisor. Make someone else a supervisor first.")
    return _("Not done: %(reason)s", reason=exc.message)


def _email_reset_link(member: StaffUser, link: str) -> bool:
    """Email the link too when SMTP is configured (never otherwise: it is handed over)."""
    smtp_url = current_app.config.get("SMTP_URL")
    if not smtp_url:
        return False
    with force_locale(member.language):
        subject = _(
            "Set a new password for the %(company)s console",
            company=current_app.config["COMPANY_NAME"],
        )
        body = _(
            "A supervisor made this link for you to set a new password. It works once, for 24 "
            "hours:\n\n%(link)s\n\nIf you did not expect it, tell your supervisor.",
            link=link,
        )
    try:
        send_email(smtp_url, current_app.config["MAIL_FROM"], member.email, subject, body)
    except (OSError, smtplib.SMTPException):
        log.warning("password reset link not emailed", extra={"to": masked_address(member.email)})
        return False
    return True

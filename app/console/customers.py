"""Finding a customer (by their number typed any way, their reference or their name), and a
customer's page: who they are, their numbers, whether they may verify with codes, their
latest callbacks, calls, complaints and fraud cases, whether the account is frozen; and a
supervisor's "Unlock" (confirmed on a page of its own, with a note) for a customer locked after
too many wrong codes, and "Unfreeze" (the same way) once they have verified the customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.callbacks.models import Callback, Feedback
from app.calls.models import Call
from app.complaints.models import Complaint
from app.console.blueprint import back, bp, now, refused, requires_role
from app.console.callbacks import LANGUAGE_REGIONS
from app.console.forms import Form, Text, read
from app.console.keyset import page_size, read_page
from app.console.labels import language_label
from app.console.records import audit_link
from app.customers.models import Customer
from app.customers.service import phone_history
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.fraud.models import FraudCase
from app.freezes.service import active_freeze, lift_freeze
from app.numbers.models import OfficialNumber
from app.phones import read_typed_number, regions_of
from app.staff.auth import READ, RUN, current_staff, staff_actor
from app.verification.checker import policy_for
from app.verification.models import VerificationLock
from app.verification.service import clear_lock, state

#: How many of the customer's newest callbacks, calls, complaints and fraud cases the page lists.
LATEST = 20


#: What may be typed in a number: what is only these (and has a digit) is read as one.
_PHONE_CHARACTERS = frozenset("0123456789+()-./ ")


class UnlockForm(Form):
    note = Text(200, load_default="")  # the lock's clear_note column


def _customer_or_404(customer_id: uuid.UUID) -> Customer:
    return db.session.get(Customer, customer_id) or abort(404)


def _newest(session: Session, model: Any, customer_id: uuid.UUID) -> list[Any]:
    return list(
        session.scalars(
            select(model)
            .where(model.customer_id == customer_id)
            .order_by(model.created_at.desc())
            .limit(LATEST)
        )
    )


def _counted_since(session: Session, customer_id: uuid.UUID, since: datetime) -> datetime:
    """Since when wrong codes count: the policy's window, or the last unlock if later."""
    cleared = session.scalar(
        select(func.max(VerificationLock.cleared_at)).where(
            VerificationLock.customer_id == customer_id
        )
    )
    return max(since, cleared) if cleared is not None else since


def _numbers(customer: Customer, callbacks: list[Callback]) -> list[str]:
    """Their number on file first, then any other number we called them on."""
    numbers = [customer.phone]
    for item in callbacks:
        if item.to_number and item.to_number not in numbers:
            numbers.append(item.to_number)
    return numbers


def _searched_numbers(session: Session, q: str) -> list[str] | None:
    """The numbers q can be when it is typed like a phone number (else None): read in the
    reader's country first, then in our official numbers' countries."""
    if not set(q) <= _PHONE_CHARACTERS or not any(ch.isdigit() for ch in q):
        return None
    staff = current_staff()
    regions = [LANGUAGE_REGIONS.get(staff.language if staff else "en", "GB")]
    regions += regions_of(session.scalars(select(OfficialNumber.phone)))
    try:
        typed = read_typed_number(q, regions=regions, field="q")
    except InvalidInput:
        return []  # too long or no number at all: only a reference can match
    return [reading.e164 for reading in typed.readings]


def _search(session: Session, q: str) -> Any:
    """The customers q finds: by number, by exact reference, or by a part of their name."""
    numbers = _searched_numbers(session, q)
    if numbers is None:
        # Escaped so that a typed % or _ is a letter, not a wildcard.
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        return select(Customer).where(
            or_(Customer.external_id == q, func.lower(Customer.name).like(pattern, escape="\\"))
        )
    # Not a number we can read: still maybe a reference made of digits (the core system's own).
    if not numbers and session.scalar(select(Customer.id).where(Customer.external_id == q)) is None:
        raise InvalidInput(
            _(
                "We cannot read “%(q)s” as a phone number: type it with its country code "
                "(for example +39 347 123 4567).",
                q=q,
            ),
            field="q",
        )
    return select(Customer).where(or_(Customer.phone.in_(numbers), Customer.external_id == q))


def _last_calls(session: Session, customers: list[Customer]) -> dict[uuid.UUID, datetime]:
    """When each of these customers was last on a call."""
    ids = [person.id for person in customers]
    if not ids:
        return {}
    rows = session.execute(
        select(Call.customer_id, func.max(Call.created_at))
        .where(Call.customer_id.in_(ids))
        .group_by(Call.customer_id)
    )
    return {customer_id: moment for customer_id, moment in rows if customer_id is not None}


@bp.get("/customers")
@requires_role(READ)
def customers() -> str:
    """Find a customer; the search stays in the URL (a GET form), and nothing typed lists no one."""
    session = db.session()
    q = request.args.get("q", "").strip()[:200]
    size = page_size(request.args.get("size"))
    found, error = None, None
    if q:
        try:
            found = read_page(
                session,
                _search(session, q),
                moment=Customer.created_at,
                key=Customer.id,
                key_type=uuid.UUID,
                after=request.args.get("after") or None,
                before=request.args.get("before") or None,
                size=size,
            )
        except InvalidInput as exc:
            error = exc
    return render_template(
        "console/customers.html",
        q=q,
        size=size,
        page=found,
        last_calls=_last_calls(session, list(found.rows) if found else []),
        error=error,
    )


@bp.get("/customers/<uuid:customer_id>")
@requires_role(READ)
def customer(customer_id: uuid.UUID) -> str:
    session = db.session()
    person = _customer_or_404(customer_id)
    callbacks = _newest(session, Callback, customer_id)
    staff, moment, policy = current_staff(), now(), policy_for(current_app)
    return render_template(
        "console/customer.html",
        customer=person,
        language=language_label(person.locale),
        numbers=_numbers(person, callbacks),
        former_numbers=phone_history(session, customer_id),
        verification=state(session, customer_id, now=moment, policy=policy),
        counted_since=_counted_since(session, customer_id, moment - policy.lock_window),
        callbacks=callbacks,
        calls=_newest(session, Call, customer_id),
        complaints=_newest(session, Complaint, customer_id),
        fraud_cases=_newest(session, FraudCase, customer_id),
        freeze=active_freeze(session, customer_id),
        feedback=_newest(session, Feedback, customer_id),
        audit_url=audit_link("customer", customer_id),
        can_unlock=staff is not None and staff.role in RUN,
    )


def _ask(person: Customer, status: int = 200, **values: Any) -> tuple[str, int]:
    return render_template("console/customer_unlock.html", customer=person, **values), status


@bp.get("/customers/<uuid:customer_id>/unlock", endpoint="customer_unlock_ask")
@requires_role(RUN)
def customer_unlock_ask(customer_id: uuid.UUID) -> tuple[str, int] | Response:
    """The page that asks "Let <name> verify with codes again?", with a note to give."""
    person = _customer_or_404(customer_id)
    locked = state(db.session(), customer_id, now=now(), policy=policy_for(current_app))
    if not locked["locked"]:
        return refused(
            _("Not locked: this customer may verify with codes."),
            "console.customer",
            customer_id=customer_id,
        )
    return _ask(person, locked_at=locked["locked_at"])


@bp.post("/customers/<uuid:customer_id>/unlock")
@requires_role(RUN)
def customer_unlock(customer_id: uuid.UUID) -> tuple[str, int] | Response:
    session = db.session()
    person = _customer_or_404(customer_id)
    try:
        note = read(UnlockForm, request.form)["note"].strip()
        if not note:
            raise InvalidInput(_("Note: say why the customer may verify again"), field="note")
    except InvalidInput as error:
        locked = state(session, customer_id, now=now(), policy=policy_for(current_app))
        typed = request.form.get("note", "")
        return _ask(person, 422, error=error, typed=typed, locked_at=locked["locked_at"])
    staff = current_staff()
    try:
        clear_lock(
            session,
            customer_id,
            cleared_by=f"staff:{staff.email if staff else ''}"[:120],  # the column's size
            note=note,
            now=now(),
            actor=staff_actor(),
        )
    except DomainError as exc:
        session.rollback()
        if exc.code == "not_locked":
            return refused(
                _("Not unlocked: this customer is not locked, they may verify with codes."),
                "console.customer",
                customer_id=customer_id,
            )
        return refused(
            _("Not unlocked: %(why)s.", why=exc.message),
            "console.customer",
            customer_id=customer_id,
        )
    session.commit()
    return back(
        _(
            "Unlocked: %(name)s may verify with codes again.",
            name=person.name or person.external_id,
        ),
        "console.customer",
        customer_id=customer_id,
    )


class UnfreezeForm(Form):
    note = Text(500, load_default="")  # the freeze's lift_note column


def _ask_unfreeze(person: Customer, status: int = 200, **values: Any) -> tuple[str, int]:
    freeze = active_freeze(db.session(), person.id)
    return (
        render_template("console/customer_unfreeze.html", customer=person, freeze=freeze, **values),
        status,
    )


def _not_frozen(customer_id: uuid.UUID) -> Response:
    return refused(
        _("Not unfrozen: this customer's account is not frozen."),
        "console.customer",
        customer_id=customer_id,
    )


@bp.get("/customers/<uuid:customer_id>/unfreeze", endpoint="customer_unfreeze_ask")
@requires_role(RUN)
def customer_unfreeze_ask(customer_id: uuid.UUID) -> tuple[str, int] | Response:
    """The page that asks "Unfreeze the account of <name>?", with a note to give."""
    person = _customer_or_404(customer_id)
    if active_freeze(db.session(), customer_id) is None:
        return _not_frozen(customer_id)
    return _ask_unfreeze(person)


@bp.post("/customers/<uuid:customer_id>/unfreeze")
@requires_role(RUN)
def customer_unfreeze(customer_id: uuid.UUID) -> tuple[str, int] | Response:
    session = db.session()
    person = _customer_or_404(customer_id)
    if active_freeze(session, customer_id) is None:
        return _not_frozen(customer_id)
    try:
        note = read(UnfreezeForm, request.form)["note"].strip()
        if not note:
            raise InvalidInput(
                _("Note: say how you verified the customer (required)"), field="note"
            )
    except InvalidInput as error:
        return _ask_unfreeze(person, 422, error=error, typed=request.form.get("note", ""))
    lift_freeze(
        session,
        customer=person,
        verified_by="supervisor",
        note=note,
        now=now(),
        actor=staff_actor(),
    )
    session.commit()
    return back(
        _(
            "Unfrozen: the account of %(name)s is no longer frozen.",
            name=person.name or person.external_id,
        ),
        "console.customer",
        customer_id=customer_id,
    )

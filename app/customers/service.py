"""Registering and updating customers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor, diff, record
from app.customers.facts import hash_birth_date
from app.customers.models import Customer
from app.errors import Conflict, InvalidInput, NotFound
from app.locales import locale_for_region, normalize_locale
from app.phones import check_time_zone, parse_phone, single_time_zone, time_zones_of

_UNSET: Any = object()


def snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "external_id": customer.external_id,
        "phone": customer.phone,
        "locale": customer.locale,
        "name": customer.name,
        "time_zone": customer.time_zone,
        "time_zone_overridden": customer.time_zone_overridden,
        # Whether the fact is on file, never the fact or its hash.
        "birth_date_on_file": customer.birth_date_hash is not None,
    }


def create_customer(
    session: Session,
    *,
    actor: Actor,
    external_id: str,
    phone: str,
    locale: str | None = None,
    name: str | None = None,
    region: str | None = None,
    time_zone: str | None = None,
    birth_date: date | None = None,
    keyring: Any = None,
) -> Customer:
    """Register a customer; the number is stored in E.164 and its time zone derived from it.

    A birth date is kept only as a hash keyed with `keyring` (the verification keyring)."""
    external_id = external_id.strip()
    if not external_id:
        raise InvalidInput(
            _l("external_id: must not be blank"), field="external_id", code="required"
        )
    number = parse_phone(phone, region=region)
    if session.scalar(select(Customer.id).where(Customer.external_id == external_id)):
        raise Conflict(
            _l(
                "external_id: a customer with external_id '%(id)s' already exists",
                id=external_id,
            ),
            field="external_id",
            code="duplicate",
        )
    customer = Customer(
        id=uuid.uuid4(),
        external_id=external_id,
        phone=number.e164,
        locale=normalize_locale(locale) if locale is not None else locale_for_region(number.region),
        name=name.strip() if name else None,
        time_zone=check_time_zone(time_zone) if time_zone is not None else number.time_zone,
        time_zone_overridden=time_zone is not None,
    )
    if birth_date is not None:
        customer.birth_date_hash = hash_birth_date(keyring, customer.id, birth_date)
    try:
        with session.begin_nested():
            session.add(customer)
    except IntegrityError:
        # Another request registered the same external_id between our check and our insert.
        raise Conflict(
            _l(
                "external_id: a customer with external_id '%(id)s' already exists",
                id=external_id,
            ),
            field="external_id",
            code="duplicate",
        ) from None
    record(
        session,
        actor=actor,
        action="customer.created",
        subject_type="customer",
        subject_id=customer.id,
        changes=snapshot(customer),
    )
    return customer


def update_customer(
    session: Session,
    *,
    actor: Actor,
    customer_id: uuid.UUID,
    locale: str | None = _UNSET,
    name: str | None = _UNSET,
    time_zone: str | None = _UNSET,
    birth_date: date | None = _UNSET,
    keyring: Any = None,
) -> Customer:
    """Change the language, name or time zone; time_zone=None goes back to the number's zone."""
    customer = get_customer(session, customer_id)
    before = snapshot(customer)
    if birth_date is not _UNSET:
        customer.birth_date_hash = (
            None if birth_date is None else hash_birth_date(keyring, customer.id, birth_date)
        )
    if locale is not _UNSET:
        customer.locale = normalize_locale(locale)
    if name is not _UNSET:
        customer.name = name.strip() if name else None
    if time_zone is not _UNSET:
        if time_zone is None:
            customer.time_zone = single_time_zone(time_zones_of(customer.phone))
            customer.time_zone_overridden = False
        else:
            customer.time_zone = check_time_zone(time_zone)
            customer.time_zone_overridden = True
    changes = diff(before, snapshot(customer))
    if changes:
        record(
            session,
            actor=actor,
            action="customer.updated",
            subject_type="customer",
            subject_id=customer.id,
            changes=changes,
        )
    return customer


def get_customer(session: Session, customer_id: uuid.UUID) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(_l("no customer has this id"), field="id")
    return customer


def find_by_external_id(session: Session, external_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.external_id == external_id))
    if customer is None:
        raise NotFound(_l("no customer has this external_id"), field="external_id")
    return customer

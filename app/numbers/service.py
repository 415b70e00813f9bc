"""Adding and retiring official numbers."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.database import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.flows.safety import refused_words
from app.i18n import choices
from app.locales import SUPPORTED_LOCALES
from app.numbers.models import NumberPurpose, OfficialNumber
from app.phones import parse_phone

LABEL_MAX = 120

# The flow that answers an inbound line unless another is named.
DEFAULT_FLOWS = {
    NumberPurpose.INBOUND_HOTLINE: "verify_caller_line",
    NumberPurpose.COMPLAINTS: "complaints_line",
    NumberPurpose.SERVICE_LINE: "service_line",
}


def snapshot(number: OfficialNumber) -> dict[str, Any]:
    return {
        "phone": number.phone,
        "purpose": number.purpose.value,
        "label": number.label,
        "labels": dict(number.labels or {}),
        "inbound_only": number.inbound_only,
        "flow": number.flow,
        "active_from": number.active_from,
        "retired_at": number.retired_at,
    }


def register_official_number(
    session: Session,
    *,
    actor: Actor,
    phone: str,
    purpose: str,
    label: str,
    inbound_only: bool = False,
    region: str | None = None,
    flow: str | None = None,
    inbound_flows: set[str] | None = None,
    labels: dict[str, str] | None = None,
) -> OfficialNumber:
    """Put a number in service; a number retired earlier starts a new period of service.

    `labels` gives the label in other languages ({"it": "..."}); the check page and the phone
    line tell each person the one in their language, else `label`."""
    number = parse_phone(phone, region=region)
    try:
        purpose_value = NumberPurpose(purpose)
    except ValueError:
        raise InvalidInput(
            _l("purpose: use one of %(choices)s", choices=choices(NumberPurpose)), field="purpose"
        ) from None
    label = _label(label, "label")
    translated = _labels(labels)
    if inbound_only and purpose_value is NumberPurpose.OUTBOUND_VERIFICATION:
        raise InvalidInput(
            _l("inbound_only: a number for outbound verification calls cannot be inbound-only"),
            field="inbound_only",
        )
    flow = flow or DEFAULT_FLOWS.get(purpose_value)
    if flow is not None and inbound_flows is not None and flow not in inbound_flows:
        raise InvalidInput(
            _l(
                "flow: '%(flow)s' is not an inbound flow in call_flows/ (one of %(choices)s)",
                flow=flow,
                choices=", ".join(sorted(inbound_flows)),
            ),
            field="flow",
        )
    if active_number(session, number.e164) is not None:
        raise Conflict(
            _l("phone: %(phone)s is already an official number", phone=number.e164),
            field="phone",
            code="duplicate",
        )
    official = OfficialNumber(
        phone=number.e164,
        purpose=purpose_value,
        label=label,
        labels=translated,
        inbound_only=inbound_only,
        flow=flow,
        active_from=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(official)
    except IntegrityError:
        raise Conflict(
            _l("phone: %(phone)s is already an official number", phone=number.e164),
            field="phone",
            code="duplicate",
        ) from None
    record(
        session,
        actor=actor,
        action="official_number.added",
        subject_type="official_number",
        subject_id=official.phone,
        changes=snapshot(official),
    )
    return official


def _label(text: str, field: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput(
            _l("%(field)s: must not be blank", field=field), field=field, code="required"
        )
    if len(text) > LABEL_MAX:
        raise InvalidInput(
            _l("%(field)s: at most %(count)d characters", field=field, count=LABEL_MAX),
            field=field,
        )
    if refused := refused_words(text):
        # The "is this call from us?" line speaks the label to anyone who checks the number.
        raise InvalidInput(
            _l(
                "%(field)s: a call never asks for a secret, and this label would: it %(refused)s",
                field=field,
                refused=refused,
            ),
            field=field,
        )
    return text


def _labels(labels: dict[str, str] | None) -> dict[str, str]:
    """The label in each language given, checked as the label is."""
    unknown = sorted(set(labels or {}) - set(SUPPORTED_LOCALES))
    if unknown:
        raise InvalidInput(
            _l(
                "labels: %(unknown)s is not one of %(choices)s",
                unknown=", ".join(unknown),
                choices=", ".join(SUPPORTED_LOCALES),
            ),
            field="labels",
        )
    return {
        language: _label(text, f"labels.{language}")
        for language, text in sorted((labels or {}).items())
    }


def relabel_official_number(
    session: Session, *, actor: Actor, phone: str, label: str, labels: dict[str, str]
) -> OfficialNumber:
    """Change what a number in service is called, in each language."""
    number = parse_phone(phone)
    official = active_number(session, number.e164)
    if official is None:
        raise NotFound(
            _l("phone: %(phone)s is not an official number in service", phone=number.e164),
            field="phone",
        )
    before = {"label": official.label, "labels": dict(official.labels or {})}
    official.label, official.labels = _label(label, "label"), _labels(labels)
    after = {"label": official.label, "labels": dict(official.labels)}
    if after != before:
        record(
            session,
            actor=actor,
            action="official_number.relabelled",
            subject_type="official_number",
            subject_id=official.phone,
            changes={key: [before[key], after[key]] for key in after if before[key] != after[key]},
        )
    return official


def retire_official_number(session: Session, *, actor: Actor, phone: str) -> OfficialNumber:
    """Take a number out of service; its row stays, so the lookup can say it was ours."""
    number = parse_phone(phone)
    official = active_number(session, number.e164)
    if official is None:
        raise NotFound(
            _l("phone: %(phone)s is not an official number in service", phone=number.e164),
            field="phone",
        )
    official.retired_at = utcnow()
    record(
        session,
        actor=actor,
        action="official_number.retired",
        subject_type="official_number",
        subject_id=official.phone,
        changes={"retired_at": official.retired_at, "label": official.label},
    )
    return official


def active_number(session: Session, e164: str) -> OfficialNumber | None:
    return session.scalar(
        select(OfficialNumber).where(
            OfficialNumber.phone == e164, OfficialNumber.retired_at.is_(None)
        )
    )


def history(session: Session, e164: str) -> list[OfficialNumber]:
    """Every period of service of a number, newest first."""
    return list(
        session.scalars(
            select(OfficialNumber)
            .where(OfficialNumber.phone == e164)
            .order_by(OfficialNumber.active_from.desc(), OfficialNumber.id.desc())
        )
    )


def list_numbers(session: Session, *, include_retired: bool = False) -> list[OfficialNumber]:
    query = select(OfficialNumber).order_by(OfficialNumber.phone, OfficialNumber.active_from)
    if not include_retired:
        query = query.where(OfficialNumber.retired_at.is_(None))
    return list(session.scalars(query))

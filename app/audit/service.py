"""Recording and reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is acting: an API key, a staff member, the worker or an operator at the CLI."""

    label: str
    request_id: str | None = None


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: object,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an entry in the caller's transaction, so the change and its record commit together."""
    event = AuditEvent(
        actor=actor.label,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        changes=_plain(changes or {}),
        request_id=actor.request_id,
    )
    session.add(event)
    return event


def events(
    session: Session,
    *,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """The log, oldest first, filtered; page with after_id."""
    query = select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id:
        query = query.where(AuditEvent.subject_id == subject_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if after_id:
        query = query.where(AuditEvent.id > after_id)
    return list(session.scalars(query))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {key: [before.get(key), after[key]] for key in after if before.get(key) != after[key]}


def _plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO text, enums and UUIDs as strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(getattr(value, "value", value))

"""Queuing callbacks in bulk (campaigns, back-fills): one INSERT ... SELECT on the server."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnClause

from app.callbacks import do_not_call
from app.callbacks.models import Callback, CallbackStatus, EventType, Priority
from app.callbacks.policy import DialProfile, Policy
from app.customers.models import Customer

# A UUIDv7 (RFC 9562: milliseconds first, then random bits): time-ordered ids land at the right
# edge of the primary key's index instead of at random pages, which a million inserts feel.
UUID7: ColumnClause[uuid.UUID] = literal_column(
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) "
    "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid"
)


def expand_callbacks(
    session: Session,
    *,
    customers: Select[uuid.UUID],
    policy: Policy,
    trigger: EventType,
    flow: str,
    priority: Priority,
    now: datetime,
    start_at: datetime | None = None,
    reason: str,
    due_by: datetime | None = None,
    campaign_id: uuid.UUID | None = None,
    skip_do_not_call: bool = False,
    variables: dict[str, Any] | None = None,
    profile: DialProfile | None = None,
) -> int:
    """Queue one callback per selected customer, skipping those with an open one for the flow.

    `customers` selects customer ids (e.g. a campaign's audience); `profile` is how they are
    dialed (the policy's defaults when none). Answers how many were queued.
    """
    chosen = customers.subquery()
    open_ = aliased(Callback)
    already_open = exists().where(
        and_(
            open_.customer_id == Customer.id,
            open_.flow == flow,
            open_.status != CallbackStatus.DONE,
        )
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    new_id = UUID7 if postgres else func.lower(func.hex(func.randomblob(16)))
    rows = (
        select(
            new_id,
            Customer.id,
            literal(trigger.value),
            literal(flow),
            Customer.phone,
            literal(priority.value),
            literal(CallbackStatus.QUEUED.value),
            literal(due_by or now + policy.deadlines[priority.value], Callback.due_by.type),
            literal(start_at or now, Callback.next_attempt_at.type),
            literal(0),
            literal(0),
            literal(0.0),
            literal([reason], Callback.reasons.type),
            literal(variables or {}, Callback.variables.type),
            literal(policy.version),
            literal(False),
            literal(now, Callback.created_at.type),
            literal(now, Callback.updated_at.type),
            literal(campaign_id, Callback.campaign_id.type),
            literal(profile.to_json(), Callback.dial_profile.type) if profile else null(),
        )
        .where(Customer.id.in_(select(chosen.c[0])), ~already_open)
        .order_by(Customer.id)
    )
    if skip_do_not_call:
        rows = rows.where(~do_not_call.listed(Customer.phone, campaign=True))
    # In customer order, the indexes on customer_id are written in order, not at random.
    columns = [
        "id",
        "customer_id",
        "trigger",
        "flow",
        "to_number",
        "priority",
        "status",
        "due_by",
        "next_attempt_at",
        "attempts",
        "machine_retries",
        "score",
        "reasons",
        "variables",
        "policy_version",
        "notice_due",
        "created_at",
        "updated_at",
        "campaign_id",
        "dial_profile",
    ]
    statement = insert(Callback).from_select(columns, rows)
    if postgres:
        # Counted on the server: no million ids travel back to be counted here.
        inserted = statement.returning(literal(1)).cte("inserted")
        return int(session.execute(select(func.count()).select_from(inserted)).scalar_one())
    session.execute(statement)
    return int(session.execute(text("SELECT changes()")).scalar_one())

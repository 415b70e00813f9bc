"""What the events and callbacks API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.callbacks.models import (
    EVENT_KINDS,
    CallbackStatus,
    EventType,
    HoldStatus,
    Priority,
)
from app.inputs import InputSchema
from app.outcomes import CALLBACK_OUTCOMES

MAX_BATCH = 1000


class EventIn(InputSchema):
    id = ma.fields.String(
        required=True,
        validate=validate.Length(1, 128),
        metadata={"description": "idempotency id: the same id again returns the first answer"},
    )
    type = ma.fields.String(
        required=True, validate=validate.OneOf([kind.value for kind in EVENT_KINDS])
    )
    customer_external_id = ma.fields.String(required=True, validate=validate.Length(1, 128))
    occurred_at = ma.fields.AwareDateTime(required=True)
    data = ma.fields.Dict(
        load_default=dict,
        metadata={
            "description": "transaction/withdrawal_request: amount, currency, merchant, "
            "country, device, beneficiary; withdrawal_request: account_has_open_problems; "
            "account_change: field (phone|email), previous_phone; feedback: rating (a whole "
            "number 1-5), text (at most 2000 characters), call_me (true or false): a rating of "
            "1 or 2 queues a medium-priority call, call_me alone a low-priority one"
        },
    )
    call_at = ma.fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "the callback this event queues is first dialed no earlier than this "
            "(ISO 8601 with an offset): inside the callee's calling hours and before the "
            "priority's deadline, else 422 naming call_at (as is a time already past); an "
            "event that joins the customer's open callback for the same matter leaves its time"
        },
    )


class EventsBatchIn(ma.Schema):
    # Not an InputSchema: each event is read on its own by EventIn (control characters
    # included), so one bad event is refused alone and never the whole batch.
    events = ma.fields.List(ma.fields.Dict(), required=True, validate=validate.Length(1, MAX_BATCH))


class DecisionOut(ma.Schema):
    event_id = ma.fields.String()
    anomalous = ma.fields.Boolean()
    score = ma.fields.Float()
    reasons = ma.fields.List(ma.fields.String())
    priority = ma.fields.String(allow_none=True)
    callback_id = ma.fields.String(allow_none=True)


class BatchResult(ma.Schema):
    event_id = ma.fields.String(allow_none=True)
    anomalous = ma.fields.Boolean()
    score = ma.fields.Float()
    reasons = ma.fields.List(ma.fields.String())
    priority = ma.fields.String(allow_none=True)
    callback_id = ma.fields.String(allow_none=True)
    error = ma.fields.Dict(metadata={"description": "{code, message, field} when refused"})


class BatchOut(ma.Schema):
    accepted = ma.fields.Integer()
    refused = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(BatchResult))


class CallbackOut(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.Enum(CallbackStatus, by_value=True)
    priority = ma.fields.Enum(Priority, by_value=True)
    trigger = ma.fields.Enum(EventType, by_value=True)
    flow = ma.fields.String()
    due_by = ma.fields.DateTime()
    next_attempt_at = ma.fields.DateTime()
    reason = ma.fields.Function(lambda c: "; ".join(c.reasons or []), metadata={"type": "string"})
    reasons = ma.fields.List(ma.fields.String())
    score = ma.fields.Float()
    attempts = ma.fields.Integer()
    outcome = ma.fields.String(allow_none=True, validate=validate.OneOf(sorted(CALLBACK_OUTCOMES)))
    reference = ma.fields.String(allow_none=True)
    waiting_for = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class DoNotCallIn(InputSchema):
    phone = ma.fields.String(required=True)
    reason = ma.fields.String(load_default="not given", validate=validate.Length(max=200))


class DoNotCallOut(ma.Schema):
    phone = ma.fields.String()
    reason = ma.fields.String()
    created_at = ma.fields.DateTime()


class WithdrawalOut(ma.Schema):
    event_id = ma.fields.String()
    status = ma.fields.Enum(
        HoldStatus,
        by_value=True,
        metadata={"description": "verifying (held while we call), authorized or rejected"},
    )
    amount = ma.fields.String()
    currency = ma.fields.String()
    callback_id = ma.fields.UUID()
    reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)


class CallbackStatsOut(ma.Schema):
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    by_outcome = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    open_escalated = ma.fields.Integer(metadata={"description": "raised near their deadline"})
    deadline_missed = ma.fields.Integer(metadata={"description": "ever missed their deadline"})


class CallbackChange(InputSchema):
    call_at = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "the new time (ISO 8601 with an offset): in the future, within 90 "
            "days and inside the callee's calling hours; the deadline moves past it if needed"
        },
    )


class CallbackQuery(InputSchema):
    customer_external_id = ma.fields.String(validate=validate.Length(1, 128))
    status = ma.fields.Enum(CallbackStatus, by_value=True)
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(1, 200))
    after = ma.fields.String(
        validate=validate.Length(1, 200),
        metadata={"description": "the `next` of the previous page"},
    )


class CallbackPageOut(ma.Schema):
    callbacks = ma.fields.List(ma.fields.Nested(CallbackOut))
    next = ma.fields.String(
        allow_none=True,
        metadata={"description": "pass as `after` for the next page; null on the last page"},
    )

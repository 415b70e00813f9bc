"""What the freeze API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.freezes.models import FreezeChannel
from app.inputs import InputSchema, MultilineString


class FreezeIn(InputSchema):
    channel = ma.fields.String(
        load_default=FreezeChannel.API.value,
        validate=validate.OneOf([channel.value for channel in FreezeChannel]),
        metadata={"description": "where the customer asked: api (default), web or phone"},
    )
    reason = ma.fields.String(load_default=None, validate=validate.Length(max=500))


class UnfreezeIn(InputSchema):
    verified_by = ma.fields.String(
        required=True,
        validate=validate.OneOf(["app_code", "branch", "agent"]),
        metadata={
            "description": "app_code: `code` is a right code from the customer's app; branch or "
            "agent: the integrator states that a person verified the customer (kept, audited)"
        },
    )
    code = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{6,8}$", error="a code from the app has 6 to 8 digits"),
    )
    # Free text like every note: it keeps its tabs and line breaks (the console's note does too).
    note = MultilineString(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "who verified the customer, and how"},
    )


class FreezeOut(ma.Schema):
    id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    channel = ma.fields.Function(lambda freeze: freeze.channel.value)
    status = ma.fields.Function(
        lambda freeze: freeze.status.value, metadata={"description": "frozen or lifted"}
    )
    reason = ma.fields.String(allow_none=True)
    fraud_case = ma.fields.String(attribute="fraud_case_reference", allow_none=True)
    created_at = ma.fields.AwareDateTime()
    lifted_at = ma.fields.AwareDateTime(allow_none=True)
    lifted_verified_by = ma.fields.String(allow_none=True)

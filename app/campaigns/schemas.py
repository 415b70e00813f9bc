"""What the campaigns API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.campaigns.models import CampaignStatus
from app.inputs import InputSchema, MultilineString

#: The largest CSV audience the API takes in one request (about 100,000 rows).
CSV_MAX = 4_000_000
_CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="a time of day as HH:MM")


class CampaignCreate(InputSchema):
    name = ma.fields.String(required=True, validate=validate.Length(1, 120))
    purpose = ma.fields.String(
        load_default="",
        validate=validate.Length(0, 300),
        metadata={"description": "what the campaign is about, in English (spoken in the call)"},
    )
    purposes = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.OneOf(["it", "pl", "zh"])),
        values=ma.fields.String(validate=validate.Length(1, 300)),
        load_default=dict,
        metadata={
            "description": "the purpose in it, pl and zh; every language the audience speaks "
            "needs its text (English: purpose)"
        },
    )
    flow = ma.fields.String(
        load_default="campaign_notice",
        validate=validate.Length(1, 64),
        metadata={"description": "a flow marked `campaign: true` in call_flows/"},
    )
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    window_start = ma.fields.String(load_default=None, validate=_CLOCK)
    window_end = ma.fields.String(load_default=None, validate=_CLOCK)
    repeat_cron = ma.fields.String(load_default=None, validate=validate.Length(1, 120))
    calls_per_second = ma.fields.Float(load_default=None, validate=validate.Range(0.1, 50))
    max_concurrent = ma.fields.Integer(load_default=None, validate=validate.Range(1, 500))
    max_attempts = ma.fields.Integer(load_default=None, validate=validate.Range(1, 10))
    retry_minutes = ma.fields.List(
        ma.fields.Integer(validate=validate.Range(1, 7 * 24 * 60)),
        load_default=None,
        validate=validate.Length(1, 10),
    )
    segment_id = ma.fields.UUID(load_default=None, metadata={"description": "a saved segment"})
    csv = MultilineString(
        load_default=None,
        validate=validate.Length(1, CSV_MAX),
        metadata={"description": "the audience as CSV: a header with external_id and/or phone"},
    )


class RowError(ma.Schema):
    line = ma.fields.Integer()
    value = ma.fields.String(allow_none=True)
    error = ma.fields.String()


class ProgressOut(ma.Schema):
    total = ma.fields.Integer()
    done = ma.fields.Integer()
    percent = ma.fields.Integer()
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    by_outcome = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class CampaignOut(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    purpose = ma.fields.String()
    purposes = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    flow = ma.fields.String()
    status = ma.fields.Enum(CampaignStatus, by_value=True)
    segment_id = ma.fields.UUID(allow_none=True)
    rows_read = ma.fields.Integer()
    row_errors = ma.fields.List(ma.fields.Nested(RowError))
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    window_start = ma.fields.String()
    window_end = ma.fields.String()
    repeat_cron = ma.fields.String(allow_none=True)
    next_run_at = ma.fields.DateTime(allow_none=True)
    runs = ma.fields.Integer()
    calls_per_second = ma.fields.Float()
    max_concurrent = ma.fields.Integer()
    max_attempts = ma.fields.Integer()
    retry_minutes = ma.fields.List(ma.fields.Integer())
    queued = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    progress = ma.fields.Nested(ProgressOut)


class RowsOut(ma.Schema):
    read = ma.fields.Integer(metadata={"description": "rows of the CSV"})
    usable = ma.fields.Integer(metadata={"description": "rows naming a customer, once each"})
    unusable = ma.fields.Integer()


class PreflightOut(ma.Schema):
    rows = ma.fields.Nested(RowsOut, allow_none=True, metadata={"description": "CSV only"})
    audience = ma.fields.Integer(metadata={"description": "people in the audience"})
    will_call = ma.fields.Integer(metadata={"description": "people who will be called"})
    excluded = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "people left out, by reason"},
    )
    languages = ma.fields.List(ma.fields.String())

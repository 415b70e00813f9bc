"""What the complaints API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.authenticity.schemas import REGION
from app.complaints.models import ComplaintChannel, ComplaintStatus
from app.complaints.policy import CATEGORIES
from app.inputs import InputSchema, MultilineString

_REGION_DOC = {
    "description": "the complainant's country (ISO 3166, e.g. IT): a phone typed without its "
    "country code is read as this country's, else as the language's (the Accept-Language's "
    "country, it-CH, else it: IT, en: GB, pl: PL, zh: CN)"
}


class ComplaintIn(InputSchema):
    phone = ma.fields.String(
        required=True,
        metadata={"description": "the complainant's phone (422 when it cannot be read)"},
    )
    text = MultilineString(required=True, metadata={"description": "what happened (5,000 max)"})
    category = ma.fields.String(
        load_default=None,
        validate=validate.OneOf(CATEGORIES),
        metadata={"description": ", ".join(CATEGORIES)},
    )
    channel = ma.fields.String(
        load_default="api",
        validate=validate.OneOf(["api", "web"]),
        metadata={"description": "api (default) or web (a form of the company's own site)"},
    )
    email = ma.fields.String(load_default=None, validate=validate.Length(max=254))
    call_reference = ma.fields.String(
        load_default=None, metadata={"description": "the 6-digit reference of one of our calls"}
    )
    callback_id = ma.fields.UUID(load_default=None)
    call_me = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "call me back about it: the complaint's team calls this phone"},
    )
    region = ma.fields.String(load_default=None, validate=REGION, metadata=_REGION_DOC)
    lang = ma.fields.String(load_default=None)


class ComplaintCreated(ma.Schema):
    reference = ma.fields.String(metadata={"example": "C-7K3Q-2M"})
    due_by = ma.fields.AwareDateTime(metadata={"description": "the first response is due by"})
    final_response_due = ma.fields.AwareDateTime()
    department = ma.fields.String()


class StatusQuery(InputSchema):
    phone = ma.fields.String(required=True, metadata={"description": "the phone that filed it"})
    region = ma.fields.String(load_default=None, validate=REGION, metadata=_REGION_DOC)


class ComplaintPublic(ma.Schema):
    reference = ma.fields.String()
    status = ma.fields.String()
    category = ma.fields.String()
    due_by = ma.fields.AwareDateTime(allow_none=True)
    updated_at = ma.fields.AwareDateTime()


class NoteOut(ma.Schema):
    id = ma.fields.Integer()
    author = ma.fields.String()
    to_customer = ma.fields.Boolean()
    text = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class ComplaintStaff(ma.Schema):
    reference = ma.fields.String()
    status = ma.fields.Enum(ComplaintStatus, by_value=True)
    category = ma.fields.String()
    department = ma.fields.String()
    routing_reason = ma.fields.String()
    channel = ma.fields.Enum(ComplaintChannel, by_value=True)
    locale = ma.fields.String()
    phone = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    customer_id = ma.fields.UUID(allow_none=True)
    assigned_to = ma.fields.String(allow_none=True)
    text = ma.fields.String()
    call_reference = ma.fields.String(
        allow_none=True, metadata={"description": "as the complainant gave it"}
    )
    about_call_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "our call with that reference to their phone"}
    )
    callback_id = ma.fields.UUID(allow_none=True)
    call_id = ma.fields.UUID(allow_none=True)
    recording_url = ma.fields.String(allow_none=True)
    recording_seconds = ma.fields.Integer(allow_none=True)
    transcription = ma.fields.String(allow_none=True)
    received_at = ma.fields.AwareDateTime()
    first_response_due = ma.fields.AwareDateTime()
    final_response_due = ma.fields.AwareDateTime()
    first_responded_at = ma.fields.AwareDateTime(allow_none=True)
    final_responded_at = ma.fields.AwareDateTime(allow_none=True)
    paused_at = ma.fields.AwareDateTime(allow_none=True)
    escalated_at = ma.fields.AwareDateTime(allow_none=True)
    first_response_breached_at = ma.fields.AwareDateTime(allow_none=True)
    final_response_breached_at = ma.fields.AwareDateTime(allow_none=True)
    updated_at = ma.fields.AwareDateTime()


class ComplaintDetail(ComplaintStaff):
    notes = ma.fields.List(ma.fields.Nested(NoteOut))


class QueueQuery(InputSchema):
    status = ma.fields.Enum(ComplaintStatus, by_value=True, load_default=None)
    department = ma.fields.String(load_default=None)
    overdue = ma.fields.Boolean(load_default=False)
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 500))


class ComplaintUpdate(InputSchema):
    status = ma.fields.Enum(ComplaintStatus, by_value=True, load_default=None)
    assigned_to = ma.fields.String(load_default=None, validate=validate.Length(1, 120))


class NoteIn(InputSchema):
    text = MultilineString(required=True)
    to_customer = ma.fields.Boolean(load_default=False)


class RecurringQuery(InputSchema):
    weeks = ma.fields.Integer(load_default=8, validate=validate.Range(1, 104))

"""What the authenticity routes accept and return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import validate

from app.authenticity.models import ASKED_FOR, ReportChannel, ReportStatus
from app.calls.models import CallStatus
from app.inputs import InputSchema, MultilineString
from app.phones import REGIONS


def _known_country(value: str) -> None:
    if value.upper() not in REGIONS:
        raise ma.ValidationError("use a two-letter country code, such as IT or US")


#: A country a phone number can be from (its ISO 3166 code, in either case).
REGION: list[Callable[[Any], Any]] = [validate.Regexp(r"^[A-Za-z]{2}$"), _known_country]


_REGION_DOC = {
    "description": "the person's country (ISO 3166, e.g. US): a number typed without its country "
    "code is read as this country's (without region: the Accept-Language's country, en-US, else "
    "the language's, en: GB, it: IT, pl: PL, zh: CN)",
    "example": "US",
}
_LANG = {"description": "en, it, pl or zh (default: Accept-Language, else en)"}


class LookupQuery(InputSchema):
    number = ma.fields.String(required=True, metadata={"example": "+1 415 555 0100"})
    region = ma.fields.String(
        load_default=None,
        validate=REGION,
        metadata={
            "description": _REGION_DOC["description"] + "; the number is also read in the "
            "countries of our numbers, as people type ours as their phone shows it",
            "example": "US",
        },
    )
    lang = ma.fields.String(load_default=None, metadata=_LANG)


class LookupOut(ma.Schema):
    number = ma.fields.String(
        metadata={"description": "E.164 when it reads as one number, else the digits as typed"}
    )
    official = ma.fields.Boolean(metadata={"description": "one of our numbers, in service"})
    status = ma.fields.String(
        metadata={
            "description": "calls_you, never_calls (ours, but a call showing it is spoofed), "
            "retired, not_ours (a valid number that is none of ours, however it is read), or "
            "unreadable (no valid number, or one that may be a number of several countries, "
            "one of them ours: ask for it with its country code)",
            "enum": ["calls_you", "never_calls", "retired", "not_ours", "unreadable"],
        }
    )
    calls_from_this_number = ma.fields.Boolean()
    purpose = ma.fields.String(allow_none=True)
    label = ma.fields.String(allow_none=True)
    inbound_only = ma.fields.Boolean(allow_none=True)
    active_from = ma.fields.AwareDateTime(allow_none=True)
    retired_at = ma.fields.AwareDateTime(allow_none=True)
    message = ma.fields.String()
    advice = ma.fields.String()
    language = ma.fields.String()


class CallCheckIn(InputSchema):
    reference = ma.fields.String(
        required=True, metadata={"description": "the 6 digits the call gave", "example": "482197"}
    )
    phone = ma.fields.String(
        required=True,
        metadata={"description": "your own number: the number we called (422 if unreadable)"},
    )
    region = ma.fields.String(load_default=None, validate=REGION, metadata=_REGION_DOC)
    lang = ma.fields.String(load_default=None, metadata=_LANG)


class CallCheckOut(ma.Schema):
    called = ma.fields.Boolean()
    message = ma.fields.String()
    advice = ma.fields.String()


class ReportIn(InputSchema):
    number = ma.fields.String(required=True, metadata={"description": "the number the call showed"})
    called_at = ma.fields.AwareDateTime(load_default=None)
    reporter_phone = ma.fields.String(
        load_default=None, metadata={"description": "your own number (422 if unreadable)"}
    )
    description = MultilineString(load_default=None, validate=validate.Length(max=2000))
    asked_for = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(ASKED_FOR)),
        load_default=list,
        validate=validate.Length(max=len(ASKED_FOR)),
        metadata={"description": f"what the caller asked for: {', '.join(ASKED_FOR)}"},
    )
    region = ma.fields.String(load_default=None, validate=REGION, metadata=_REGION_DOC)
    lang = ma.fields.String(load_default=None, metadata=_LANG)


class ReportCreated(ma.Schema):
    reference = ma.fields.String()
    message = ma.fields.String()
    advice = ma.fields.String()


class ReportOut(ma.Schema):
    reference = ma.fields.String()
    reported_number = ma.fields.String(allow_none=True)
    complaint_reference = ma.fields.String(allow_none=True)
    number_official = ma.fields.Boolean()
    called_at = ma.fields.AwareDateTime(allow_none=True)
    reporter_phone = ma.fields.String(allow_none=True)
    description = ma.fields.String(allow_none=True)
    asked_for = ma.fields.List(ma.fields.String())
    channel = ma.fields.Enum(ReportChannel, by_value=True)
    status = ma.fields.Enum(ReportStatus, by_value=True)
    staff_note = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class ReportQuery(InputSchema):
    status = ma.fields.Enum(ReportStatus, by_value=True, load_default=None)
    number = ma.fields.String(load_default=None)
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(1, 500))


class ReportUpdate(InputSchema):
    status = ma.fields.Enum(ReportStatus, by_value=True, required=True)
    note = MultilineString(load_default=None, validate=validate.Length(max=500))


class StatsQuery(InputSchema):
    days = ma.fields.Integer(load_default=14, validate=validate.Range(1, 365))


class ActiveCallOut(ma.Schema):
    call_id = ma.fields.UUID(attribute="id")
    reference = ma.fields.String()
    status = ma.fields.Enum(CallStatus, by_value=True)
    callback_id = ma.fields.UUID(allow_none=True)
    from_number = ma.fields.String(metadata={"description": "the official number calling"})
    started_at = ma.fields.AwareDateTime(attribute="created_at")

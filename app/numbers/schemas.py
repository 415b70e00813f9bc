"""What the official-number API accepts and returns."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.inputs import InputSchema
from app.locales import SUPPORTED_LOCALES
from app.numbers.models import NumberPurpose


class OfficialNumberCreate(InputSchema):
    phone = ma.fields.String(required=True)
    purpose = ma.fields.String(
        required=True,
        validate=validate.OneOf([p.value for p in NumberPurpose]),
        metadata={"description": "what the line is for"},
    )
    label = ma.fields.String(
        required=True,
        validate=validate.Length(1, 120),
        metadata={"description": "public name, e.g. 'Acme Bank verification calls'"},
    )
    labels = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.OneOf(SUPPORTED_LOCALES)),
        values=ma.fields.String(validate=validate.Length(1, 120)),
        load_default=None,
        metadata={
            "description": "the label in other languages, e.g. {'it': 'Verifiche di Acme Bank'};"
            " the check page and the phone line use the caller's, else label"
        },
    )
    inbound_only = ma.fields.Boolean(load_default=False)
    flow = ma.fields.String(
        load_default=None,
        metadata={"description": "inbound flow answering the line (default by purpose)"},
    )
    region = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[A-Za-z]{2}$", error="use a two-letter country code"),
    )


class OfficialNumberQuery(InputSchema):
    include_retired = ma.fields.Boolean(load_default=False)


class OfficialNumberOut(ma.Schema):
    phone = ma.fields.String(metadata={"description": "E.164"})
    purpose = ma.fields.Enum(NumberPurpose, by_value=True)
    label = ma.fields.String()
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    inbound_only = ma.fields.Boolean()
    flow = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    active_from = ma.fields.DateTime()
    retired_at = ma.fields.DateTime(allow_none=True)


class OfficialNumberHistory(ma.Schema):
    phone = ma.fields.String()
    periods = ma.fields.List(ma.fields.Nested(OfficialNumberOut))

"""What the customer API accepts and returns."""

from __future__ import annotations

from datetime import date, timedelta

import marshmallow as ma
from marshmallow import validate

from app import clock
from app.inputs import InputSchema
from app.phones import time_zones_of

#: The fact a caller who asks to freeze the account types; kept only as a keyed hash.
BIRTH_DATE = {
    "description": "YYYY-MM-DD, from 1900 to today; stored only as a keyed hash, never "
    "returned; matches a caller who asks to freeze the account",
    "example": "1980-04-30",
}


class PastBirthDate(validate.Validator):
    """Refuses a date of birth in the future or before 1900.

    A typo (2080 for 1980) would otherwise be kept as a hash nobody can see again, and the
    customer could never be matched when they ask to freeze their account; the page's own date
    field refuses such dates too. Today is read in the zone furthest ahead (UTC+14).
    """

    FIRST = date(1900, 1, 1)
    error = "a date of birth from 1900 to today"

    def __call__(self, value: date) -> date:
        today = (clock.now() + timedelta(hours=14)).date()
        if not self.FIRST <= value <= today:
            raise ma.ValidationError(self.error)
        return value


class CustomerCreate(InputSchema):
    external_id = ma.fields.String(required=True, validate=validate.Length(1, 128))
    phone = ma.fields.String(
        required=True,
        metadata={"description": "any format phonenumbers parses", "example": "+39 333 123 4567"},
    )
    locale = ma.fields.String(
        load_default=None, metadata={"description": "en, it, pl or zh; default from the number"}
    )
    name = ma.fields.String(load_default=None, validate=validate.Length(max=200))
    region = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[A-Za-z]{2}$", error="use a two-letter country code"),
        metadata={"description": "ISO 3166 region used to read a number without a country code"},
    )
    time_zone = ma.fields.String(
        load_default=None, metadata={"description": "IANA zone; overrides the number's zone"}
    )
    birth_date = ma.fields.Date(load_default=None, validate=PastBirthDate(), metadata=BIRTH_DATE)


class CustomerUpdate(InputSchema):
    phone = ma.fields.String(
        metadata={
            "description": "a new number (the old one stays in the history); read in the "
            "current number's country when it has no country code",
            "example": "+39 333 765 4321",
        }
    )
    locale = ma.fields.String()
    birth_date = ma.fields.Date(allow_none=True, validate=PastBirthDate(), metadata=BIRTH_DATE)
    name = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    time_zone = ma.fields.String(
        allow_none=True, metadata={"description": "IANA zone; null returns to the number's zone"}
    )


class CustomerQuery(InputSchema):
    external_id = ma.fields.String(required=True, validate=validate.Length(1, 128))


class CustomerOut(ma.Schema):
    id = ma.fields.UUID()
    external_id = ma.fields.String()
    phone = ma.fields.String(metadata={"description": "E.164"})
    locale = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    time_zone = ma.fields.String(
        allow_none=True,
        metadata={"description": "the callee's zone; null when the number spans several"},
    )
    time_zone_overridden = ma.fields.Boolean()
    time_zones = ma.fields.Function(
        lambda customer: list(time_zones_of(customer.phone)),
        metadata={
            "description": "every zone the number may ring in",
            "type": "array",
            "items": {"type": "string"},
        },
    )
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()

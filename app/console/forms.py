"""How the console reads a form or a query string: one marshmallow schema each.

A value the schema refuses becomes InvalidInput naming the field ("status: one of New, ..."), in
the staff member's language, a choice by its label,
which a filter shows on the console's "Not accepted" page (422) and a form shows on its screen;
never a 500. An empty input means "not given", as a browser sends every field of a form.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, TypeVar

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import validate
from werkzeug.datastructures import MultiDict

from app.errors import InvalidInput
from app.i18n import choices
from app.inputs import InputSchema, PlausibleMoment

_Member = TypeVar("_Member", bound=enum.Enum)


class Form(InputSchema):
    """A console form or query string; fields it does not name are ignored, as before.

    Its texts refuse control characters (the blueprint refuses them earlier, for every field).
    """

    class Meta:
        unknown = ma.EXCLUDE


def read(schema: type[Form], values: MultiDict[str, Any]) -> dict[str, Any]:
    """The form's values as the schema loads them; InvalidInput naming the first bad field."""
    data: dict[str, Any] = {}
    for name, field in schema._declared_fields.items():
        key = field.data_key or name
        if isinstance(field, ma.fields.List):
            given = [v for v in values.getlist(key) if isinstance(v, str) and v != ""]
            if given:
                data[key] = given
        elif isinstance(values.get(key), str) and values[key] != "":
            data[key] = values[key]
    try:
        return dict(schema().load(data))
    except ma.ValidationError as exc:
        messages = exc.normalized_messages()
        field, problem = next(iter(messages.items()))
        while isinstance(problem, dict):  # a list's item: {0: ["..."]}
            problem = next(iter(problem.values()))
        text = problem[0] if isinstance(problem, list) else str(problem)
        raise InvalidInput(f"{field}: {text}", field=str(field)) from None


class Text(ma.fields.String):
    """Text of at most this many characters (the column's size: longer would fail to save)."""

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        message = _l("at most %(count)d characters, please shorten it", count=max_length)
        super().__init__(validate=validate.Length(max=max_length, error=message), **kwargs)


class Choice(ma.fields.Enum[_Member]):
    """One of an enum's values, loaded as the enum member: "status: one of New, Acknowledged"
    (their labels, in the reader's language)."""

    def __init__(self, enum_type: type[_Member], **kwargs: Any) -> None:
        refused = _l("one of %(choices)s", choices=choices(enum_type))
        super().__init__(enum_type, by_value=True, error_messages={"unknown": refused}, **kwargs)


class Flag(ma.fields.Field[bool]):
    """A checkbox: ticked when sent with any value (browsers send "1" or "on")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        return bool(value)


class WholeNumber(ma.fields.Integer):
    """A whole number, in a range when one is given: "limit: a whole number, 1 to 10000"."""

    def __init__(self, low: int | None = None, high: int | None = None, **kwargs: Any) -> None:
        ranged = low is not None and high is not None
        message = (
            _l("a whole number, %(low)d to %(high)d", low=low, high=high)
            if ranged
            else _l("a whole number")
        )
        super().__init__(
            strict=True,
            validate=validate.Range(low, high, error=message) if ranged else None,
            error_messages={"invalid": message},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        text = str(value).strip()
        # Twelve digits are more than any count here; more would only be slow to parse.
        if not (text.isascii() and text.isdecimal()) or len(text) > 12:
            raise self.make_error("invalid")
        return super()._deserialize(int(text), attr, data, **kwargs)


class Number(ma.fields.Float):
    """A decimal number (NaN and infinity pass, for the service to refuse with its range)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_nan=True, error_messages={"invalid": _l("not a number")}, **kwargs)


class Moment(ma.fields.Field[datetime]):
    """A date, or a date and time, between 1970 and 2999 (UTC unless it names its zone)."""

    default_error_messages = {"invalid": _l("a date between 1970 and 2999")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            moment = datetime.fromisoformat(str(value).strip())
            PlausibleMoment()(moment)
        except (ValueError, ma.ValidationError):
            raise self.make_error("invalid") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Minutes(ma.fields.Field[list[int]]):
    """A ladder of minutes written "30,120": each a whole number."""

    default_error_messages = {"invalid": _l("minutes between tries, such as 30,120")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[int]:
        parts = [part.strip() for part in str(value).split(",") if part.strip()]
        if not all(part.isascii() and part.isdecimal() and len(part) <= 12 for part in parts):
            raise self.make_error("invalid")
        return [int(part) for part in parts]

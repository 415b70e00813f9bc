"""What the product accepts from a request: bounded JSON and printable text.

PostgreSQL refuses NUL in text, XML (the TwiML read to callers) refuses most control characters
and U+FFFE/U+FFFF, and a lone surrogate cannot be written as UTF-8 at all. Rather than fail deep
inside with a 500 (and differently on each database), every text input refuses them at the edge
with a 422 naming the field. Tabs and line breaks are allowed only in free text that may span
lines (descriptions, complaint texts, notes). JSON bodies are refused early when they nest too
deeply or carry NaN or Infinity, which are not JSON.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import request
from flask_babel import lazy_gettext as _l
from marshmallow import validate

from app.errors import (
    CONTROL_CHARACTER,
    MULTI_LINE_MESSAGE,
    MULTI_LINE_WORDS,
    SINGLE_LINE_MESSAGE,
    SINGLE_LINE_WORDS,
    DomainError,
    InvalidInput,
)

#: The OpenAPI `pattern` of single-line text: no C0 or C1 control character, no DEL, U+FFFE or
#: U+FFFF. Written so that ECMA-262 (JSON Schema's dialect), Python and Rust read it alike.
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\ufffe\uffff]*$"
#: The same for free text that may span lines: tab, line feed and carriage return are allowed.
MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]*$"
#: A path part: printable single-line text without a slash.
PATH_TEXT_PATTERN = r"^[^/\u0000-\u001f\u007f-\u009f\ufffe\uffff]+$"
# What is refused; lone surrogates too (a JSON Schema pattern cannot name them portably).
_SINGLE_LINE_REFUSED = re.compile(r"[\u0000-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff]")
_MULTI_LINE_REFUSED = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff]"
)

#: JSON nested deeper than this is refused before any view reads it.
MAX_JSON_DEPTH = 32


def is_printable(value: str, *, multiline: bool = False) -> bool:
    """True when the text has no character the product refuses."""
    refused = _MULTI_LINE_REFUSED if multiline else _SINGLE_LINE_REFUSED
    return refused.search(value) is None


def refuse_control_characters(
    values: Mapping[str, Any],
    *,
    fields: Iterable[str] | None = None,
    multiline: Iterable[str] = (),
) -> None:
    """Raise InvalidInput naming the first field whose text has a control character.

    For the path parts, form and query fields that no schema reads. `fields` limits the check
    to the fields a view reads (default: all); a value may be a text or a list of texts, and a
    MultiDict is read with getlist.
    """
    lines = set(multiline)
    getlist = getattr(values, "getlist", None)
    for name in values if fields is None else fields:
        if name not in values:
            continue
        texts = getlist(name) if getlist else values[name]
        if not isinstance(texts, list | tuple):
            texts = [texts]
        many = name in lines
        refused = not is_printable(name) or any(
            isinstance(text, str) and not is_printable(text, multiline=many) for text in texts
        )
        if refused:
            message = MULTI_LINE_WORDS if many else SINGLE_LINE_WORDS
            raise InvalidInput(
                _l("%(field)s: %(problem)s", field=name, problem=message),
                field=name,
                code=CONTROL_CHARACTER,
            )


# ----- marshmallow: the API's schemas -----


class PrintableText(validate.Regexp):
    """Refuses control characters; its regex is what the OpenAPI document shows as `pattern`."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline
        super().__init__(
            MULTI_LINE_PATTERN if multiline else SINGLE_LINE_PATTERN,
            error=MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE,
        )

    # Regexp also takes bytes; the String fields this guards only ever hand it text.
    def __call__(self, value: str) -> str:  # type: ignore[override]
        # Not the regex: Python's `$` also matches before a final line break.
        if not is_printable(value, multiline=self.multiline):
            raise ma.ValidationError(self.error)
        return value


class PrintableInside(validate.Validator):
    """Refuses control characters in every key and text anywhere inside a JSON object or array."""

    def __call__(self, value: Any) -> Any:
        path = _first_unprintable(value)
        if path is not None:
            raise ma.ValidationError(_nest(path, SINGLE_LINE_MESSAGE))
        return value


def _first_unprintable(value: Any) -> list[str] | None:
    stack: list[tuple[list[str], Any]] = [([], value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not is_printable(item):
                return path
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if isinstance(key, str) and not is_printable(key):
                    return path
                stack.append(([*path, str(key)], inner))
        elif isinstance(item, list | tuple):
            stack.extend(([*path, str(index)], inner) for index, inner in enumerate(item))
    return None


def _nest(path: list[str], message: str) -> Any:
    """Marshmallow's nested error shape, so the answer names data.merchant, not data."""
    nested: Any = [message]
    for key in reversed(path):
        nested = {key: nested}
    return nested


class PlausibleMoment(validate.Validator):
    """Refuses dates no event of ours can have, which arithmetic on them would overflow."""

    FIRST_YEAR, LAST_YEAR = 1970, 2999
    error = f"a date and time between {FIRST_YEAR} and {LAST_YEAR}"

    def __call__(self, value: datetime) -> datetime:
        if not self.FIRST_YEAR <= value.year <= self.LAST_YEAR:
            raise ma.ValidationError(self.error)
        return value


class MultilineString(ma.fields.String):
    """Free text that may span lines: tabs and line breaks are accepted, other controls not."""


class InputSchema(ma.Schema):
    """The base of every schema that reads a request: its texts refuse control characters."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field[Any]) -> None:
        _guard(field_obj)


def _guard(field: ma.fields.Field[Any]) -> None:
    if isinstance(field, ma.fields.String):
        if any(isinstance(v, validate.OneOf | validate.Regexp) for v in field.validators):
            return  # a choice or a stricter shape refuses control characters already
        field.validators.insert(0, PrintableText(multiline=isinstance(field, MultilineString)))
    elif isinstance(field, ma.fields.DateTime):
        _read_printable_text_only(field)
        field.validators.insert(0, PlausibleMoment())
    elif isinstance(field, ma.fields.Date):
        _read_printable_text_only(field)
    elif isinstance(field, ma.fields.List):
        _guard(field.inner)
    elif isinstance(field, ma.fields.Dict):
        field.validators.append(PrintableInside())


def _read_printable_text_only(field: ma.fields.DateTime | ma.fields.Date) -> None:
    """Refuse a date or time whose text has a control character, before it is read.

    Its validators see only the parsed value, and Python's `datetime.fromisoformat` reads
    "2026-11-23T18:30:00+01:00" followed by a NUL as that time: the NUL would be accepted where
    every other text refuses it.
    """
    deserialize = field._deserialize

    def checked(value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if isinstance(value, str) and not is_printable(value):
            raise ma.ValidationError(SINGLE_LINE_MESSAGE)
        return deserialize(value, attr, data, **kwargs)

    # mypy refuses assigning to a method; this one field's own reading is what is wrapped.
    field._deserialize = checked  # type: ignore[method-assign]


# ----- request bodies -----


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, where a required JSON body is really required."""

    def arguments(
        self,
        schema: type[ma.Schema] | ma.Schema,
        *,
        location: str = "json",
        required: bool = True,
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        decorator = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return decorator

        def require_body(func: Callable[..., Any]) -> Callable[..., Any]:
            parsed = decorator(func)

            @functools.wraps(parsed)
            def view(*args: Any, **kwargs: Any) -> Any:
                if not request.get_data(cache=True).strip():
                    raise InvalidInput(
                        "send a JSON object as the request body", code="body_required"
                    )
                return parsed(*args, **kwargs)

            return view

        return require_body


class BadJson(DomainError):
    status = 400
    code = "invalid_json"


def check_json_body(data: bytes) -> None:
    """Refuse a body that is not JSON, nests deeper than MAX_JSON_DEPTH or has a huge number.

    The parsers behind the views read the body again; they then meet only JSON that is safe to read.
    """
    if not data.strip():
        return
    try:
        document = json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise BadJson(_too_deep(), code="too_deep") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, NaN, a 5,000-digit number
        raise BadJson(f"the request body is not valid JSON: {exc}") from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise BadJson(_too_deep(), code="too_deep")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _too_deep() -> str:
    return f"the JSON body nests more than {MAX_JSON_DEPTH} levels deep"


def _depth(document: Any) -> int:
    deepest, stack = 0, [(document, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((inner, depth + 1) for inner in item)
    return deepest

"""Errors the product raises, and how every one of them becomes a JSON answer.

Every error response has the shape ``{"error": {"code", "message", "field"}}`` with a 4xx
(or, for our own faults, a 5xx) status; the CONTRACT promises it to integrators.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, Response, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

#: What a text with control characters is told (app.inputs refuses them; the code is the same
#: whether a schema or a path part refused it).
SINGLE_LINE_MESSAGE = "control characters (such as NUL, ESC or a line break) are not accepted"
MULTI_LINE_MESSAGE = "control characters other than tabs and line breaks are not accepted"
CONTROL_CHARACTER = "control_character"

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the product refused the request; services raise these, views never catch them."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class RateLimited(DomainError):
    """Too many requests from one address, or about one number: try again after a while."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(DomainError):
    """We could not do it now (e.g. the database kept refusing it under contention); nothing was
    written: send the same request again after a while."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ErrorDetail(ma.Schema):
    code = ma.fields.String(metadata={"description": "machine-readable error code"})
    message = ma.fields.String(metadata={"description": "what went wrong, for a person"})
    field = ma.fields.String(allow_none=True, metadata={"description": "the offending field"})


class ErrorSchema(ma.Schema):
    """The error payload of every 4xx and 5xx answer."""

    error = ma.fields.Nested(ErrorDetail)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


# Marshmallow's stock messages, mapped to stable codes that integrators can branch on.
_VALIDATION_CODES = {
    "Missing data for required field.": "required",
    "Unknown field.": "unknown_field",
    "Field may not be null.": "required",
    "Invalid JSON body.": "invalid_json",
}


def _first_validation_error(messages: Any, path: tuple[str, ...] = ()) -> tuple[str, str]:
    """Walk webargs' nested messages to the first (field path, message) pair."""
    if isinstance(messages, dict):
        for key in sorted(messages, key=str):
            # webargs nests by location ("json", "query", ...); the location is not the field.
            # "_schema" is an error about the whole body rather than one field.
            is_location = not path and key in {"json", "query", "form", "path", "headers"}
            sub_path = path if is_location or key == "_schema" else (*path, str(key))
            return _first_validation_error(messages[key], sub_path)
    if isinstance(messages, list) and messages:
        first = messages[0]
        if isinstance(first, str):
            return ".".join(path), first
        return _first_validation_error(first, path)
    return ".".join(path), str(messages)


def validation_payload(messages: Any) -> dict[str, Any]:
    field, message = _first_validation_error(messages)
    code = _VALIDATION_CODES.get(message)
    if message in (SINGLE_LINE_MESSAGE, MULTI_LINE_MESSAGE):
        code = CONTROL_CHARACTER
    if code is None:
        code = "invalid_type" if message.startswith("Not a valid") else "invalid"
    readable = f"{field}: {message}" if field else message
    if message == "Invalid input type." and not field:
        code, readable = "invalid_type", "the request body must be a JSON object"
    if code == "unknown_field":
        readable = f"{field}: this field is not accepted here"
    return error_body(code, readable, field or None)


class ErrorResponses(BasePlugin):
    """Documents on each operation the errors any request to it may get, and no catch-all.

    A key check answers 401; a path parameter may name nothing (404) or hold a control
    character (422); a body may be malformed JSON (400), too large (413), not JSON (415) or
    invalid (422). Errors particular to a route (409, 429, ...) are declared on the route.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = []
            if operation.get("security"):
                statuses.append(401)
            if path and "{" in path:
                statuses += [404, 422]
            if "requestBody" in operation:
                statuses += [400, 413, 415, 422]
            documented = {str(code) for code in responses}
            for status in statuses:
                if str(status) not in documented:
                    responses[str(status)] = HTTPStatus(status).name
                    documented.add(str(status))


class JsonErrorApi(Api):
    """flask-smorest's Api, answering every HTTP error in the product's error shape."""

    ERROR_SCHEMA = ErrorSchema
    # No "default" response: the document lists each status an operation can answer.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app: Flask, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        spec_kwargs = {"extra_plugins": [ErrorResponses()], **(spec_kwargs or {})}
        super().init_app(app, spec_kwargs=spec_kwargs)

    def handle_http_exception(
        self, error: HTTPException
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        data = getattr(error, "data", None) or {}
        # Werkzeug's own headers first: a 405 names the methods the URL allows (RFC 9110).
        headers = {
            name: value for name, value in error.get_headers() if name.lower() != "content-type"
        }
        headers.update(data.get("headers") or {})
        status = error.code or 500
        if "messages" in data or "errors" in data:
            return validation_payload(data.get("errors") or data["messages"]), status, headers
        if isinstance(error, InternalServerError):
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.error("unhandled error", exc_info=original)
            message = "something went wrong on our side; it has been logged"
            return error_body("internal_error", message), 500, headers
        code = (error.name or "error").lower().replace(" ", "_")
        message = data.get("message") or error.description or error.name
        if status == 400 and "JSON" in str(message):
            code = "invalid_json"
        return error_body(code, str(message)), status, headers


def register_error_handlers(app: Flask) -> None:
    """Domain errors become their 4xx answer; the Api handles everything HTTP."""

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        response = jsonify(error_body(error.code, error.message, error.field))
        response.status_code = error.status
        if isinstance(error, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        if isinstance(error, RateLimited | Unavailable):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

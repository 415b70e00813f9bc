"""Errors the product raises, and how every one of them becomes an answer.

Every error response to a program (the API, Twilio's webhooks, anything asking for JSON) has the
shape ``{"error": {"code", "message", "field"}}`` with a 4xx (or, for our own faults, a 5xx)
status; the CONTRACT promises it to integrators. A person's browser gets a page instead, in their
language, saying what happened and how to go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeAlias

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import LazyString, force_locale, get_babel
from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

#: What a text with control characters is told (app.inputs refuses them; the code is the same
#: whether a schema or a path part refused it).
SINGLE_LINE_MESSAGE = "control characters (such as NUL, ESC or a line break) are not accepted"
MULTI_LINE_MESSAGE = "control characters other than tabs and line breaks are not accepted"
CONTROL_CHARACTER = "control_character"
#: The same, for a person: read in their language.
SINGLE_LINE_WORDS = _l("control characters (such as NUL, ESC or a line break) are not accepted")
MULTI_LINE_WORDS = _l("control characters other than tabs and line breaks are not accepted")

log = logging.getLogger(__name__)


#: What a refusal says: a lazy gettext string (``_l("...")``), read in the reader's language when
#: shown; a plain ``str`` is shown as it is.
Message: TypeAlias = str | LazyString


class DomainError(Exception):
    """A rule of the product refused the request; services raise these, views never catch them.

    Its `message` is in the reader's language (the console's staff member, a page's visitor, the
    API caller's Accept-Language), read when shown; `str()` of the error is always English, for
    logs and for what is kept (a callback's last error).
    """

    status = 400
    code = "bad_request"

    def __init__(
        self, message: Message, *, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self._message = message
        self.field = field
        if code:
            self.code = code

    @property
    def message(self) -> str:
        """What went wrong, for a person, in their language."""
        return str(self._message)

    def __str__(self) -> str:
        if not isinstance(self._message, LazyString):
            return self._message
        with force_locale("en"):
            return str(self._message)


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

    def __init__(self, message: Message, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(DomainError):
    """We could not do it now (e.g. the database kept refusing it under contention); nothing was
    written: send the same request again after a while."""

    status = 503
    code = "unavailable"

    def __init__(self, message: Message, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ErrorDetail(ma.Schema):
    code = ma.fields.String(metadata={"description": "machine-readable error code"})
    message = ma.fields.String(metadata={"description": "what went wrong, for a person"})
    field = ma.fields.String(allow_none=True, metadata={"description": "the offending field"})


class ErrorSchema(ma.Schema):
    """The error payload of every 4xx and 5xx answer."""

    error = ma.fields.Nested(ErrorDetail)


#: Paths only programs call: their errors are always JSON, whatever the Accept header says.
PROGRAM_PATHS = ("/api/", "/twilio/")


def wants_a_page() -> bool:
    """Whether the request comes from a person's browser (it prefers HTML to JSON and is not one
    of the programs' paths): then an error is a page, not JSON."""
    if request.path.startswith(PROGRAM_PATHS) or request.is_json:
        return False
    # On a tie (*/*, no Accept header: curl, scripts, fetch) JSON wins, listed first.
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


#: What a person reads for each status: a heading and what to do. Others read as the closest kind.
_PAGES = {
    400: (_l("We could not read that request"), _l("Please go back and try again.")),
    401: (
        _l("Please sign in first"),
        _l("This page is only for people who have signed in."),
    ),
    403: (_l("This page is not open to you"), _l("If you think it should be, contact us.")),
    404: (
        _l("We cannot find that page"),
        _l(
            "The address may be mistyped, or the page may have moved. Check the address, or "
            "start again from our home page."
        ),
    ),
    405: (
        _l("That page cannot be used that way"),
        _l("Please go back to the page you came from and use its form or its links."),
    ),
    409: (_l("That was already done"), _l("Please go back and look again before you try.")),
    413: (_l("That is too much to send at once"), _l("Please send less, and try again.")),
    422: (
        _l("We could not accept what was sent"),
        _l("Please go back, check what you typed, and try again."),
    ),
    429: (
        _l("Too many tries from here"),
        _l(
            "To protect our customers we have paused requests from here for a moment. Please "
            "try again in a few minutes."
        ),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("It has been recorded and we are looking into it. Please try again in a few minutes."),
    ),
    503: (
        _l("This service is busy at the moment"),
        _l("Nothing was sent or changed. Please try again in a few minutes."),
    ),
}


def _reader_language() -> str:
    """The error page's language: ?lang=, else the browser's. Never the form's: the form may be
    what could not be read (too large, badly encoded)."""
    known = [str(locale) for locale in get_babel().instance.list_translations()]
    asked = (request.args.get("lang") or "").strip().lower()
    if asked in known:
        return asked
    return request.accept_languages.best_match(known) or "en"


#: Renders an error page for a part of the site that has its own (the console, for its signed-in
#: staff: in their language, inside their screens), or answers None to leave it to the public one.
PageRenderer = Callable[[int, Any, Any], str | None]
_RENDERERS = "error_page_renderers"


def add_error_page_renderer(app: Flask, renderer: PageRenderer) -> None:
    """A face (the console) shows its own error pages; the public page is for everyone else."""
    app.extensions.setdefault(_RENDERERS, []).append(renderer)


def error_page(status: int, headers: dict[str, str] | None = None) -> Response:
    """The page a person sees instead of an error's JSON: what happened, in their language, and
    the way back to the home page and the call check (or, in the console, to its screens)."""
    kind = status if status in _PAGES else (500 if status >= 500 else 400)
    heading, advice = _PAGES[kind]
    html = None
    for renderer in current_app.extensions.get(_RENDERERS, []):
        html = renderer(status, heading, advice)
        if html is not None:
            break
    if html is None:
        with force_locale(_reader_language()):
            html = render_template("error.html", status=status, heading=heading, advice=advice)
    response = Response(html, status=status, mimetype="text/html")
    response.vary.add("Accept")  # the same address answers JSON to programs
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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
    ) -> tuple[dict[str, Any], int, dict[str, str]] | Response:
        data = getattr(error, "data", None) or {}
        # Werkzeug's own headers first: a 405 names the methods the URL allows (RFC 9110).
        headers = {
            name: value for name, value in error.get_headers() if name.lower() != "content-type"
        }
        headers.update(data.get("headers") or {})
        status = error.code or 500
        if wants_a_page():
            if isinstance(error, InternalServerError):
                original = getattr(error, "original_exception", None)
                if original is not None:
                    log.error("unhandled error", exc_info=original)
            return error_page(status, headers)
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


def retry_after(error: RateLimited) -> None:
    """A page that caught a rate limit and answers 429 in its own words still says, as the API
    does, when to try again (the Retry-After header, added once the page is made)."""
    g.retry_after = error.retry_after


def register_error_handlers(app: Flask) -> None:
    """Domain errors become their 4xx answer (a page for a person's browser); the Api handles
    everything HTTP."""

    @app.after_request
    def _retry_after(response: Response) -> Response:
        seconds = g.get("retry_after")
        if response.status_code == 429 and seconds and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        if wants_a_page():
            # A person is told what happened in their words, not the message for programs.
            response = error_page(error.status)
        else:
            response = jsonify(error_body(error.code, error.message, error.field))
            response.status_code = error.status
        if isinstance(error, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        if isinstance(error, RateLimited | Unavailable):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

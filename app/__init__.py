"""The call center's Flask application; create_app is the only place an app is built."""

from __future__ import annotations

import importlib
import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue

from app import config as settings_module
from app.errors import (
    InvalidInput,
    JsonErrorApi,
    error_body,
    error_page,
    register_error_handlers,
    wants_a_page,
)
from app.extensions import db, migrate
from app.flows.registry import init_flows
from app.i18n import init_i18n
from app.inputs import check_json_body, refuse_control_characters
from app.logs import configure_logging
from app.ratelimit import init_rate_limits
from app.registry import Registry, new_registry

MIGRATIONS_DIRECTORY = str(Path(__file__).parent / "migrations")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("app.requests")
#: Path parts the request log masks: a person's number (`DELETE /api/v1/do-not-call/{phone}`) and
#: a one-time link's secret (`/satisfaction/{token}`), which the path carries like a query would.
_MASKED_PATH_PARTS = ("phone", "token")

#: The domains (and faces) that register themselves, in order: each module's init_app(app) fills
#: the app's registry (blueprints, worker ticks, signal receivers, flow actions). The order is the
#: order of their routes in the OpenAPI document.
DOMAINS = (
    "app.health",
    "app.customers",
    "app.verification",
    "app.numbers",
    "app.callbacks",
    "app.fraud",
    "app.authenticity",
    "app.complaints",
    "app.freezes",
    "app.campaigns",
    "app.agents",
    "app.audit_api",
    "app.console",
    "app.ivr",
    "app.messaging",
    "app.softphone",
)


def create_app(config: dict[str, Any] | type[settings_module.Config] | None = None) -> Flask:
    """Build the app.

    With no argument, settings come from the environment (and a .env file in the working
    directory); a dict or a Config class gives explicit settings, as tests do.
    """
    app = Flask(__name__, instance_path=_instance_path())
    if config is None:
        load_dotenv(Path.cwd() / ".env", override=False)
        settings = settings_module.from_environment()
    elif isinstance(config, dict):
        base = settings_module.ENVIRONMENTS[config.get("APP_ENV", "testing")]
        settings = {**settings_module.settings_of(base), **config}
    else:
        settings = settings_module.settings_of(config)
    app.config.update(settings_module.finish(settings, app.instance_path))
    if isinstance(app.json, DefaultJSONProvider):  # answers keep the schema's order
        app.json.sort_keys = False
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    configure_logging(app.config["LOG_LEVEL"])

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIRECTORY, render_as_batch=True)
    # flask-smorest keeps one OpenAPI spec per Api object, so each app gets its own.
    api = JsonErrorApi(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.extensions["api"] = api
    register_error_handlers(app)
    init_rate_limits(app)
    init_i18n(app)
    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        # Flask's documented way to wrap its WSGI app, which mypy sees as replacing a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
    registry = new_registry(app)
    from app.cli import register_commands

    register_commands(registry)
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)
    # The flows are checked against the actions the domains registered: a flow naming any other
    # action stops the app here, not a live call.
    init_flows(app)
    _register_request_hooks(app)
    _apply(app, api, registry)
    registry.freeze()
    return app


def _apply(app: Flask, api: JsonErrorApi, registry: Registry) -> None:
    """Everything the domains registered, into the app."""
    _register_converters(app, api, registry)
    for blueprint in registry.blueprints:
        app.register_blueprint(blueprint)
    for blueprint in registry.api_blueprints:
        api.register_blueprint(blueprint)
    # blinker keeps one connection per receiver and signal, so a second app connects nothing new.
    for receiver in registry.receivers:
        receiver.signal.connect(receiver.function, weak=False)
    for command in registry.commands:
        app.cli.add_command(command)


def _instance_path() -> str:
    # The CONTRACT's default database lives under instance/ in the working directory.
    return os.environ.get("INSTANCE_PATH") or str(Path.cwd() / "instance")


def _register_converters(app: Flask, api: JsonErrorApi, registry: Registry) -> None:
    """URL converters for references, and what the OpenAPI document says each path part takes."""
    from werkzeug.routing import BaseConverter, UnicodeConverter

    from app.inputs import PATH_TEXT_PATTERN
    from app.references import ReferenceConverter

    app.url_map.converters["reference"] = ReferenceConverter
    app.url_map.converters.update(registry.converters)

    def text(converter: BaseConverter) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "pattern": PATH_TEXT_PATTERN}

    def shaped(converter: BaseConverter) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{converter.regex}$"}

    api.register_converter(UnicodeConverter, text)
    api.register_converter(ReferenceConverter, shaped)
    for converter in registry.converters.values():
        api.register_converter(converter, shaped)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _start() -> Response | None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        if request.path.startswith("/api/"):
            # Path parts reach queries before any schema reads them.
            refuse_control_characters(request.view_args or {})
            if (
                request.method in {"POST", "PUT", "PATCH"}
                and request.content_length
                and not request.is_json
            ):
                raise _NotJson()
        if request.is_json:
            check_json_body(request.get_data(cache=True))
        return None

    @app.errorhandler(413)
    def _too_large(error: Exception) -> ResponseReturnValue:
        if wants_a_page():
            return error_page(413)
        return error_body("too_large", "the request body is too large"), 413

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        # The path only: query strings and bodies may carry numbers or codes.
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": _logged_path(),
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 1),
            },
        )
        return response


def _logged_path() -> str:
    """The request's path for the log, its numbers and link secrets masked."""
    path = request.path
    for name in _MASKED_PATH_PARTS:
        value = (request.view_args or {}).get(name)
        if isinstance(value, str) and value:
            path = path.replace(value, "***")
    return path


class _NotJson(InvalidInput):
    status = 415
    code = "unsupported_media_type"

    def __init__(self) -> None:
        super().__init__("send the body as JSON with 'Content-Type: application/json'")

"""The call center's Flask application; create_app is the only place an app is built."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask, Response, g, request

from app import config as settings_module
from app.callbacks.policy import load_policy
from app.errors import InvalidInput, JsonErrorApi, error_body, register_error_handlers
from app.extensions import db, migrate
from app.flows.registry import init_flows
from app.inputs import check_json_body, refuse_control_characters
from app.logs import configure_logging
from app.ratelimit import init_rate_limits

MIGRATIONS_DIRECTORY = str(Path(__file__).parent / "migrations")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("app.requests")


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
    app.json.sort_keys = False  # type: ignore[attr-defined] - answers keep the schema's order
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
    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
    init_flows(app)
    app.extensions["callback_policy"] = load_policy(app.config.get("CALLBACK_POLICY_FILE"))
    from app.complaints.policy import load_complaints_policy

    app.extensions["complaints_policy"] = load_complaints_policy(
        app.config.get("COMPLAINTS_POLICY_FILE")
    )
    from app.verification.policy import load_verification_policy

    app.extensions["verification_policy"] = load_verification_policy(
        app.config.get("VERIFICATION_POLICY_FILE")
    )
    from app.callbacks.engine import connect
    from app.complaints.engine import connect as connect_complaints

    connect(app)
    connect_complaints(app)
    _register_request_hooks(app)
    _register_converters(app, api)
    _register_blueprints(app, api)

    from app.cli import register_commands

    register_commands(app)
    return app


def _instance_path() -> str:
    # The CONTRACT's default database lives under instance/ in the working directory.
    return os.environ.get("INSTANCE_PATH") or str(Path.cwd() / "instance")


def _register_converters(app: Flask, api: JsonErrorApi) -> None:
    """URL converters for references, and what the OpenAPI document says each path part takes."""
    from werkzeug.routing import BaseConverter, UnicodeConverter

    from app.complaints.references import ComplaintReferenceConverter
    from app.inputs import PATH_TEXT_PATTERN
    from app.references import ReferenceConverter

    app.url_map.converters["reference"] = ReferenceConverter
    app.url_map.converters["complaint_reference"] = ComplaintReferenceConverter

    def text(converter: BaseConverter) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "pattern": PATH_TEXT_PATTERN}

    def shaped(converter: BaseConverter) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^{converter.regex}$"}

    api.register_converter(UnicodeConverter, text)
    api.register_converter(ReferenceConverter, shaped)
    api.register_converter(ComplaintReferenceConverter, shaped)


def _register_blueprints(app: Flask, api: JsonErrorApi) -> None:
    from app.audit.views import blp as audit_blp
    from app.authenticity.views import public as authenticity_blp
    from app.authenticity.views import staff as scam_reports_blp
    from app.callbacks.views import events_blp
    from app.complaints.views import public as complaints_blp
    from app.complaints.views import staff as complaint_queue_blp
    from app.customers.views import blp as customers_blp
    from app.fraud.views import blp as fraud_blp
    from app.health.views import bp as health_bp
    from app.numbers.views import blp as numbers_blp
    from app.telephony.views import bp as twilio_bp
    from app.verification.views import blp as verification_blp

    app.register_blueprint(health_bp)
    from app.authenticity.web import bp as check_bp
    from app.complaints.web import bp as complaints_page_bp

    app.register_blueprint(check_bp)
    app.register_blueprint(complaints_page_bp)
    from app.console.views import bp as console_bp

    app.register_blueprint(console_bp)
    app.register_blueprint(twilio_bp)
    # The softphone shows simulated calls' prompts to whoever opens it: never in production.
    if app.config["TELEPHONY"] == "simulator" and app.config["ENV_NAME"] != "production":
        from app.telephony.softphone_views import bp as softphone_bp

        app.register_blueprint(softphone_bp)
    for blueprint in (
        customers_blp,
        verification_blp,
        numbers_blp,
        events_blp,
        fraud_blp,
        authenticity_blp,
        scam_reports_blp,
        complaints_blp,
        complaint_queue_blp,
        audit_blp,
    ):
        api.register_blueprint(blueprint)


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
    def _too_large(error: Exception):  # type: ignore[no-untyped-def]
        return error_body("too_large", "the request body is too large"), 413

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        # The path only: query strings and bodies may carry numbers or codes.
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 1),
            },
        )
        return response


class _NotJson(InvalidInput):
    status = 415
    code = "unsupported_media_type"

    def __init__(self) -> None:
        super().__init__("send the body as JSON with 'Content-Type: application/json'")

"""Settings from the environment, one class per environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Variables read from the environment. Every one is documented in .env.example.
ENVIRONMENT_VARIABLES = (
    "APP_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "TELEPHONY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_BASE_URL",
    "TWILIO_API_KEY_SID",
    "TWILIO_API_KEY_SECRET",
    "TWILIO_TWIML_APP_SID",
    "API_KEYS",
    "LOG_LEVEL",
    "WORKER_HEARTBEAT_SECONDS",
    "DISPATCH_TICK_SECONDS",
    "CARRIER_CREATE_SECONDS",
    "COMPANY_NAME",
    "CONSOLE_TIME_ZONE",
    "STAFF_2FA_REQUIRED_FOR",
    "CALLBACK_POLICY_FILE",
    "CORE_WEBHOOK_URL",
    "CORE_WEBHOOK_SECRET",
    "VERIFICATION_KEYS",
    "APP_CODE_TTL_SECONDS",
    "APP_CODE_DIGITS",
    "RATELIMIT_STORAGE_URI",
    "PROXY_HOPS",
    "COMPLAINTS_POLICY_FILE",
    "VERIFICATION_POLICY_FILE",
    "SMTP_URL",
    "MAIL_FROM",
)

#: NIST SP 800-63B caps an out-of-band or one-time code's life at 10 minutes.
APP_CODE_MAX_TTL_SECONDS = 600

TELEPHONY_BACKENDS = ("simulator", "twilio")
#: What the agents' browser phones need on Twilio (access tokens), with the SID each one has.
BROWSER_PHONE_SETTINGS = {
    "TWILIO_API_KEY_SID": re.compile(r"^SK[0-9a-fA-F]{32}$"),
    "TWILIO_API_KEY_SECRET": None,
    "TWILIO_TWIML_APP_SID": re.compile(r"^AP[0-9a-fA-F]{32}$"),
}


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


class Config:
    """Defaults shared by every environment."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    TELEPHONY = "simulator"
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: str | None = None
    TWILIO_API_BASE_URL: str | None = None
    # The agents' browser phones (Twilio's Voice JavaScript SDK): an API key that signs their
    # access tokens, and the TwiML app their own calls go through.
    TWILIO_API_KEY_SID: str | None = None
    TWILIO_API_KEY_SECRET: str | None = None
    TWILIO_TWIML_APP_SID: str | None = None
    API_KEYS: tuple[str, ...] = ()
    LOG_LEVEL = "INFO"
    WORKER_HEARTBEAT_SECONDS = 30.0
    # Seconds between the dialer's ticks; an urgent callback wakes it at once on PostgreSQL.
    DISPATCH_TICK_SECONDS = 1.0
    # The longest a carrier's create usually takes: a worker keeps calls per second x (1 s +
    # this) threads for its creates (at most the concurrent calls), so that a slow create delays
    # no other call.
    CARRIER_CREATE_SECONDS = 2.0
    COMPANY_NAME = "Demo Bank"  # spoken in every call: "Hello, this is Demo Bank"
    # The zone console times are shown in for staff who chose none (an IANA name).
    CONSOLE_TIME_ZONE = "Europe/London"
    # Who must have a second factor to use the console: supervisor (the others are asked) or all.
    STAFF_2FA_REQUIRED_FOR = "supervisor"
    FLOWS_DIRECTORY: str | None = None  # call_flows/ of the checkout unless set
    CALLBACK_POLICY_FILE: str | None = None  # config/callback_policy.yaml unless set
    CORE_WEBHOOK_URL: str | None = None  # where the core system hears of withdrawals, denials
    CORE_WEBHOOK_SECRET: str | None = None  # the HMAC key that signs those webhooks
    # Keys that encrypt authenticator secrets and key the hashes of app codes: comma-separated
    # base64 of 32 bytes; the first is current, the others only read (rotation). Required in
    # production; development and tests derive one from SECRET_KEY.
    VERIFICATION_KEYS: tuple[str, ...] = ()
    APP_CODE_TTL_SECONDS = APP_CODE_MAX_TTL_SECONDS  # configurable down, never up
    APP_CODE_DIGITS = 6  # 6 to 8
    VERIFICATION_POLICY_FILE: str | None = None  # config/verification.yaml unless set
    # Where the public routes' rate limits are counted: memory:// (one process) or redis://...
    RATELIMIT_STORAGE_URI = "memory://"
    RATE_LIMITS: dict[str, str] = {}  # overrides of app.ratelimit.DEFAULT_LIMITS
    # Reverse proxies in front of the web process whose X-Forwarded-For is trusted (0: none), so
    # that rate limits count the caller's address and not the proxy's.
    PROXY_HOPS = 0
    COMPLAINTS_POLICY_FILE: str | None = None  # config/complaints.yaml unless set
    SMTP_URL: str | None = None  # smtp://user:password@host:587; unset: emails are logged
    MAIL_FROM = "complaints@callcenter.invalid"
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 12 * 60 * 60
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # flask-smorest: the OpenAPI document is generated from the views and schemas.
    API_TITLE = "Callback and verification call center"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    REQUIRE_SECRET_KEY = True


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    SECRET_KEY = "development-only-secret-key"  # noqa: S105 - never used outside development
    REQUIRE_SECRET_KEY = False


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-secret-key"  # noqa: S105 - never used outside tests
    REQUIRE_SECRET_KEY = False


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True  # the console's cookie travels over https only


ENVIRONMENTS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the settings for the environment named by APP_ENV (default: production)."""
    env = dict(os.environ if environ is None else environ)
    name = env.get("APP_ENV", "production").strip().lower() or "production"
    if name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"APP_ENV={name!r} is not one of {', '.join(sorted(ENVIRONMENTS))}"
        )
    settings = settings_of(ENVIRONMENTS[name])

    def text(key: str) -> str | None:
        value = env.get(key, "").strip()
        return value or None

    for key in (
        "SECRET_KEY",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_BASE_URL",
        *BROWSER_PHONE_SETTINGS,
    ):
        if text(key):
            settings[key] = text(key)
    if text("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = text("DATABASE_URL")
    if text("PUBLIC_BASE_URL"):
        settings["PUBLIC_BASE_URL"] = text("PUBLIC_BASE_URL")
    if text("TELEPHONY"):
        settings["TELEPHONY"] = text("TELEPHONY")
    if text("API_KEYS"):
        settings["API_KEYS"] = tuple(k.strip() for k in env["API_KEYS"].split(",") if k.strip())
    for key in ("CORE_WEBHOOK_URL", "CORE_WEBHOOK_SECRET"):
        if text(key):
            settings[key] = text(key)
    if text("VERIFICATION_KEYS"):
        settings["VERIFICATION_KEYS"] = tuple(
            k.strip() for k in env["VERIFICATION_KEYS"].split(",") if k.strip()
        )
    if text("RATELIMIT_STORAGE_URI"):
        settings["RATELIMIT_STORAGE_URI"] = text("RATELIMIT_STORAGE_URI")
    for key in ("APP_CODE_TTL_SECONDS", "APP_CODE_DIGITS", "PROXY_HOPS"):
        if text(key):
            try:
                settings[key] = int(env[key])
            except ValueError:
                raise ConfigurationError(f"{key} must be a whole number") from None
    for key in ("COMPLAINTS_POLICY_FILE", "VERIFICATION_POLICY_FILE", "SMTP_URL", "MAIL_FROM"):
        if text(key):
            settings[key] = text(key)
    if text("CALLBACK_POLICY_FILE"):
        settings["CALLBACK_POLICY_FILE"] = text("CALLBACK_POLICY_FILE")
    if text("COMPANY_NAME"):
        settings["COMPANY_NAME"] = text("COMPANY_NAME")
    if text("CONSOLE_TIME_ZONE"):
        zone = env["CONSOLE_TIME_ZONE"].strip()
        try:
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise ConfigurationError(
                f"CONSOLE_TIME_ZONE: {zone!r} is not a time zone; use a name like Europe/Rome"
            ) from None
        settings["CONSOLE_TIME_ZONE"] = zone
    if text("STAFF_2FA_REQUIRED_FOR"):
        required_for = env["STAFF_2FA_REQUIRED_FOR"].strip().lower()
        if required_for not in ("supervisor", "all"):
            raise ConfigurationError("STAFF_2FA_REQUIRED_FOR must be supervisor or all")
        settings["STAFF_2FA_REQUIRED_FOR"] = required_for
    if text("LOG_LEVEL"):
        settings["LOG_LEVEL"] = text("LOG_LEVEL")
    for key in ("WORKER_HEARTBEAT_SECONDS", "DISPATCH_TICK_SECONDS", "CARRIER_CREATE_SECONDS"):
        if text(key):
            try:
                settings[key] = float(env[key])
            except ValueError:
                raise ConfigurationError(f"{key} must be a number of seconds") from None
    return settings


def settings_of(config_class: type[Config]) -> dict[str, Any]:
    """The upper-case attributes of a config class as a plain dict."""
    return {key: getattr(config_class, key) for key in dir(config_class) if key.isupper()}


def finish(settings: dict[str, Any], instance_path: str) -> dict[str, Any]:
    """Fill derived defaults and refuse settings that cannot work."""
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        database = Path(instance_path) / "callcenter.db"
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    url = settings["SQLALCHEMY_DATABASE_URI"]
    # Heroku-style URLs name the scheme "postgres://"; SQLAlchemy wants a driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    settings["SQLALCHEMY_DATABASE_URI"] = url
    if settings.get("REQUIRE_SECRET_KEY") and not settings.get("SECRET_KEY"):
        raise ConfigurationError(
            "SECRET_KEY is required outside development and tests: set it in the environment "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if settings.get("TELEPHONY") not in TELEPHONY_BACKENDS:
        raise ConfigurationError(
            f"TELEPHONY={settings.get('TELEPHONY')!r} is not one of {', '.join(TELEPHONY_BACKENDS)}"
        )
    if settings["TELEPHONY"] == "twilio" and not (
        settings.get("TWILIO_ACCOUNT_SID") and settings.get("TWILIO_AUTH_TOKEN")
    ):
        raise ConfigurationError("TELEPHONY=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    if any(settings.get(key) for key in BROWSER_PHONE_SETTINGS):
        check_browser_phone_settings(settings)
    settings["PUBLIC_BASE_URL"] = str(settings["PUBLIC_BASE_URL"]).rstrip("/")
    _check_verification(settings)
    return settings


def check_browser_phone_settings(settings: Mapping[str, Any]) -> None:
    """Refuse to start agents' browser phones on Twilio without what their access tokens need.

    Called at start-up when any of these is set, and by the agents' desk when TELEPHONY=twilio.
    """
    missing = [key for key in BROWSER_PHONE_SETTINGS if not settings.get(key)]
    if missing:
        raise ConfigurationError(
            f"the agents' browser phones on Twilio need {', '.join(missing)}: create an API key "
            "(TWILIO_API_KEY_SID, SK..., and its secret) and a TwiML app for the agents' own "
            "calls (TWILIO_TWIML_APP_SID, AP...) in Twilio's console"
        )
    for key, pattern in BROWSER_PHONE_SETTINGS.items():
        if pattern is not None and not pattern.match(str(settings[key])):
            prefix = pattern.pattern[1:3]
            raise ConfigurationError(f"{key} must be a Twilio SID: {prefix} and 32 hex digits")


def _check_verification(settings: dict[str, Any]) -> None:
    ttl, digits = settings.get("APP_CODE_TTL_SECONDS"), settings.get("APP_CODE_DIGITS")
    if not isinstance(ttl, int) or not 30 <= ttl <= APP_CODE_MAX_TTL_SECONDS:
        raise ConfigurationError(
            f"APP_CODE_TTL_SECONDS={ttl!r} must be 30 to {APP_CODE_MAX_TTL_SECONDS}: "
            "an app code lives 10 minutes at most (NIST SP 800-63B)"
        )
    if not isinstance(digits, int) or not 6 <= digits <= 8:
        raise ConfigurationError(f"APP_CODE_DIGITS={digits!r} must be 6, 7 or 8")
    if settings.get("REQUIRE_SECRET_KEY") and not settings.get("VERIFICATION_KEYS"):
        raise ConfigurationError(
            "VERIFICATION_KEYS is required outside development and tests (it encrypts "
            "authenticator secrets): python -c 'import base64, os; "
            "print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        )
    # Whether the keys themselves are well formed is checked by app.verification's init_app,
    # which owns the keyring (configuration sits below every domain).

"""The app as an operator meets it: configuration, health, errors, the OpenAPI document, logs."""

from __future__ import annotations

import json

import pytest

from app import create_app
from app.config import ConfigurationError, from_environment


def test_health_reports_the_database_and_the_telephony_backend(client, database_url):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["database_backend"] == database_url.split(":")[0].split("+")[0]
    assert body["telephony"] == "simulator"
    assert body["worker"] is None  # no worker has beaten yet


def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(from_environment({"APP_ENV": "production"}))


def test_settings_come_from_the_environment():
    settings = from_environment(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": "postgres://u:p@db:5432/cc",
            "API_KEYS": " a, b ,,c ",
            "PUBLIC_BASE_URL": "https://calls.example.com/",
            "TELEPHONY": "twilio",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "token",
            "TWILIO_API_KEY_SID": "SK" + "b" * 32,
            "TWILIO_API_KEY_SECRET": "key-secret",
            "TWILIO_TWIML_APP_SID": "AP" + "c" * 32,
            "VERIFICATION_KEYS": KEY,
        }
    )
    app = create_app(settings)

    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db:5432/cc"
    assert app.config["API_KEYS"] == ("a", "b", "c")
    assert app.config["PUBLIC_BASE_URL"] == "https://calls.example.com"
    assert app.config["TELEPHONY"] == "twilio"
    assert app.config["TWILIO_TWIML_APP_SID"] == "AP" + "c" * 32


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"APP_ENV": "development", "TELEPHONY": "carrier-pigeon"}, "TELEPHONY"),
        ({"APP_ENV": "development", "TELEPHONY": "twilio"}, "TWILIO_ACCOUNT_SID"),
        # The browser phones' settings go together: one alone is a mistake, said at start-up.
        (
            {"APP_ENV": "development", "TWILIO_API_KEY_SID": "SK" + "b" * 32},
            "TWILIO_API_KEY_SECRET",
        ),
        (
            {
                "APP_ENV": "development",
                "TWILIO_API_KEY_SID": "AC" + "b" * 32,
                "TWILIO_API_KEY_SECRET": "secret",
                "TWILIO_TWIML_APP_SID": "AP" + "c" * 32,
            },
            "TWILIO_API_KEY_SID must be a Twilio SID: SK",
        ),
        ({"APP_ENV": "development", "WORKER_HEARTBEAT_SECONDS": "often"}, "WORKER_HEARTBEAT"),
        # An app code lives 10 minutes at most (NIST SP 800-63B): configurable down, never up.
        ({"APP_ENV": "development", "APP_CODE_TTL_SECONDS": "601"}, "APP_CODE_TTL_SECONDS"),
        ({"APP_ENV": "development", "APP_CODE_TTL_SECONDS": "ten"}, "APP_CODE_TTL_SECONDS"),
        ({"APP_ENV": "development", "APP_CODE_DIGITS": "4"}, "APP_CODE_DIGITS"),
        ({"APP_ENV": "development", "VERIFICATION_KEYS": "c2hvcnQ="}, "32 bytes"),
        ({"APP_ENV": "development", "VERIFICATION_KEYS": "%%%"}, "base64"),
        ({"APP_ENV": "production", "SECRET_KEY": "s" * 40}, "VERIFICATION_KEYS"),
    ],
)
def test_wrong_settings_are_refused_with_a_message_naming_them(environ, message):
    with pytest.raises(ConfigurationError, match=message):
        create_app(from_environment(environ))


def test_every_variable_the_app_reads_is_documented_in_env_example():
    from pathlib import Path

    from app.config import ENVIRONMENT_VARIABLES

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    documented = {line.split("=")[0] for line in example.splitlines() if "=" in line}
    assert set(ENVIRONMENT_VARIABLES) <= documented


def test_the_openapi_document_is_generated_from_the_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert spec["openapi"].startswith("3.")
    customers = spec["paths"]["/api/v1/customers"]["post"]
    assert customers["security"] == [{"bearerAuth": []}]
    assert "201" in customers["responses"]
    assert {"external_id", "phone"} <= set(
        spec["components"]["schemas"]["CustomerCreate"]["required"]
    )
    assert "delete" in spec["paths"]["/api/v1/official-numbers/{phone}"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/api/v1/no-such-thing", 404), ("put", "/api/v1/customers", 405)],
)
def test_http_errors_have_the_json_error_shape(client, method, path, status):
    response = getattr(client, method)(path)

    assert response.status_code == status
    assert set(response.get_json()["error"]) == {"code", "message", "field"}


def test_requests_are_logged_as_json_without_their_query_string(api, capfd):
    api.get("/api/v1/customers", query_string={"external_id": "secret-123"})

    lines = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    request_lines = [line for line in lines if line.get("msg") == "request"]
    assert request_lines[-1]["path"] == "/api/v1/customers"
    assert request_lines[-1]["status"] == 404
    assert "request_id" in request_lines[-1]
    assert not any("secret-123" in json.dumps(line) for line in lines)


def test_the_request_log_masks_a_persons_number_and_a_links_secret_in_the_path(api, capfd):
    api.post("/api/v1/do-not-call", json={"phone": "+39 333 123 4567"})
    removed = api.delete("/api/v1/do-not-call/+393331234567")
    link = api.client.get("/satisfaction/s3cr3t-t0ken-for-one-person")

    lines = [
        json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")
    ]
    paths = [(line["path"], line["status"]) for line in lines if line.get("msg") == "request"]
    assert ("/api/v1/do-not-call/***", removed.status_code) in paths
    assert ("/satisfaction/***", link.status_code) in paths
    logged = json.dumps(lines)
    assert "3331234567" not in logged and "s3cr3t-t0ken" not in logged


def test_a_request_id_is_echoed_or_made_up(client):
    given = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    invented = client.get("/healthz", headers={"X-Request-Id": "<script>"})

    assert given.headers["X-Request-Id"] == "abc-123"
    assert len(invented.headers["X-Request-Id"]) == 32

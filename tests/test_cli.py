"""Operator commands: API keys and demo data."""

from __future__ import annotations

from app.apikeys.models import ApiKey
from app.customers.models import Customer
from app.numbers.models import OfficialNumber
from tests.support import ApiClient, count_rows


def test_an_operator_creates_lists_and_revokes_a_key(app, client):
    runner = app.test_cli_runner()

    created = runner.invoke(args=["api-keys", "create", "core-banking"])
    key = created.stdout.strip().splitlines()[0]
    listed = runner.invoke(args=["api-keys", "list"])

    assert created.exit_code == 0
    assert "core-banking" in listed.output
    assert ApiClient(client, key).get("/api/v1/official-numbers").status_code == 200

    revoked = runner.invoke(args=["api-keys", "revoke", key[:10]])

    assert revoked.exit_code == 0
    assert ApiClient(client, key).get("/api/v1/official-numbers").status_code == 401


def test_revoking_an_unknown_key_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["api-keys", "revoke", "cc_nothing"])

    assert result.exit_code == 1
    assert "no API key starts with 'cc_nothing'" in result.output
    assert count_rows(app, ApiKey) == 0


def test_demo_data_can_be_seeded_twice(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])

    assert "5 official numbers and 4 customers added" in first.output
    assert "0 official numbers and 0 customers added" in second.output
    assert count_rows(app, Customer) == 4
    assert count_rows(app, OfficialNumber) == 5

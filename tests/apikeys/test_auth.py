"""Integrator routes need a valid API key; keys from the environment or the CLI both work."""

from __future__ import annotations

import pytest

from app.apikeys.service import create_api_key, revoke_api_key
from app.audit.service import Actor
from app.customers.models import Customer
from app.extensions import db
from tests.support import ApiClient, count_rows

BODY = {"external_id": "c-1", "phone": "+48601234567"}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer wrong-key"}, "invalid_api_key"),
        ({"Authorization": "Basic dGVzdDp0ZXN0"}, "invalid_api_key"),
        ({"Authorization": "Bearer "}, "invalid_api_key"),
    ],
)
def test_without_a_valid_key_integrator_routes_answer_401_and_write_nothing(
    client, app, headers, code
):
    for method, path in [
        ("post", "/api/v1/customers"),
        ("post", "/api/v1/official-numbers"),
        ("get", "/api/v1/audit-events"),
    ]:
        response = getattr(client, method)(path, json=BODY, headers=headers)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == code
        assert response.get_json()["error"]["field"] == "Authorization"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count_rows(app, Customer) == 0


def test_a_key_created_by_an_operator_works_until_revoked(client, app):
    with app.app_context():
        key, plaintext = create_api_key(db.session, actor=Actor("cli:test"), name="core-banking")
        db.session.commit()
        prefix = key.prefix
    api = ApiClient(client, key=plaintext)

    assert api.post("/api/v1/customers", json=BODY).status_code == 201

    with app.app_context():
        revoke_api_key(db.session, actor=Actor("cli:test"), prefix=prefix)
        db.session.commit()

    assert api.get("/api/v1/customers", query_string={"external_id": "c-1"}).status_code == 401


def test_the_key_is_never_stored_in_clear(app):
    with app.app_context():
        key, plaintext = create_api_key(db.session, actor=Actor("cli:test"), name="core")
        db.session.commit()
        assert plaintext not in key.key_hash
        assert plaintext.startswith(key.prefix)
        assert len(plaintext) >= 40

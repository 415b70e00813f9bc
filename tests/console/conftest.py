"""Console fixtures: staff accounts in each role, and a signed-in browser-like client."""

from __future__ import annotations

import re

import pytest

from app.audit.service import Actor
from app.extensions import db
from app.staff.models import Role
from app.staff.service import create_staff

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(app):
    with app.app_context():
        for role in Role:
            create_staff(
                db.session,
                email=f"{role.value}@bank.example",
                name=role.value.title(),
                role=role,
                password=PASSWORD,
                actor=Actor("test"),
            )
        db.session.commit()


def token(client, path="/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(app, role: str):
    client = app.test_client()
    response = client.post(
        "/console/login",
        data={"email": f"{role}@bank.example", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = token(client, "/console/")
    return client


@pytest.fixture
def supervisor(app, accounts):
    return sign_in(app, "supervisor")

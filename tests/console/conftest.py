"""Console fixtures: staff accounts in each role, and a signed-in browser-like client."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import clock
from app.audit.service import Actor
from app.extensions import db
from app.staff import second_factor
from app.staff.models import Role, StaffUser
from app.staff.service import create_staff
from app.verification.checker import keyring_for

PASSWORD = "correct horse battery"
#: The authenticator secret (base32) of each account that has one, by email: the tests' "phone".
SECRETS: dict[str, str] = {}


def enrol(app, email: str) -> str:
    """Give the account a second factor as its owner would (the app's first code confirms it)."""
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        keys = keyring_for(app)
        secret = second_factor.pending_secret(db.session(), user, keys=keys)
        second_factor.confirm_enrolment(
            db.session(),
            user,
            second_factor.code_at(secret, clock.now()),
            keys=keys,
            now=clock.now(),
            actor=Actor("test"),
        )
        db.session.commit()
    SECRETS[email] = secret
    return secret


@pytest.fixture
def accounts(app):
    """One account per role; the supervisor has a second factor (their role requires one)."""
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
    enrol(app, "supervisor@bank.example")


def token(client, path="/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def current_code(app, email: str) -> str:
    """The code the account's authenticator shows now.

    A code works once per 30-second step, but tests sign the same person in on several
    clients within one step: the account forgets the step it last accepted, as if the next
    step had come.
    """
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        user.totp_last_step = None
        db.session.commit()
        return second_factor.code_at(SECRETS[email], clock.now())


def sign_in(app, role: str):
    client = app.test_client()
    email = f"{role}@bank.example"
    response = client.post(
        "/console/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].endswith("/console/login/enrol"):
        # An account made without one whose role requires it: enrol it, then sign in again.
        enrol(app, email)
        return sign_in(app, role)
    if response.headers["Location"].endswith("/console/login/code"):
        response = client.post(
            "/console/login/code",
            data={
                "code": current_code(app, email),
                "csrf_token": token(client, "/console/login/code"),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = token(client, "/console/")
    return client


@pytest.fixture
def supervisor(app, accounts):
    return sign_in(app, "supervisor")


def pass_second_step(page, app, email: str) -> None:
    """In a browser, after the password: type the code the account's authenticator shows."""
    page.locator("#code").fill(current_code(app, email))
    page.locator("form button[type=submit]").click()


def sign_in_in_a_browser(page, app, served: str, email: str) -> None:
    """Sign in on the console's page as a person does: the password, then, for an account with a
    second factor (a supervisor's), the code its authenticator shows."""
    page.goto(f"{served}/console/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    if "/console/login/code" in page.url:
        pass_second_step(page, app, email)
    page.wait_for_url(f"{served}/console/")

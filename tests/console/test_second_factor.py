"""A second factor for every staff account: an authenticator app enrolled by a QR code, codes
that work once, recovery codes, and a sign-in in two steps (required for supervisors)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import clock
from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.extensions import db
from app.staff import second_factor
from app.staff.models import RecoveryCode, Role, StaffUser
from app.staff.service import create_staff
from app.verification.checker import keyring_for
from tests.console.conftest import PASSWORD, SECRETS, current_code, enrol, sign_in, token

pytestmark = pytest.mark.usefixtures("accounts")


def password_step(app, email: str):
    client = app.test_client()
    response = client.post(
        "/console/login", data={"email": email, "password": PASSWORD, "csrf_token": token(client)}
    )
    return client, response


def send_code(client, code: str, path: str = "/console/login/code"):
    return client.post(path, data={"code": code, "csrf_token": token(client, path)})


def secret_on(page: str) -> str:
    """The key the enrolment page shows as text, for people who cannot scan the QR code."""
    return re.search(r'data-testid="secret" class="secret">([A-Z2-7 ]+)<', page).group(1)


def user(app, email: str) -> StaffUser:
    with app.app_context():
        found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        db.session.expunge(found)
        return found


def new_supervisor(app, email: str = "boss@bank.example") -> None:
    with app.app_context():
        create_staff(
            db.session, email=email, name="Boss", role=Role.SUPERVISOR, password=PASSWORD,
            actor=Actor("test"),
        )  # fmt: skip
        db.session.commit()


def test_a_supervisor_without_a_second_factor_enrols_before_anything_else(app):
    new_supervisor(app)
    client, response = password_step(app, "boss@bank.example")

    assert response.headers["Location"].endswith("/console/login/enrol")
    assert client.get("/console/").headers["Location"].startswith("/console/login")  # not in yet
    page = client.get("/console/login/enrol").get_data(as_text=True)
    assert "<svg" in page and "Set up a second factor" in page
    secret = secret_on(page).replace(" ", "")

    wrong = send_code(client, "000000", "/console/login/enrol")
    assert wrong.status_code == 422 and "not the code your app shows" in wrong.get_data(
        as_text=True
    )
    with app.app_context():
        code = second_factor.code_at(secret, clock.now())
    done = send_code(client, code, "/console/login/enrol")

    assert done.status_code == 200
    codes = re.findall(
        r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/console/").status_code == 200  # signed in now
    stored = user(app, "boss@bank.example")
    assert stored.totp_enrolled_at is not None
    assert secret not in (stored.totp_secret or "") and stored.totp_pending_secret is None
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.digest)).all()
        assert not any(code.replace("-", "") in digest for code in codes for digest in hashes)
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "staff.second_factor_enrolled" in actions


def test_the_second_step_takes_the_apps_code_once(app):
    client, response = password_step(app, "supervisor@bank.example")
    assert response.headers["Location"].endswith("/console/login/code")
    assert client.get("/console/").status_code == 302  # the password alone does not sign in

    wrong = send_code(client, "123456")
    assert wrong.status_code == 401
    assert "not right, or was used already" in wrong.get_data(as_text=True)
    code = current_code(app, "supervisor@bank.example")
    assert send_code(client, code).status_code == 302
    assert client.get("/console/").status_code == 200

    # The same code, seen over a shoulder, does not open a second session.
    other, _ = password_step(app, "supervisor@bank.example")
    assert send_code(other, code).status_code == 401
    with app.app_context():
        failures = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "console.sign_in_failed")
        ).all()
        assert [event.changes["reason"] for event in failures] == ["code", "code"]


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(app):
    enrol(app, "agent@bank.example")
    with app.app_context():
        me = db.session.scalar(select(StaffUser).where(StaffUser.email == "agent@bank.example"))
        codes = second_factor.new_recovery_codes(
            db.session(), me, keys=keyring_for(app), now=clock.now(), actor=Actor("test")
        )
        db.session.commit()

    client, _ = password_step(app, "agent@bank.example")
    response = send_code(client, codes[0].upper())  # typed in capitals: still the code
    assert response.status_code == 302
    assert "Recovery codes left: 9." in client.get("/console/").get_data(as_text=True)

    again, _ = password_step(app, "agent@bank.example")
    assert send_code(again, codes[0]).status_code == 401


def test_codes_are_attempt_limited(app):
    client, _ = password_step(app, "supervisor@bank.example")
    for _ in range(5):
        assert send_code(client, "000000").status_code == 401

    blocked = send_code(client, current_code(app, "supervisor@bank.example"))

    assert blocked.status_code == 429 and "Too many attempts" in blocked.get_data(as_text=True)


def test_agents_are_asked_and_enrol_from_their_settings(app):
    agent, response = password_step(app, "agent@bank.example")

    # No second factor: the password is enough for their role, and they are asked to add one.
    assert response.headers["Location"].endswith("/console/")
    assert "Protect your account with a second factor" in agent.get("/console/").get_data(
        as_text=True
    )
    page = agent.get("/console/me/second-factor").get_data(as_text=True)
    secret = secret_on(page).replace(" ", "")
    with app.app_context():
        code = second_factor.code_at(secret, clock.now())

    done = send_code(agent, code, "/console/me/second-factor")

    assert done.status_code == 200 and "Your recovery codes" in done.get_data(as_text=True)
    SECRETS["agent@bank.example"] = secret
    _, response = password_step(app, "agent@bank.example")
    assert response.headers["Location"].endswith("/console/login/code")  # asked from now on


def test_everyone_must_enrol_when_configured_so(app):
    app.config["STAFF_2FA_REQUIRED_FOR"] = "all"

    _, response = password_step(app, "auditor@bank.example")

    assert response.headers["Location"].endswith("/console/login/enrol")


def test_the_second_step_must_follow_the_password_soon(app, monkeypatch):
    import app.staff.auth as auth

    client, _ = password_step(app, "supervisor@bank.example")
    later = auth.time.time() + auth.SECOND_STEP_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)

    response = client.post(
        "/console/login/code", data={"code": "123456", "csrf_token": token(client)}
    )

    assert response.status_code == 302 and response.headers["Location"].endswith("/console/login")


def test_new_recovery_codes_need_a_code_and_replace_the_old(app):
    client = sign_in(app, "supervisor")
    refused = send_code(client, "000000", "/console/me/second-factor")
    assert refused.status_code == 422

    made = send_code(
        client, current_code(app, "supervisor@bank.example"), "/console/me/second-factor"
    )

    assert made.status_code == 200
    with app.app_context():
        assert db.session.query(RecoveryCode).count() == 10

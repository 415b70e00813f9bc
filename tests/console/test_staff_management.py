"""Supervisors deactivate and reactivate accounts, change roles and hand over password-reset
links, each behind a confirmation page and audited; everyone changes their own password and
sees their sign-ins."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.staff.models import PasswordReset, Role, StaffUser
from tests.console.conftest import PASSWORD, sign_in, token

pytestmark = pytest.mark.usefixtures("accounts")
NEW_PASSWORD = "a much longer new password"


def account_id(app, email: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)))


def account(app, email: str) -> StaffUser:
    with app.app_context():
        found = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        db.session.expunge(found)
        return found


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def can_sign_in(app, email: str, password: str = PASSWORD) -> bool:
    client = app.test_client()
    response = client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": token(client)}
    )
    return response.status_code == 302


def test_deactivating_asks_first_then_ends_the_sessions_and_reactivating_undoes_it(app, supervisor):
    agent = sign_in(app, "agent")
    path = f"/console/staff/{account_id(app, 'agent@bank.example')}/deactivate"

    question = supervisor.get(path).get_data(as_text=True)
    assert "Deactivate Agent?" in question and "every session they have open ends" in question
    assert account(app, "agent@bank.example").active  # asking changed nothing

    done = supervisor.post(path, data={"csrf_token": supervisor.csrf}, follow_redirects=True)

    assert "Agent can no longer sign in; their sessions ended." in done.get_data(as_text=True)
    assert agent.get("/console/").headers["Location"].startswith("/console/login")
    assert not can_sign_in(app, "agent@bank.example")
    assert "staff.disabled" in actions(app)

    path = path.replace("deactivate", "reactivate")
    supervisor.post(path, data={"csrf_token": supervisor.csrf})
    assert can_sign_in(app, "agent@bank.example") and "staff.enabled" in actions(app)


def test_the_last_active_supervisor_cannot_deactivate_or_demote_themselves(app, supervisor):
    me = account_id(app, "supervisor@bank.example")

    out = supervisor.post(f"/console/staff/{me}/deactivate", data={"csrf_token": supervisor.csrf})
    demoted = supervisor.post(
        f"/console/staff/{me}/role", data={"role": "agent", "csrf_token": supervisor.csrf}
    )

    for answer in (out, demoted):
        assert answer.status_code == 409
        assert "This is the last active supervisor" in answer.get_data(as_text=True)
    assert account(app, "supervisor@bank.example").role is Role.SUPERVISOR
    assert account(app, "supervisor@bank.example").active


def test_a_role_change_is_confirmed_audited_and_ends_their_sessions(app, supervisor):
    agent = sign_in(app, "agent")
    path = f"/console/staff/{account_id(app, 'agent@bank.example')}/role"
    assert 'name="role"' in supervisor.get(path).get_data(as_text=True)

    done = supervisor.post(
        path, data={"role": "auditor", "csrf_token": supervisor.csrf}, follow_redirects=True
    )

    assert "Agent is now: Auditor." in done.get_data(as_text=True)
    assert account(app, "agent@bank.example").role is Role.AUDITOR
    assert agent.get("/console/").status_code == 302
    assert "staff.role_changed" in actions(app)
    bad = supervisor.post(path, data={"role": "king", "csrf_token": supervisor.csrf})
    assert bad.status_code == 422
    assert supervisor.get(path.replace("/role", "/promote")).status_code == 404


def test_a_password_reset_link_is_shown_once_and_works_once_within_a_day(app, supervisor, clock):
    agent = sign_in(app, "agent")
    path = f"/console/staff/{account_id(app, 'agent@bank.example')}/reset-password"
    assert "Make the link" in supervisor.get(path).get_data(as_text=True)

    page = supervisor.post(path, data={"csrf_token": supervisor.csrf}).get_data(as_text=True)

    link = re.search(r'value="(http[^"]+/console/reset-password\?token=[^"]+)"', page).group(1)
    token_value = link.split("token=")[1]
    assert "Nothing was emailed." in page
    with app.app_context():
        stored = db.session.scalars(select(PasswordReset.token_hash)).all()
        assert stored and token_value not in stored  # only its hash is kept
    stranger = app.test_client()
    form = stranger.get(f"/console/reset-password?token={token_value}")
    assert form.status_code == 200
    short = stranger.post(
        "/console/reset-password",
        data={"token": token_value, "new_password": "short", "repeat": "short",
              "csrf_token": token(stranger, f"/console/reset-password?token={token_value}")},
    )  # fmt: skip
    assert short.status_code == 422 and "At least 12 characters" in short.get_data(as_text=True)

    done = stranger.post(
        "/console/reset-password",
        data={"token": token_value, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD,
              "csrf_token": token(stranger, f"/console/reset-password?token={token_value}")},
    )  # fmt: skip

    assert done.status_code == 302
    assert can_sign_in(app, "agent@bank.example", NEW_PASSWORD)
    assert not can_sign_in(app, "agent@bank.example", PASSWORD)
    assert agent.get("/console/").status_code == 302  # their old sessions ended
    assert stranger.get(f"/console/reset-password?token={token_value}").status_code == 410
    assert {"staff.password_reset_issued", "staff.password_reset"} <= set(actions(app))

    # A link not used within 24 hours stops working.
    page = supervisor.post(path, data={"csrf_token": supervisor.csrf}).get_data(as_text=True)
    late = re.search(r"token=([^\"&]+)\"", page).group(1)
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    assert app.test_client().get(f"/console/reset-password?token={late}").status_code == 410


def test_everyone_changes_their_own_password_with_the_current_one(app):
    auditor, other = sign_in(app, "auditor"), sign_in(app, "auditor")
    form = {"csrf_token": auditor.csrf, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD}

    wrong = auditor.post("/console/me/password", data={**form, "current_password": "guess"})
    assert wrong.status_code == 422
    assert 'id="current_password_error"' in wrong.get_data(as_text=True)
    differ = auditor.post(
        "/console/me/password", data={**form, "current_password": PASSWORD, "repeat": "other"}
    )
    assert differ.status_code == 422 and "The two passwords differ" in differ.get_data(as_text=True)

    done = auditor.post(
        "/console/me/password", data={**form, "current_password": PASSWORD}, follow_redirects=True
    )

    assert "Your password is changed" in done.get_data(as_text=True)
    assert auditor.get("/console/").status_code == 200  # this session stays
    assert other.get("/console/").status_code == 302  # the others end
    assert can_sign_in(app, "auditor@bank.example", NEW_PASSWORD)
    assert "staff.password_changed" in actions(app)


def test_sign_ins_failures_and_sign_outs_are_shown_to_the_person_and_supervisors(app, supervisor):
    assert not can_sign_in(app, "agent@bank.example", "wrong password!")
    agent = sign_in(app, "agent")
    agent.post("/console/logout", data={"csrf_token": agent.csrf})
    agent = sign_in(app, "agent")

    mine = agent.get("/console/me").get_data(as_text=True)
    theirs = supervisor.get(f"/console/staff/{account_id(app, 'agent@bank.example')}").get_data(
        as_text=True
    )

    for page in (mine, theirs):
        history = page[page.index('data-testid="sign-ins"') :]
        assert history.count("Signed in") == 2 and "Sign-in failed" in history
        assert "Wrong password" in history and "Password only" in history
        assert history.count("Signed out") >= 1
    assert agent.get(f"/console/staff/{account_id(app, 'agent@bank.example')}").status_code == 403


def test_a_lost_phone_is_reset_by_a_supervisor(app, supervisor):
    from tests.console.conftest import enrol

    enrol(app, "agent@bank.example")
    path = f"/console/staff/{account_id(app, 'agent@bank.example')}/reset-second-factor"
    assert "Reset the second factor of Agent?" in supervisor.get(path).get_data(as_text=True)

    supervisor.post(path, data={"csrf_token": supervisor.csrf})

    assert account(app, "agent@bank.example").totp_secret is None
    assert "staff.second_factor_reset" in actions(app)


def test_an_operator_resets_the_only_supervisors_second_factor_at_the_command_line(app):
    result = app.test_cli_runner().invoke(
        args=["staff", "reset-second-factor", "Supervisor@bank.example"]
    )

    assert result.exit_code == 0, result.output
    assert "second factor removed" in result.output
    assert account(app, "supervisor@bank.example").totp_secret is None
    client = app.test_client()
    response = client.post(
        "/console/login",
        data={"email": "supervisor@bank.example", "password": PASSWORD,
              "csrf_token": token(client)},
    )  # fmt: skip
    assert response.headers["Location"].endswith("/console/login/enrol")
    unknown = app.test_cli_runner().invoke(args=["staff", "reset-second-factor", "x@y.example"])
    assert unknown.exit_code != 0 and "no staff account" in unknown.output


def test_guessing_the_current_password_from_a_session_is_limited(app):
    agent = sign_in(app, "agent")
    form = {"csrf_token": agent.csrf, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    for guess in range(5):
        answer = agent.post("/console/me/password", data={**form, "current_password": f"g{guess}"})
        assert answer.status_code == 422

    blocked = agent.post("/console/me/password", data={**form, "current_password": PASSWORD})

    assert blocked.status_code == 429 and "Too many attempts" in blocked.get_data(as_text=True)
    assert can_sign_in(app, "agent@bank.example", PASSWORD)  # unchanged


def test_with_smtp_configured_the_reset_link_is_emailed_too(app, supervisor, monkeypatch):
    import app.console.staff as staff_screen

    sent = []
    app.config["SMTP_URL"] = "smtp://mail.bank.example:587"
    monkeypatch.setattr(staff_screen, "send_email", lambda *args: sent.append(args))
    path = f"/console/staff/{account_id(app, 'agent@bank.example')}/reset-password"

    page = supervisor.post(path, data={"csrf_token": supervisor.csrf}).get_data(as_text=True)

    assert "It was also emailed to agent@bank.example." in page
    smtp_url, _, to, subject, body = sent[0]
    link = re.search(r'value="(http[^"]+)"', page).group(1).replace("&amp;", "&")
    assert smtp_url == "smtp://mail.bank.example:587" and to == "agent@bank.example"
    assert "new password" in subject and link in body and "24 hours" in body


def test_an_action_with_nothing_to_do_says_so_and_changes_nothing(app, supervisor):
    agent_id = account_id(app, "agent@bank.example")  # active, with no second factor
    before = actions(app)

    reactivate = supervisor.get(f"/console/staff/{agent_id}/reactivate", follow_redirects=True)
    reset = supervisor.post(
        f"/console/staff/{agent_id}/reset-second-factor",
        data={"csrf_token": supervisor.csrf},
        follow_redirects=True,
    )

    assert "Agent can already sign in." in reactivate.get_data(as_text=True)
    assert "Agent has no second factor to remove." in reset.get_data(as_text=True)
    assert actions(app) == before  # nothing audited: nothing happened

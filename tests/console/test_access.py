"""Staff access: argon2 hashes, roles, CSRF on every form, sign-in limits, expiring sessions."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import PASSWORD, sign_in, token

pytestmark = pytest.mark.usefixtures("accounts")


def test_passwords_are_stored_as_argon2id_hashes(app):
    with app.app_context():
        user = db.session.query(StaffUser).filter_by(email="agent@bank.example").one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_the_console_needs_a_signed_in_account(client):
    response = client.get("/console/")

    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client):
    wrong = client.post(
        "/console/login",
        data={"email": "agent@bank.example", "password": "nope", "csrf_token": token(client)},
    )
    unknown = client.post(
        "/console/login",
        data={"email": "who@bank.example", "password": "nope", "csrf_token": token(client)},
    )

    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.get_data(as_text=True)


def test_signing_in_is_rate_limited_per_account(app):
    client = app.test_client()
    answers = [
        client.post(
            "/console/login",
            data={"email": "agent@bank.example", "password": "guess", "csrf_token": token(client)},
        ).status_code
        for _ in range(6)
    ]
    blocked = client.post(
        "/console/login",
        data={"email": "agent@bank.example", "password": PASSWORD, "csrf_token": token(client)},
    )

    assert answers == [401] * 5 + [429]
    assert blocked.status_code == 429  # even the right password waits


def test_a_form_without_the_csrf_token_is_refused(app):
    client = sign_in(app, "supervisor")

    missing = client.post("/console/staff", data={"email": "x@bank.example", "role": "agent"})
    forged = client.post("/console/campaigns/new", data={"name": "x", "csrf_token": "forged"})
    login_without = app.test_client().post(
        "/console/login", data={"email": "agent@bank.example", "password": PASSWORD}
    )

    assert missing.status_code == forged.status_code == login_without.status_code == 400
    with app.app_context():
        assert db.session.query(StaffUser).filter_by(email="x@bank.example").count() == 0


@pytest.mark.parametrize(
    ("role", "path", "data", "status"),
    [
        ("agent", "/console/campaigns/new", {"name": "x"}, 403),
        ("auditor", "/console/campaigns/new", {"name": "x"}, 403),
        ("auditor", "/console/staff", {"email": "y@bank.example"}, 403),
        ("auditor", "/console/numbers", {"phone": "+14155550177"}, 403),
        ("auditor", "/console/do-not-call", {"phone": "+393331234567"}, 403),
        ("agent", "/console/do-not-call", {"phone": "+393331234567"}, 403),
        ("auditor", "/console/fraud", {"reference": "RPT-2222-2222"}, 403),
    ],
)
def test_roles_decide_who_changes_what(app, role, path, data, status):
    client = sign_in(app, role)

    response = client.post(path, data={**data, "csrf_token": client.csrf})

    assert response.status_code == status


@pytest.mark.parametrize("role", ["supervisor", "agent", "auditor"])
def test_every_role_reads_every_screen(app, role):
    client = sign_in(app, role)

    for path in (
        "/console/",
        "/console/live",
        "/console/campaigns",
        "/console/callbacks",
        "/console/complaints",
        "/console/fraud",
        "/console/numbers",
        "/console/do-not-call",
        "/console/staff",
        "/console/audit",
        "/console/audit.csv",
    ):
        assert client.get(path).status_code == 200, path


def test_an_idle_session_expires(app, monkeypatch):
    client = sign_in(app, "auditor")
    assert client.get("/console/").status_code == 200

    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)

    assert client.get("/console/").status_code == 302


def test_signing_out_revokes_every_copy_of_the_session(app):
    client = sign_in(app, "auditor")
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/console/").status_code == 200  # a copied cookie works while signed in

    client.post("/console/logout", data={"csrf_token": client.csrf})

    assert client.get("/console/").status_code == 302
    assert copy.get("/console/").status_code == 302
    assert copy.get("/console/live").status_code == 302
    with app.app_context():
        from app.audit.models import AuditEvent

        actions = db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.action.startswith("console."))
        ).all()
    assert actions == ["console.signed_in", "console.signed_out"]


def test_the_dashboards_refresh_does_not_keep_a_session_alive(app, monkeypatch):
    client = sign_in(app, "auditor")
    start = time.time()

    monkeypatch.setattr(time, "time", lambda: start + 20 * 60)
    assert client.get("/console/live").status_code == 200  # the dashboard polls
    monkeypatch.setattr(time, "time", lambda: start + 29 * 60)
    assert client.get("/console/live").status_code == 200

    monkeypatch.setattr(time, "time", lambda: start + 31 * 60)
    assert client.get("/console/live").status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_person_using_the_console_stays_signed_in(app, monkeypatch):
    client = sign_in(app, "auditor")
    start = time.time()

    monkeypatch.setattr(time, "time", lambda: start + 20 * 60)
    assert client.get("/console/").status_code == 200  # a person clicks
    monkeypatch.setattr(time, "time", lambda: start + 45 * 60)

    assert client.get("/console/").status_code == 200


def test_the_first_supervisor_is_made_at_the_command_line(app):
    result = app.test_cli_runner().invoke(
        args=["staff", "create", "boss@bank.example", "--name", "Boss", "--password-stdin"],
        input="a long enough password\n",
    )
    short = app.test_cli_runner().invoke(
        args=["staff", "create", "b2@bank.example", "--password-stdin"], input="short\n"
    )

    assert result.exit_code == 0 and "created supervisor boss@bank.example" in result.output
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    sign_in(app, "supervisor")  # (the fixture's supervisor still works)


def test_the_audit_log_exports_as_csv(app):
    client = sign_in(app, "auditor")

    response = client.get("/console/audit.csv?action=staff.created")

    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("id,at,actor,action")
    assert len(lines) == 4 and all(",staff.created," in line for line in lines[1:])


def test_the_audit_csv_never_hands_a_spreadsheet_a_formula(app):
    from app.audit.service import Actor, record

    with app.app_context():
        record(
            db.session,
            actor=Actor("@SUM(1+1)"),
            action="callback.created",
            subject_type="callback",
            subject_id='=HYPERLINK("http://evil.example","click")',
            changes={"note": "+1 415 555 0100"},
        )
        db.session.commit()
    client = sign_in(app, "auditor")

    import csv
    import io

    rows = list(
        csv.DictReader(io.StringIO(client.get("/console/audit.csv").get_data(as_text=True)))
    )
    row = next(r for r in rows if r["action"] == "callback.created")

    assert row["subject_id"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["actor"] == "'@SUM(1+1)"
    assert not any(value[:1] in "=+-@" for r in rows for value in r.values() if value)


def test_a_complaints_markup_is_shown_as_text_in_the_console(app, client):
    reference = client.post(
        "/api/v1/complaints",
        json={"phone": "+39 333 123 4567", "text": "<script>alert('x')</script> hello"},
    ).get_json()["reference"]
    agent = sign_in(app, "agent")

    page = agent.get(f"/console/complaints/{reference}").get_data(as_text=True)

    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; hello" in page
    assert "<script>alert('x')</script>" not in page


def test_supervisors_see_the_recurring_problems(app, client):
    for text in ("Charged me twice for coffee", "Charged me twice again"):
        client.post(
            "/api/v1/complaints",
            json={"phone": "+39 333 123 4567", "text": text, "category": "payments"},
        )
    page = sign_in(app, "supervisor").get("/console/complaints").get_data(as_text=True)

    assert "<td>charged me twice</td><td>2</td>" in page

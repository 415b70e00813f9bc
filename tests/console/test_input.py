"""The console refuses bad filters and control characters with a page saying why, never a 5xx."""

from __future__ import annotations

import pytest

from app.audit.models import AuditEvent
from app.complaints.models import ComplaintNote
from app.extensions import db
from tests.console.conftest import PASSWORD, sign_in, token
from tests.support import count_rows


@pytest.fixture
def complaint_reference(client) -> str:
    return client.post(
        "/api/v1/complaints", json={"phone": "+39 333 123 4567", "text": "Charged twice"}
    ).get_json()["reference"]


BAD_FILTERS = [
    (
        "/console/callbacks?status=bogus",
        "status: one of Waiting to be called, About to be dialled, On a call, Finished",
    ),
    ("/console/complaints?status=bogus", "status: one of New, Acknowledged, Being handled"),
    ("/console/audit?limit=-1", "limit: a whole number, 1 to 10000"),
    ("/console/audit.csv?limit=lots", "limit: a whole number, 1 to 10000"),
    ("/console/callbacks?q=cust%00", "q: control characters"),
    ("/console/audit?actor=%1B", "actor: control characters"),
    ("/console/complaints/C-%00", "reference: control characters"),
]


def test_bad_filters_get_a_page_saying_why_and_good_ones_still_filter(app, accounts):
    auditor = sign_in(app, "auditor")

    for path, message in BAD_FILTERS:
        response = auditor.get(path)
        assert (response.status_code, response.mimetype) == (422, "text/html"), path
        assert message in response.get_data(as_text=True), path
    assert auditor.get("/console/callbacks?status=queued").status_code == 200
    assert auditor.get("/console/audit?limit=10").status_code == 200


def test_a_note_keeps_its_line_breaks_and_refuses_other_controls(
    app, accounts, complaint_reference
):
    agent = sign_in(app, "agent")
    path = f"/console/complaints/{complaint_reference}"

    refused = agent.post(path, data={"note": "called\x00back", "csrf_token": agent.csrf})
    saved = agent.post(path, data={"note": "Called back.\nWaiting.", "csrf_token": agent.csrf})

    assert refused.status_code == 422
    assert "note: control characters other than tabs and line breaks" in refused.get_data(
        as_text=True
    )
    assert saved.status_code == 302
    with app.app_context():
        assert [n.text for n in db.session.query(ComplaintNote)] == ["Called back.\nWaiting."]


def test_an_unknown_status_in_a_form_is_refused_and_changes_nothing(
    app, accounts, complaint_reference
):
    agent = sign_in(app, "agent")
    path = f"/console/complaints/{complaint_reference}"

    response = agent.post(path, data={"status": "bogus", "csrf_token": agent.csrf})

    assert response.status_code == 302
    assert "status: one of New, Acknowledged" in agent.get(path).get_data(as_text=True)
    with app.app_context():
        changed = db.session.query(AuditEvent).filter_by(action="complaint.updated").count()
        assert changed == 0


def test_a_sign_in_with_a_control_character_or_a_foreign_token_is_refused(app, accounts):
    client = app.test_client()
    csrf = token(client)
    audited = count_rows(app, AuditEvent)

    unprintable = client.post(
        "/console/login",
        data={"email": "agent@bank.example\x00", "password": PASSWORD, "csrf_token": csrf},
    )
    foreign = client.post("/console/logout", headers={"X-CSRF-Token": "jeton-forgé"}, data={})

    assert unprintable.status_code == 422
    assert "email: control characters" in unprintable.get_data(as_text=True)
    assert foreign.status_code == 400
    assert count_rows(app, AuditEvent) == audited

"""A complainant may ask to be called back about their complaint (the API and the page): the
complaint's team calls them, as it does for a complaint the phone line filed without a message.

Filing never rings anyone: the API and the page are public, and must not make us call whatever
number someone typed. The team places the call from the complaint's page in the console: our
verified call for a customer, a phone for anyone else (test_call_back_from_console.py).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.callbacks.models import Callback
from app.complaints.models import Complaint
from app.extensions import db
from tests.console.conftest import accounts, sign_in  # noqa: F401 (a fixture)
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("lines", "clock")

PHONE = "+39 333 123 4567"


def kept(app) -> list[tuple[str, bool]]:
    with app.app_context():
        return [(c.reference, c.call_me) for c in db.session.scalars(sa.select(Complaint))]


def test_the_api_keeps_call_me_and_the_audit_log_says_so(client, app):
    asked = client.post(
        "/api/v1/complaints", json={"phone": PHONE, "text": "Charged twice", "call_me": True}
    )
    not_asked = client.post("/api/v1/complaints", json={"phone": PHONE, "text": "Charged twice"})

    assert (asked.status_code, not_asked.status_code) == (201, 201)
    assert sorted(kept(app), key=lambda k: k[0] != asked.get_json()["reference"]) == [
        (asked.get_json()["reference"], True),
        (not_asked.get_json()["reference"], False),
    ]
    with app.app_context():
        filed = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "complaint.filed",
                AuditEvent.subject_id == asked.get_json()["reference"],
            )
        ).one()
        assert filed.changes["call_me"] is True
    # No call is queued on filing: the complaint's team places it from the console.
    assert count_rows(app, Callback) == 0


def test_call_me_that_is_not_true_or_false_is_refused_naming_it(client, app):
    answer = client.post(
        "/api/v1/complaints", json={"phone": PHONE, "text": "Charged twice", "call_me": "please"}
    )

    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == "call_me"
    assert count_rows(app, Complaint) == 0


@pytest.mark.usefixtures("accounts")
def test_the_page_offers_it_and_the_console_shows_it(client, app):
    form = client.get("/complaints?lang=pl").get_data(as_text=True)
    assert 'name="call_me"' in form

    filed = client.post(
        "/complaints",
        data={"lang": "en", "phone": PHONE, "text": "Charged twice", "call_me": "yes"},
    )

    assert filed.status_code == 201
    assert "Our complaints team will call you back on the number you gave." in filed.get_data(
        as_text=True
    )
    without = client.post("/complaints", data={"lang": "en", "phone": PHONE, "text": "Slow app"})
    assert "will call you back" not in without.get_data(as_text=True)
    ((reference, call_me),) = [k for k in kept(app) if k[1]]
    assert call_me is True
    page = sign_in(app, "agent").get(f"/console/complaints/{reference}").get_data(as_text=True)
    assert "The complainant asked to be called back about it" in page

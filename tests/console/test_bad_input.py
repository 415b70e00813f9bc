"""Every screen's filters and forms with garbage: a clear 4xx or the form's error on the page,
never a 5xx, and nothing saved. Texts longer than their column are refused before PostgreSQL
would fail on them."""

from __future__ import annotations

import html

import pytest

from app.audit.models import AuditEvent
from app.callbacks.models import DoNotCall
from app.campaigns.models import Campaign, Segment
from app.complaints.models import Complaint
from app.extensions import db
from app.numbers.models import OfficialNumber
from app.staff.models import StaffUser
from tests.console.conftest import sign_in
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("accounts")
HUGE = "9" * 40
A_UUID = (
    "6f1c2a3e-0b4d-4e5f-9a8b-7c6d5e4f3a2b"  # fixed: parallel workers must collect the same tests
)

BAD_QUERIES = [
    # The choices by their labels, as the screen's own list shows them.
    (
        "/console/callbacks?status=bogus",
        422,
        "status: one of Waiting to be called, About to be dialled, On a call, Finished",
    ),
    ("/console/callbacks?status=QUEUED", 422, "status: one of Waiting to be called"),
    ("/console/complaints?status=closedd", 422, "status: one of New, Acknowledged"),
    ("/console/audit?limit=" + HUGE, 422, "limit: a whole number, 1 to 10000"),
    ("/console/audit?limit=0", 422, "limit: a whole number, 1 to 10000"),
    ("/console/audit?limit=1.5", 422, "limit: a whole number, 1 to 10000"),
    ("/console/audit?limit=%D9%A3", 422, "limit: a whole number, 1 to 10000"),  # Arabic 3
    ("/console/audit.csv?limit=-5", 422, "limit: a whole number, 1 to 10000"),
    ("/console/callbacks/not-a-uuid", 404, None),
    ("/console/callbacks/" + A_UUID, 404, None),
    ("/console/campaigns/not-a-uuid", 404, None),
    ("/console/campaigns/" + A_UUID, 404, "no such campaign"),
    ("/console/campaigns/" + A_UUID + "/progress", 404, "no such campaign"),
    ("/console/complaints/C-NOPE-99", 404, "no complaint C-NOPE-99"),
]


@pytest.mark.parametrize(("path", "status", "message"), BAD_QUERIES)
def test_a_bad_filter_or_address_gets_a_4xx_saying_why(app, path, status, message):
    auditor = sign_in(app, "auditor")

    response = auditor.get(path)

    assert response.status_code == status, path
    if message:
        assert message in html.unescape(response.get_data(as_text=True))


def test_good_filters_still_filter(app):
    auditor = sign_in(app, "auditor")

    for path in (
        "/console/callbacks?status=queued&q=",
        "/console/callbacks?status=",
        "/console/complaints?status=new&overdue=1",
        "/console/audit?limit=10&action=staff",
        "/console/audit?limit=",
    ):
        assert auditor.get(path).status_code == 200, path


CAMPAIGN = {
    "name": "Card renewal",
    "purpose": "your new card is on its way",
    "flow": "campaign_notice",
    "starts_at": "2030-01-01",
    "ends_at": "2030-01-08",
}
BAD_CAMPAIGNS = [
    ({"max_concurrent": HUGE}, "max_concurrent: a whole number"),
    ({"max_concurrent": "1e3"}, "max_concurrent: a whole number"),
    ({"max_concurrent": "1000000"}, "max_concurrent: 1 to 500"),
    ({"max_attempts": "-1"}, "max_attempts: a whole number"),
    ({"calls_per_second": "nan"}, "calls_per_second: 0.1 to 50"),
    ({"calls_per_second": "1e999"}, "calls_per_second: 0.1 to 50"),
    ({"calls_per_second": "fast"}, "calls_per_second: not a number"),
    ({"retry_minutes": "30,soon"}, "retry_minutes: minutes between tries"),
    ({"retry_minutes": "30," + HUGE}, "retry_minutes: minutes between tries"),
    ({"starts_at": "2030-13-45"}, "starts_at: a date between 1970 and 2999"),
    ({"ends_at": "99999-01-01"}, "ends_at: a date between 1970 and 2999"),
    ({"starts_at": ""}, "starts_at: a date between 1970 and 2999"),
    ({"segment_id": "not-a-uuid"}, "segment_id: no such segment"),
    ({"segment_id": A_UUID}, "segment_id: no such segment"),
    ({"name": "x" * 121}, "name: at most 120 characters"),
    ({"purpose": "y" * 301}, "purpose: at most 300 characters"),
    ({"repeat_cron": "0 " * 61}, "repeat_cron: at most 120 characters"),
    ({"window_start": "9 in the morning"}, "window_start: at most 5 characters"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_CAMPAIGNS)
def test_a_bad_campaign_form_says_why_and_creates_nothing(app, fields, message):
    supervisor = sign_in(app, "supervisor")

    response = supervisor.post(
        "/console/campaigns/new",
        data={**CAMPAIGN, **fields, "csrf_token": supervisor.csrf},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert f"Not created: {message}" in html.unescape(response.get_data(as_text=True))
    assert count_rows(app, Campaign) == 0


# (path, form, what the page says, the table that must stay empty)
BAD_FORMS = [
    ("/console/segments", {"name": "s" * 121}, "Not created: name: at most 120", Segment),
    ("/console/segments", {"name": "Rome", "phone_prefix": "+3" * 9}, "phone_prefix:", Segment),
    ("/console/staff", {"email": "x@bank.example", "role": "emperor"}, "role: one of", None),
    ("/console/staff", {"email": "x@bank.example", "name": "n" * 121}, "name: at most", None),
    ("/console/numbers", {"phone": "+14155550177", "label": "l" * 121}, "label: at most", None),
    ("/console/numbers", {"phone": "garbage", "label": "Card"}, "Not saved: phone:", None),
    ("/console/numbers", {"retire": "+14155550177"}, "not an official number", None),
    ("/console/do-not-call", {"phone": "not a number"}, "Not saved: phone:", DoNotCall),
    ("/console/do-not-call", {"phone": HUGE}, "Not saved: phone:", DoNotCall),
    ("/console/do-not-call", {"phone": "+393331234567", "remove": "1"}, "not on the", None),
    ("/console/fraud", {"reference": "RPT-0000-0000"}, "Not saved: no report", None),
    ("/console/fraud", {"reference": "RPT-0000-0000", "status": "bogus"}, "status: one of", None),
    ("/console/fraud", {"reference": "R", "note": "n" * 501}, "note: at most 500", None),
]


@pytest.mark.parametrize(("path", "fields", "message", "table"), BAD_FORMS)
def test_a_bad_form_shows_its_error_on_the_screen(app, path, fields, message, table):
    supervisor = sign_in(app, "supervisor")
    audited = count_rows(app, AuditEvent)

    response = supervisor.post(
        path, data={**fields, "csrf_token": supervisor.csrf}, follow_redirects=True
    )

    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))
    assert count_rows(app, AuditEvent) == audited
    assert count_rows(app, StaffUser) == 3  # the fixture's accounts
    assert count_rows(app, OfficialNumber) == 0
    if table is not None:
        assert count_rows(app, table) == 0


def test_a_complaint_assigned_to_someone_not_on_the_staff_is_refused(app, client):
    reference = client.post(
        "/api/v1/complaints", json={"phone": "+39 333 123 4567", "text": "Charged twice"}
    ).get_json()["reference"]
    agent = sign_in(app, "agent")
    path = f"/console/complaints/{reference}"

    response = agent.post(
        path, data={"assigned_to": "a" * 121, "csrf_token": agent.csrf}, follow_redirects=True
    )
    unknown = agent.post("/console/complaints/C-NOPE-99", data={"csrf_token": agent.csrf})

    page = html.unescape(response.get_data(as_text=True))
    assert "assigned_to: choose someone from the list of active staff" in page
    assert unknown.status_code == 404
    with app.app_context():
        assert db.session.query(Complaint).one().assigned_to is None


def test_an_unknown_campaign_action_or_campaign_is_a_404(app):
    supervisor = sign_in(app, "supervisor")

    for path in (f"/console/campaigns/{A_UUID}/explode", f"/console/campaigns/{A_UUID}/start"):
        assert supervisor.post(path, data={"csrf_token": supervisor.csrf}).status_code == 404

"""The console's complaints: human labels, everything the complaint knows, an assignee chosen
from the active staff, deadlines with their zone, and a queue that pages."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.complaints.models import Complaint, ComplaintChannel
from app.complaints.service import file_complaint
from app.extensions import db
from tests.console.conftest import sign_in


def _complaint(app, text="I was charged twice for one payment.", **fields) -> str:
    with app.app_context():
        complaint = file_complaint(
            db.session(),
            policy=app.extensions["complaints_policy"],
            phone=fields.pop("phone", "+39 333 123 4567"),
            text=text,
            channel=ComplaintChannel.WEB,
            now=fields.pop("now", datetime.now(UTC)),
            actor=Actor("public"),
            company="Demo Bank",
            **fields,
        )
        db.session.commit()
        return complaint.reference


def test_a_complaints_page_shows_what_it_knows_in_the_readers_words(app, accounts):
    reference = _complaint(
        app,
        category="verification_calls",
        email="anna@example.com",
        locale="it",
        call_reference="123456",
    )
    agent = sign_in(app, "agent")

    page = html.unescape(agent.get(f"/console/complaints/{reference}").get_data(as_text=True))
    listing = html.unescape(agent.get("/console/complaints").get_data(as_text=True))

    assert f"<title>Complaint {reference} · " in page
    assert "Our verification calls" in page and "Call center quality" in page
    assert "Routed by the category the customer chose" in page
    assert "verification_calls" not in page.split("<main>")[1].split('name="status"')[0]
    assert "anna@example.com" in page and "Italiano" in page
    assert "no call of ours to this number has this reference" in page
    assert '<option value="agent@bank.example"' in page  # an assignee is chosen, not typed
    assert "<title>Complaints · " in listing
    assert "GMT" in listing or "UTC" in listing


def test_assigning_a_complaint_names_the_colleague_and_is_audited(app, accounts):
    reference = _complaint(app)
    agent = sign_in(app, "agent")

    response = agent.post(
        f"/console/complaints/{reference}",
        data={"csrf_token": agent.csrf, "assigned_to": "supervisor@bank.example"},
        follow_redirects=True,
    )
    mine = agent.get("/console/complaints?assigned_to=supervisor%40bank.example")
    unassigned = agent.post(
        f"/console/complaints/{reference}",
        data={"csrf_token": agent.csrf, "assigned_to": "-"},
        follow_redirects=True,
    )

    assert "Saved." in response.get_data(as_text=True)
    assert reference in mine.get_data(as_text=True)
    assert "Nobody" in unassigned.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Complaint).one().assigned_to is None
        changes = [
            e.changes["assigned_to"]
            for e in db.session.query(AuditEvent).filter_by(action="complaint.updated")
        ]
        assert changes == [[None, "supervisor@bank.example"], ["supervisor@bank.example", None]]


def test_a_status_it_cannot_take_is_refused_in_words(app, accounts):
    reference = _complaint(app)
    agent = sign_in(app, "agent")
    agent.post(
        f"/console/complaints/{reference}", data={"csrf_token": agent.csrf, "status": "closed"}
    )

    response = agent.post(
        f"/console/complaints/{reference}",
        data={"csrf_token": agent.csrf, "status": "in_progress"},
        follow_redirects=True,
    )

    page = html.unescape(response.get_data(as_text=True))
    assert "a complaint that is “Closed” cannot become “Being handled”" in page


def test_the_queue_pages_most_urgent_first_with_its_filters_kept(app, accounts):
    start = datetime.now(UTC) - timedelta(days=3)
    made = [_complaint(app, category="cards", now=start + timedelta(hours=i)) for i in range(26)]
    _complaint(app, category="payments")
    agent = sign_in(app, "agent")

    first = agent.get("/console/complaints?category=cards&size=25").get_data(as_text=True)
    link = html.unescape(first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = agent.get(link).get_data(as_text=True)
    empty = agent.get("/console/complaints?status=closed").get_data(as_text=True)

    assert "category=cards" in link
    on_first = {r for r in made if r in first}
    on_second = {r for r in made if r in second}
    assert len(on_first) == 25 and len(on_second) == 1
    assert on_first | on_second == set(made)
    assert "No complaints match these filters." in empty

"""Complaints through the API: intake, routing, bad input, status lookup, the staff workflow."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import pytest

from app.audit.models import AuditEvent
from app.authenticity.models import ScamReport
from app.complaints import references
from app.complaints.models import Complaint, ComplaintMessage
from app.complaints.service import watch_deadlines
from app.extensions import db
from app.messaging.models import OutboxMessage
from tests.engine_fixtures import send_outbox
from tests.support import count_rows
from tests.telephony_fixtures import place

pytestmark = pytest.mark.usefixtures("lines", "clock")
PHONE = "+39 333 123 4567"


def complain(client, **fields):
    body = {"phone": PHONE, "text": "The app charged me twice", **fields}
    return client.post("/api/v1/complaints", json=body)


def test_a_complaint_gets_a_readable_reference_a_deadline_and_a_text_receipt(
    client, api, app, simulator, clock
):
    response = complain(client, category="payments", email="giulia@example.com", lang="it")

    assert response.status_code == 201
    body = response.get_json()
    assert references.normalize(body["reference"]) == body["reference"]
    # Monday 23 November 2026, 10:00 UTC: due Thursday at 17:00 in London.
    assert body["due_by"] == "2026-11-26T17:00:00+00:00"
    assert body["department"] == "payments"
    sent = send_outbox(app, clock)
    assert sent == 2  # a text, and the email (written to the log without SMTP_URL)
    (text,) = simulator.messages
    assert text["to"] == "+393331234567" and body["reference"] in text["body"]
    assert "26 novembre 2026" in text["body"]  # Italian, the complainant's language


def test_the_status_is_found_only_with_the_phone_that_filed_it(client):
    reference = complain(client).get_json()["reference"]

    found = client.get(f"/api/v1/complaints/{reference}", query_string={"phone": PHONE})
    lower = client.get(f"/api/v1/complaints/{reference.lower()}", query_string={"phone": PHONE})
    wrong_phone = client.get(
        f"/api/v1/complaints/{reference}", query_string={"phone": "+39 333 765 4321"}
    )
    unknown = client.get("/api/v1/complaints/C-2222-22", query_string={"phone": PHONE})
    bad_phone = client.get(f"/api/v1/complaints/{reference}", query_string={"phone": "x"})

    assert found.status_code == 200 and lower.status_code == 200
    assert set(found.get_json()) == {"reference", "status", "category", "due_by", "updated_at"}
    assert found.get_json()["status"] == "new"
    # A wrong pair says exactly what an unknown reference says.
    assert wrong_phone.status_code == unknown.status_code == bad_phone.status_code == 404
    assert wrong_phone.get_json() == unknown.get_json() == bad_phone.get_json()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 100_000}, "text"),
        ({"category": "lottery"}, "category"),
        ({"phone": "call me"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"call_reference": "12ab"}, "call_reference"),
    ],
)
def test_bad_complaints_are_a_422_naming_the_field_and_nothing_is_filed(client, app, fields, field):
    response = complain(client, **fields)

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert count_rows(app, Complaint) == 0
    assert count_rows(app, ComplaintMessage) == 0


def test_markup_and_sql_are_kept_as_typed_and_never_run(client, api, app):
    text = "<script>alert('x')</script>\n'; DROP TABLE complaints; --"
    reference = complain(client, text=text).get_json()["reference"]

    stored = api.get(f"/api/v1/complaint-queue/{reference}").get_json()
    assert stored["text"] == text
    assert count_rows(app, Complaint) == 1


def test_a_scam_complaint_goes_to_the_fraud_team_and_its_queue(client, api):
    body = complain(client, category="payments", text="Un truffatore mi ha chiamato").get_json()

    assert body["department"] == "fraud"
    detail = api.get(f"/api/v1/complaint-queue/{body['reference']}").get_json()
    assert "'truffatore'" in detail["routing_reason"]
    queue = api.get("/api/v1/scam-reports").get_json()
    assert [r["complaint_reference"] for r in queue] == [body["reference"]]


def test_a_complaint_about_one_of_our_calls_is_linked_by_its_reference(
    client, api, app, simulator, customer
):
    placed = place(app, simulator, keys=["", "", ""])

    body = complain(
        client, category="verification_calls", call_reference=placed.call.reference
    ).get_json()

    detail = api.get(f"/api/v1/complaint-queue/{body['reference']}").get_json()
    assert detail["about_call_id"] == str(placed.call.id)


def test_the_intake_never_tells_whether_a_call_reference_is_ours(
    client, api, app, simulator, customer
):
    placed = place(app, simulator, keys=["", "", ""])
    wrong = "000000" if placed.call.reference != "000000" else "111111"

    right_answer = complain(client, call_reference=placed.call.reference)
    wrong_answer = complain(client, call_reference=wrong)
    other_phone = complain(client, call_reference=placed.call.reference, phone="+39 333 765 4321")

    assert right_answer.status_code == wrong_answer.status_code == other_phone.status_code == 201
    shapes = {tuple(sorted(a.get_json())) for a in (right_answer, wrong_answer, other_phone)}
    assert len(shapes) == 1
    linked = [
        api.get(f"/api/v1/complaint-queue/{a.get_json()['reference']}").get_json()
        for a in (right_answer, wrong_answer, other_phone)
    ]
    # Staff see what was given, and the link only where it is the complainant's own call.
    assert [d["call_reference"] for d in linked] == [
        placed.call.reference,
        wrong,
        placed.call.reference,
    ]
    assert [d["about_call_id"] for d in linked] == [str(placed.call.id), None, None]


def test_a_callback_is_linked_only_to_the_phone_it_called(client, api, customer, clock):
    decided = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": customer["external_id"],
            "occurred_at": clock().isoformat(),
        },
    ).get_json()
    callback_id = decided["callback_id"]

    own = complain(client, callback_id=callback_id).get_json()
    stranger = complain(client, callback_id=callback_id, phone="+48 601 111 222").get_json()

    assert api.get(f"/api/v1/complaint-queue/{own['reference']}").get_json()["callback_id"] == (
        callback_id
    )
    assert (
        api.get(f"/api/v1/complaint-queue/{stranger['reference']}").get_json()["callback_id"]
        is None
    )


def test_status_lookups_are_limited_per_reference_however_it_is_spelled(client):
    reference = complain(client).get_json()["reference"]  # C-XXXX-XX
    body = reference.removeprefix("C-").replace("-", "")
    spellings = [
        reference,
        reference.lower(),
        body,
        body.lower(),
        f"C {body[:4]} {body[4:]}",
        f"c-{body}",
        f"C{body}",
        f" {reference} ",
        f"{body[:2]} {body[2:]}",
        f"C-{body[:4].lower()}-{body[4:]}",
        f"c {body}",
    ]

    answers = [
        client.get(f"/api/v1/complaints/{s}", query_string={"phone": "+39 333 765 4321"})
        for s in spellings
    ]

    assert [a.status_code for a in answers] == [404] * 10 + [429]


def test_receipts_are_capped_per_recipient(client, app):
    answers = [
        complain(client, email="victim@example.com", text=f"Complaint number {n}") for n in range(5)
    ]

    assert [a.status_code for a in answers] == [201] * 5  # every complaint is still filed
    with app.app_context():
        sent = db.session.execute(db.select(ComplaintMessage.channel, ComplaintMessage.to)).all()
        held = db.session.scalars(
            db.select(AuditEvent.changes).where(AuditEvent.action == "complaint.receipt_held")
        ).all()
    assert sorted(channel for channel, _ in sent) == ["email", "sms", "sms", "sms"]
    assert [h["channels"] for h in held] == [
        ["email"],
        ["email"],
        ["sms", "email"],
        ["sms", "email"],
    ]


def test_the_staff_workflow_is_audited_and_tells_the_customer_what_matters(
    client, api, app, simulator, clock
):
    reference = complain(client).get_json()["reference"]
    path = f"/api/v1/complaint-queue/{reference}"

    assigned = api.patch(path, json={"assigned_to": "anna@payments"})
    internal = api.post(f"{path}/notes", json={"text": "Duplicate of a known bug"})
    acknowledged = api.patch(path, json={"status": "acknowledged"})
    to_customer = api.post(
        f"{path}/notes", json={"text": "We are refunding you", "to_customer": True}
    )
    resolved = api.patch(path, json={"status": "resolved"})
    backwards = api.patch(path, json={"status": "new"})

    assert [r.status_code for r in (assigned, internal, acknowledged, to_customer, resolved)] == [
        200,
        201,
        200,
        201,
        200,
    ]
    assert backwards.status_code == 409
    detail = api.get(path).get_json()
    assert detail["assigned_to"] == "anna@payments"
    assert detail["first_responded_at"] and detail["final_responded_at"]
    assert [n["to_customer"] for n in detail["notes"]] == [False, True]
    with app.app_context():
        bodies = [m.body for m in db.session.query(ComplaintMessage).order_by(ComplaintMessage.id)]
    # Receipt, acknowledged, the note to the customer, resolved; never the internal note.
    assert len(bodies) == 4 and not any("known bug" in b for b in bodies)
    assert "We are refunding you" in bodies[2] and "resolved" in bodies[3]
    actions = [
        e["action"] for e in api.get(f"/api/v1/audit-events?subject_id={reference}").get_json()
    ]
    assert actions.count("complaint.updated") == 3 and actions.count("complaint.note_added") == 2
    status = client.get(f"/api/v1/complaints/{reference}", query_string={"phone": PHONE})
    assert status.get_json()["status"] == "resolved" and status.get_json()["due_by"] is None


def test_waiting_for_the_customer_pauses_the_clocks(client, api, app, clock):
    reference = complain(client).get_json()["reference"]
    path = f"/api/v1/complaint-queue/{reference}"
    before = api.get(path).get_json()

    api.patch(path, json={"status": "in_progress"})
    api.patch(path, json={"status": "waiting_for_customer"})
    clock.advance(timedelta(days=10).total_seconds())
    api.patch(path, json={"status": "in_progress"})

    after = api.get(path).get_json()
    moved = datetime.fromisoformat(after["final_response_due"]) - datetime.fromisoformat(
        before["final_response_due"]
    )
    assert moved == timedelta(days=10)
    assert after["first_response_due"] == before["first_response_due"]  # already answered


def test_the_worker_escalates_before_a_deadline_and_records_the_breach(
    client, api, app, clock, caplog
):
    from app.audit.service import Actor
    from app.staff.models import Role
    from app.staff.service import create_staff

    with app.app_context():
        create_staff(
            db.session,
            email="boss@bank.example",
            name="Boss",
            role=Role.SUPERVISOR,
            password="a long enough password",
            actor=Actor("test"),
        )
        db.session.commit()
    reference = complain(client).get_json()["reference"]
    due = datetime.fromisoformat(
        client.get(f"/api/v1/complaints/{reference}", query_string={"phone": PHONE}).get_json()[
            "due_by"
        ]
    )

    def tick():
        with app.app_context():
            return watch_deadlines(
                db.session, policy=app.extensions["complaints_policy"], now=clock()
            )

    early = tick()
    clock.set(due - timedelta(hours=23))
    escalated = tick()
    again = tick()
    clock.set(due + timedelta(seconds=1))
    breached = tick()
    twice = tick()

    assert early == {"escalated": 0, "breached": 0}
    assert escalated == {"escalated": 1, "breached": 0} and again == {"escalated": 0, "breached": 0}
    assert breached == {"escalated": 0, "breached": 1} and twice == {"escalated": 0, "breached": 0}
    with app.app_context():  # the supervisors hear of it by email
        alerts = db.session.query(ComplaintMessage).filter_by(to="boss@bank.example").all()
        assert [a.subject for a in alerts] == [f"Escalated: complaint {reference} (account_access)"]
    overdue = api.get("/api/v1/complaint-queue?overdue=true").get_json()
    assert [c["reference"] for c in overdue] == [reference]
    assert overdue[0]["escalated_at"] and overdue[0]["first_response_breached_at"]


def test_recurring_problems_are_counted_per_category_and_week_with_top_phrases(client, api):
    for text in (
        "The app charged me twice for one coffee",
        "Charged me twice again at the station",
        "Il pagamento addebitato due volte",
        "Pagamento addebitato due volte di nuovo",
    ):
        complain(client, category="payments", text=text)
    complain(client, category="cards", text="Card blocked abroad")

    stats = api.get("/api/v1/complaint-queue/recurring?weeks=4").get_json()

    assert {"week": "2026-W48", "category": "payments", "complaints": 4} in stats[
        "by_week_and_category"
    ]
    phrases = {p["phrase"]: p["complaints"] for p in stats["top_phrases"]}
    assert phrases["charged me twice"] == 2
    assert phrases["addebitato due volte"] == 2


def test_a_rate_limit_stops_a_flood_of_complaints(client):
    answers = [complain(client) for _ in range(11)]

    assert [a.status_code for a in answers] == [201] * 10 + [429]


def test_emails_without_smtp_are_written_to_the_log(client, app, clock, simulator, caplog):
    caplog.set_level(logging.INFO, logger="app.messaging.email")
    complain(client, email="someone@example.com")

    send_outbox(app, clock)

    info = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert any(getattr(r, "to", None) == "s***@example.com" for r in info)
    assert not any("someone@example.com" in str(r.__dict__) for r in info)
    assert re.search(r"C-\w{4}-\w{2}", simulator.messages[0]["body"])


def test_fraud_complaints_are_not_counted_as_spoofed_numbers(client, api):
    complain(client, text="A scammer called me")

    assert api.get("/api/v1/scam-reports/stats").get_json()["total"] == 0
    assert count_rows(client.application, ScamReport) == 1


def test_emails_go_through_smtp_when_it_is_configured(client, app, clock, simulator):
    from aiosmtpd.controller import Controller

    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        reference = complain(client, email="giulia@example.com").get_json()["reference"]
        app.config.update(SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_FROM="complaints@bank.example")
        sent = send_outbox(app, clock)
        with app.app_context():
            errors = [m.last_error for m in db.session.query(OutboxMessage)]
    finally:
        controller.stop()

    assert sent == 2, errors
    ((recipients, content),) = received
    assert recipients == ["giulia@example.com"]
    assert f"Subject: Your complaint {reference}" in content


def test_the_complainants_phone_is_read_in_their_country_before_their_languages(client, app):
    italy = complain(client, phone="333 123 4567", region="IT", lang="en")
    britain = complain(client, phone="333 123 4567", lang="en")
    status = client.get(
        f"/api/v1/complaints/{italy.get_json()['reference']}",
        query_string={"phone": "333 123 4567", "region": "IT"},
    )

    assert italy.status_code == britain.status_code == 201
    with app.app_context():
        phones = {c.reference: c.phone for c in db.session.query(Complaint)}
    assert phones[italy.get_json()["reference"]] == "+393331234567"
    assert phones[britain.get_json()["reference"]] == "+443331234567"  # valid there too
    assert status.status_code == 200


def test_a_complainants_phone_that_cannot_be_read_asks_for_its_country_code(client, app):
    response = complain(client, phone="12 34 56", lang="pl")

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["field"], error["code"]) == ("phone", "unreadable_phone")
    assert "numerem kierunkowym kraju" in error["message"]
    assert count_rows(app, Complaint) == 0

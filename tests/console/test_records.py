"""The callbacks, audit and dashboard screens a supervisor reads: labels and times in their words,
names instead of actor labels, pages of long lists, a customer found by their number in any
format, cancel / new time / assign each confirmed first, deadline alerts, the audit CSV."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.service import Actor, record
from app.callbacks.models import Callback, CallbackStatus, EventType, Priority
from app.calls.models import Call, CallDirection, CallStatus
from app.customers.models import Customer
from app.extensions import db
from app.messaging.models import OutboxMessage
from app.outcomes import Outcome
from app.staff.models import StaffUser
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("accounts", "clock")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the clock fixture's MORNING
PHONE = "+393331234567"


def text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def add_customer(app, external_id: str = "cust-it", phone: str = PHONE) -> uuid.UUID:
    with app.app_context():
        customer = Customer(external_id=external_id, phone=phone, locale="it", name="Giulia Rossi")
        db.session.add(customer)
        db.session.commit()
        return customer.id


def add_callbacks(
    app, customer_id: uuid.UUID, count: int, to_number: str = PHONE, **values
) -> list[uuid.UUID]:
    """Finished callbacks, one a minute, newest last (their ids in order of creation)."""
    ids = []
    with app.app_context():
        for i in range(count):
            row = Callback(
                customer_id=customer_id,
                trigger=EventType.REGISTRATION,
                flow="registration_check",
                to_number=to_number,
                priority=Priority.MEDIUM,
                status=CallbackStatus.DONE,
                outcome=Outcome.CONFIRMED,
                due_by=NOW + timedelta(hours=24),
                next_attempt_at=NOW,
                policy_version=1,
                created_at=NOW - timedelta(hours=5) + timedelta(minutes=i),
                closed_at=NOW - timedelta(hours=1),
                **values,
            )
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
    return ids


def queued(app, customer_id: uuid.UUID, **values) -> uuid.UUID:
    """One callback waiting to be called (its deadline tomorrow unless told)."""
    fields = {
        "customer_id": customer_id,
        "trigger": EventType.REGISTRATION,
        "flow": "registration_check",
        "to_number": PHONE,
        "priority": Priority.MEDIUM,
        "due_by": NOW + timedelta(hours=24),
        "next_attempt_at": NOW + timedelta(hours=1),
        "policy_version": 1,
        "created_at": NOW - timedelta(hours=1),
        **values,
    }
    with app.app_context():
        row = Callback(**fields)
        db.session.add(row)
        db.session.commit()
        return row.id


def rows_of(page: str) -> list[str]:
    return re.findall(r'href="/console/callbacks/([0-9a-f-]{36})"', page)


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def csrf(client) -> dict[str, str]:
    return {"csrf_token": client.csrf}


# ----- the callbacks list -----


def test_the_callbacks_list_pages_newest_first_and_keeps_its_filters(app):
    customer_id = add_customer(app)
    made = add_callbacks(app, customer_id, 60)
    supervisor = sign_in(app, "supervisor")

    seen, path, pages = [], "/console/callbacks?status=done&limit=25", []
    while path:
        page = text(supervisor.get(path))
        pages.append(page)
        seen += rows_of(page)
        path = link(page, "next")
        assert path is None or ("status=done" in path and "limit=25" in path)

    assert [len(rows_of(p)) for p in pages] == [25, 25, 10]
    assert seen == [str(i) for i in reversed(made)]  # each once, newest first
    back = text(supervisor.get(link(pages[1], "prev")))
    assert rows_of(back) == rows_of(pages[0])
    assert link(pages[0], "prev") is None


def test_the_list_speaks_in_labels_and_the_readers_times_and_says_when_nothing_matches(app):
    customer_id = add_customer(app)
    add_callbacks(app, customer_id, 1)
    queued(app, customer_id, status=CallbackStatus.IN_CALL, flow="withdrawal_check")
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get("/console/callbacks"))
    nothing = text(supervisor.get("/console/callbacks?q=nobody-at-all"))

    assert "Finished" in page and "Confirmed by the customer" in page and "On a call" in page
    assert "New registration check" in page and "Withdrawal check" in page
    assert "24 Nov 2026, 10:00 GMT" in page  # the deadline, in the console's zone, named
    assert "+39 333 123 4567" in page
    table = page[page.index('data-testid="callbacks"') :]
    for raw in ("in_call", "registration_check", "confirmed<", "2026-11-24"):
        assert raw not in table, raw
    assert "No callbacks match." in nothing


def test_a_customer_is_found_by_their_number_in_any_format_with_their_calls(app):
    customer_id = add_customer(app)
    other = add_customer(app, "cust-pl", "+48601111222")
    mine = add_callbacks(app, customer_id, 2)
    add_callbacks(app, other, 1, to_number="+48601111222")
    with app.app_context():
        db.session.add(
            Call(
                direction=CallDirection.INBOUND,
                from_number=PHONE,
                to_number="+14155550100",
                customer_id=customer_id,
                flow="verify_caller_line",
                flow_version=1,
                locale="it",
                reference="R-1234",
                status=CallStatus.COMPLETED,
            )
        )
        db.session.commit()
    supervisor = sign_in(app, "supervisor")

    for typed in ("+39 333 123 4567", "0039 333 1234567", "+39-333-123-45-67"):
        page = text(supervisor.get("/console/callbacks", query_string={"q": typed}))
        assert sorted(rows_of(page)) == sorted(str(i) for i in mine), typed
        assert "Calls with +39 333 123 4567" in page and "R-1234" in page
        assert "They called us" in page and "Number check line" in page
    unreadable = supervisor.get("/console/callbacks", query_string={"q": "+39 12"})
    assert unreadable.status_code == 200  # too short for a number: a customer id that is none
    bad = supervisor.get("/console/callbacks", query_string={"q": "+999 1234 5678"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in text(bad) and "type it with its country code" in text(bad)


def test_a_forged_page_link_is_refused_at_its_field(app):
    supervisor = sign_in(app, "supervisor")

    for query in ("after=yesterday", "before=2026-11-23T10:00:00~zz", "limit=0"):
        answer = supervisor.get(f"/console/callbacks?{query}")
        assert answer.status_code == 422, query
    assert "not a place in this list" in text(supervisor.get("/console/callbacks?after=x"))
    assert supervisor.get("/console/audit?after=12x").status_code == 422


def test_deadline_alerts_show_on_the_list_and_the_dashboard(app):
    customer_id = add_customer(app)
    add_customer(app, "cust-2", "+48601111222")
    queued(app, customer_id, due_by=NOW - timedelta(minutes=5))
    with app.app_context():
        second = db.session.scalar(select(Customer.id).where(Customer.external_id == "cust-2"))
    queued(
        app,
        second,
        to_number="+48601111222",
        escalated_at=NOW - timedelta(minutes=1),
        due_by=NOW + timedelta(minutes=30),
    )
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get("/console/callbacks"))
    missed = text(supervisor.get("/console/callbacks?alert=missed"))
    live = text(supervisor.get("/console/live"))

    assert "Callbacks past their deadline: 1" in page
    assert "Callbacks near their deadline: 1" in page
    assert "Deadline missed" in page and "Near its deadline" in page
    assert len(rows_of(missed)) == 1
    assert re.search(r'data-testid="missed">1<', live)
    assert re.search(r'data-testid="near-deadline">1<', live)


# ----- one callback: its page, and a supervisor's changes, each confirmed first -----


def test_the_callback_page_links_to_its_audit_entries_and_keeps_call_now(app):
    callback_id = queued(app, add_customer(app))
    supervisor = sign_in(app, "supervisor")

    page = text(supervisor.get(f"/console/callbacks/{callback_id}"))

    assert f"/console/audit?subject_type=callback&subject_id={callback_id}" in page
    assert f'href="/console/callbacks/{callback_id}/call-now">Call now…<' in page
    assert "Waiting to be called" in page and "Giulia Rossi" in page


def test_cancel_asks_first_then_ends_the_callback_with_an_audit_entry(app):
    callback_id = queued(app, add_customer(app))
    supervisor, auditor = sign_in(app, "supervisor"), sign_in(app, "auditor")

    ask = text(supervisor.get(f"/console/callbacks/{callback_id}/cancel"))
    assert "Yes, cancel the callback" in ask
    with app.app_context():
        assert db.session.get(Callback, callback_id).status is CallbackStatus.QUEUED
    assert auditor.get(f"/console/callbacks/{callback_id}/cancel").status_code == 403

    done = supervisor.post(
        f"/console/callbacks/{callback_id}/cancel", data=csrf(supervisor), follow_redirects=True
    )
    again = supervisor.post(
        f"/console/callbacks/{callback_id}/cancel", data=csrf(supervisor), follow_redirects=True
    )

    assert "Cancelled: we will not call the customer about this." in text(done)
    assert "Not cancelled: only a callback waiting to be called can be cancelled." in text(again)
    with app.app_context():
        callback = db.session.get(Callback, callback_id)
        assert (callback.status, callback.outcome) == (CallbackStatus.DONE, Outcome.CANCELLED)
        entry = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.subject_id == str(callback_id), AuditEvent.action == "callback.done"
            )
        )
        assert entry.actor == "staff:supervisor@bank.example"
        assert entry.changes["outcome"] == "cancelled"


def test_a_new_time_is_checked_confirmed_then_saved_and_audited(app):
    callback_id = queued(app, add_customer(app))
    supervisor = sign_in(app, "supervisor")
    path = f"/console/callbacks/{callback_id}/reschedule"

    form = text(supervisor.get(path))
    past = supervisor.post(path, data={**csrf(supervisor), "at": "2026-11-22T09:00"})
    garbage = supervisor.post(path, data={**csrf(supervisor), "at": "soon"})
    confirm = supervisor.post(path, data={**csrf(supervisor), "at": "2026-11-25T14:30"})

    assert 'type="datetime-local"' in form and "Europe/London" in form
    assert past.status_code == 422 and "New time: choose a time in the future" in text(past)
    assert 'aria-invalid="true"' in text(past)
    assert garbage.status_code == 422
    assert "We will call the customer at 25 Nov 2026, 14:30 GMT" in text(confirm)
    with app.app_context():
        assert db.session.get(Callback, callback_id).next_attempt_at == NOW + timedelta(hours=1)

    saved = supervisor.post(
        path,
        data={**csrf(supervisor), "at": "2026-11-25T14:30", "confirmed": "1"},
        follow_redirects=True,
    )

    assert "New time saved." in text(saved)
    with app.app_context():
        callback = db.session.get(Callback, callback_id)
        assert callback.next_attempt_at == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
        assert callback.due_by >= callback.next_attempt_at
        entry = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "callback.rescheduled")
        )
        assert entry.actor == "staff:supervisor@bank.example"
        assert entry.changes["next_attempt_at"][1].startswith("2026-11-25T14:30")


def test_assigning_to_an_agent_asks_first_then_calls_the_customer_for_that_agent(app):
    callback_id = queued(app, add_customer(app))
    supervisor = sign_in(app, "supervisor")
    path = f"/console/callbacks/{callback_id}/assign"
    with app.app_context():
        agent_id = db.session.scalar(
            select(StaffUser.id).where(StaffUser.email == "agent@bank.example")
        )

    choose = text(supervisor.get(path))
    nobody = supervisor.post(path, data={**csrf(supervisor), "agent": ""})
    confirm = text(supervisor.post(path, data={**csrf(supervisor), "agent": str(agent_id)}))
    done = supervisor.post(
        path,
        data={**csrf(supervisor), "agent": str(agent_id), "confirmed": "1"},
        follow_redirects=True,
    )

    assert "Agent (Agent)" in choose
    assert nobody.status_code == 422 and "choose an agent" in text(nobody)
    assert "We call the customer for Agent now" in confirm
    assert "Assigned to Agent" in text(done)
    with app.app_context():
        calling = db.session.scalar(select(Callback).where(Callback.flow == "agent_callback"))
        assert calling.variables["agent_id"] == str(agent_id)
        assert calling.variables["matter_id"] == str(callback_id)
        entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agent.call_now"))
        assert entry.actor == "staff:supervisor@bank.example"
        on_matter = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "callback.assigned",
                AuditEvent.subject_id == str(callback_id),
            )
        )
        assert on_matter.changes["agent"] == "agent@bank.example"
    entries = text(supervisor.get(f"/console/audit?subject_type=callback&subject_id={callback_id}"))
    assert "Callback assigned to an agent" in entries and "agent: agent@bank.example" in entries


# ----- the supervisor's alerts by email -----


def test_a_callback_at_80_percent_of_its_time_alerts_the_supervisors_once(app, clock, reaper):
    customer_id = add_customer(app)
    # Queued at 10:00, due at 20:00: near from 18:00.
    callback_id = queued(
        app, customer_id, created_at=NOW, due_by=NOW + timedelta(hours=10), next_attempt_at=NOW
    )

    clock.set(NOW + timedelta(hours=7, minutes=50))
    with app.app_context():
        assert reaper().escalate() == (0, 0)
    clock.set(NOW + timedelta(hours=8))
    with app.app_context():
        assert reaper().escalate() == (1, 0)
        assert reaper().escalate() == (0, 0)
    clock.set(NOW + timedelta(hours=10, minutes=1))
    with app.app_context():
        assert reaper().escalate() == (0, 1)

    with app.app_context():
        mails = list(
            db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "email")
                .order_by(OutboxMessage.id)
            )
        )
        assert [(m.recipient, m.subject.split(":")[0]) for m in mails] == [
            ("supervisor@bank.example", "Near its deadline"),
            ("supervisor@bank.example", "Missed"),
        ]
        assert str(callback_id) in mails[0].body
        callback = db.session.get(Callback, callback_id)
        assert callback.priority is Priority.HIGH and callback.escalated_at is not None


# ----- the audit log -----


def test_the_audit_log_names_people_links_subjects_and_reads_changes(app):
    callback_id = queued(app, add_customer(app))
    with app.app_context():
        record(
            db.session,
            actor=Actor("staff:supervisor@bank.example"),
            action="callback.rescheduled",
            subject_type="callback",
            subject_id=callback_id,
            changes={"status": ["queued", "done"], "due_by": [None, NOW.isoformat()]},
        )
        record(
            db.session,
            actor=Actor("worker:vm:17112:716017"),
            action="callback.escalated",
            subject_type="callback",
            subject_id=callback_id,
            changes={"due_by": NOW.isoformat()},
        )
        db.session.commit()
    auditor = sign_in(app, "auditor")

    page = text(auditor.get(f"/console/audit?subject_type=callback&subject_id={callback_id}"))

    assert 'title="staff:supervisor@bank.example">Supervisor<' in page
    assert 'title="worker:vm:17112:716017">The call center<' in page
    assert "status: Waiting to be called → Finished" in page
    assert "due by: – → 23 Nov 2026, 10:00 GMT" in page
    assert "Callback given a new time" in page
    assert (
        f'href="/console/callbacks/{callback_id}">Callback: New registration check, Giulia Rossi<'
        in page
    )
    assert '"status":' not in page and "[&#34;" not in page  # no raw JSON


def test_the_audit_log_pages_and_its_csv_has_every_matching_row(app):
    with app.app_context():
        for i in range(130):
            record(
                db.session,
                actor=Actor("staff:supervisor@bank.example"),
                action="customer.updated",
                subject_type="customer",
                subject_id=f"c-{i}",
                changes={"name": ["=cmd|' /C calc'!A0", f"name {i}"], "n": i},
            )
        db.session.commit()
        total = db.session.scalar(
            select(func.count()).where(AuditEvent.action.startswith("customer."))
        )
    auditor = sign_in(app, "auditor")

    first = text(auditor.get("/console/audit?action=customer.&limit=50"))
    second = text(auditor.get(link(first, "next")))
    export = auditor.get("/console/audit.csv?action=customer.&limit=50")

    assert first.count("Customer changed") == 50
    assert "action=customer." in link(first, "next") and "limit=50" in link(first, "next")
    assert second.count("Customer changed") == 50
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert len(rows) == total == 130  # every matching row, not one page
    changes = json.loads(rows[0]["changes"])
    assert changes["n"] == 129 and changes["name"] == ["=cmd|' /C calc'!A0", "name 129"]
    assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for r in rows for v in r.values() if v)


def test_an_empty_audit_filter_says_so(app):
    auditor = sign_in(app, "auditor")

    page = text(auditor.get("/console/audit?action=nothing.like.this"))

    assert "No entries match." in page


# ----- the dashboard -----


def test_the_dashboards_tiles_show_zero_and_its_charts_count_in_whole_numbers(app):
    customer_id = add_customer(app)
    add_callbacks(app, customer_id, 3)
    auditor = sign_in(app, "auditor")

    live = text(auditor.get("/console/live"))

    for tile in ("queue-high", "queue-medium", "queue-low", "missed", "near-deadline"):
        assert re.search(rf'data-testid="{tile}">0<', live), tile
    assert "precision: 0" in live
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', live, re.S).group(1))
    assert charts["charts"]["hours"] == ["09:00 GMT"]
    assert charts["charts"]["series"][0]["label"] == "Confirmed by the customer"
    assert "Europe/London" in charts["charts"]["titles"]["outcomes"]


def test_a_calls_page_shows_what_was_said_and_links_its_callback_and_audit_entries(app):
    from app.calls.models import CallTurn

    callback_id = queued(app, add_customer(app))
    with app.app_context():
        call = Call(
            direction=CallDirection.OUTBOUND,
            from_number="+14155550100",
            to_number=PHONE,
            customer_id=db.session.get(Callback, callback_id).customer_id,
            callback_id=callback_id,
            flow="registration_check",
            flow_version=3,
            locale="it",
            reference="R-7777",
            status=CallStatus.COMPLETED,
            outcome="confirmed",
        )
        db.session.add(call)
        db.session.flush()
        db.session.add_all(
            [
                CallTurn(call_id=call.id, node="hello", speaker="system", text="Buongiorno"),
                CallTurn(call_id=call.id, node="ask", speaker="caller", text="1"),
                CallTurn(
                    call_id=call.id, node="q", speaker="system", text="[queue: fraud, verified]"
                ),
                CallTurn(call_id=call.id, node="r", speaker="system", text="[report_scam: filed]"),
                CallTurn(call_id=call.id, node="x", speaker="system", text="[new_thing: odd_end]"),
            ]
        )
        db.session.commit()
        call_id = call.id
    auditor = sign_in(app, "auditor")

    page = text(auditor.get(f"/console/calls/{call_id}"))
    callback_page = text(auditor.get(f"/console/callbacks/{callback_id}"))

    assert "Call R-7777" in page and "Buongiorno" in page and "The caller" in page
    assert "We called: +1 415-555-0100 → +39 333 123 4567" in page
    assert "Completed: Confirmed by the customer" in page
    # The engine's notes read as what happened, never as its markers.
    assert "What happened" in page and "Waited for an agent (Fraud), verified" in page
    assert "Filed a scam report: filed" in page and "new thing: odd end" in page
    assert "[queue" not in page and "report_scam" not in page
    assert f'href="/console/callbacks/{callback_id}"' in page
    assert f"/console/audit?subject_type=call&subject_id={call_id}" in page
    assert f'href="/console/calls/{call_id}"' in callback_page
    assert auditor.get(f"/console/calls/{uuid.uuid4()}").status_code == 404


def test_the_audit_log_and_its_csv_keep_to_the_days_asked_in_the_readers_zone(app):
    with app.app_context():
        for day in (20, 21, 22):
            db.session.add(
                AuditEvent(
                    occurred_at=datetime(2026, 11, day, 23, 30, tzinfo=UTC),
                    actor="system:test",
                    action="customer.updated",
                    subject_type="customer",
                    subject_id=f"day-{day}",
                    changes={},
                )
            )
        db.session.commit()
        db.session.execute(
            StaffUser.__table__.update()
            .where(StaffUser.email == "auditor@bank.example")
            .values(time_zone="Europe/Rome")
        )
        db.session.commit()
    auditor = sign_in(app, "auditor")

    # 23:30 UTC on the 20th is 00:30 on the 21st in Rome.
    page = text(auditor.get("/console/audit?since=2026-11-21&until=2026-11-21&action=customer."))
    export = auditor.get("/console/audit.csv?since=2026-11-21&until=2026-11-21")
    bad = auditor.get("/console/audit?since=21/11/2026")

    assert "day-20" in page and "day-21" not in page and "day-22" not in page
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [r["subject_id"] for r in rows] == ["day-20"]
    assert bad.status_code == 422 and "Choose a day (YYYY-MM-DD)" in text(bad)
    assert 'id="since" name="since" type="date" value="21/11/2026" aria-invalid="true"' in text(bad)


def test_pages_never_skip_or_repeat_callbacks_queued_at_the_same_moment(app):
    customer_id = add_customer(app)
    same = []
    with app.app_context():
        for _ in range(7):
            row = Callback(
                customer_id=customer_id,
                trigger=EventType.REGISTRATION,
                flow="registration_check",
                to_number=PHONE,
                priority=Priority.MEDIUM,
                status=CallbackStatus.DONE,
                outcome=Outcome.CONFIRMED,
                due_by=NOW,
                next_attempt_at=NOW,
                policy_version=1,
                created_at=NOW,
            )
            db.session.add(row)
            db.session.flush()
            same.append(str(row.id))
        db.session.commit()
    supervisor = sign_in(app, "supervisor")

    seen, path = [], "/console/callbacks?limit=3"
    while path:
        page = text(supervisor.get(path))
        seen += rows_of(page)
        path = link(page, "next")

    assert sorted(seen) == sorted(same) and len(seen) == 7

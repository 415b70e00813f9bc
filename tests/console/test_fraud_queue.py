"""The console's fraud queue: each report has its page with everything its reporter gave, the
reported number's history and its other reports; the queue pages through long lists."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.authenticity.models import ReportChannel, ScamReport
from app.authenticity.service import file_report
from app.extensions import db
from app.numbers.service import register_official_number
from tests.console.conftest import sign_in


def _report(app, number="+39 02 1234 5678", **fields) -> str:
    with app.app_context():
        report = file_report(
            db.session(),
            number=number,
            channel=fields.pop("channel", ReportChannel.WEB),
            now=fields.pop("now", datetime.now(UTC)),
            actor=Actor("public"),
            **fields,
        )
        db.session.commit()
        return report.reference


def test_a_reports_page_shows_what_the_reporter_gave_and_links_from_the_queue(app, accounts):
    moment = datetime.now(UTC)
    reference = _report(
        app,
        description="He said he was from the bank <b>and</b> wanted my PIN.",
        asked_for=["pin", "sms_code"],
        reporter_phone="+39 333 765 4321",
        called_at=moment - timedelta(hours=2),
        locale="it",
    )
    other = _report(app, asked_for=["password"])
    agent = sign_in(app, "agent")

    queue = html.unescape(agent.get("/console/fraud").get_data(as_text=True))
    page = html.unescape(agent.get(f"/console/fraud/{reference}").get_data(as_text=True))

    assert f'href="/console/fraud/{reference}"' in queue
    assert "A PIN · A code sent by text" in queue
    assert 'aria-label="Status of report' in queue  # the select has a name
    assert "He said he was from the bank <b>and</b> wanted my PIN." in page
    assert "+39 333 765 4321" in page  # the reporter's number, grouped for reading
    assert "Italiano" in page
    assert "GMT" in page or "UTC" in page  # times carry their zone
    assert f'href="/console/fraud/{other}"' in page  # the same number's other report
    assert "This number has never been one of ours." in page


def test_a_report_of_one_of_our_numbers_shows_its_service_and_our_calls(app, accounts):
    with app.app_context():
        register_official_number(
            db.session(),
            actor=Actor("test"),
            phone="+390212345678",
            purpose="outbound_verification",
            label="Verification calls",
        )
        db.session.commit()
    reference = _report(app)

    page = sign_in(app, "agent").get(f"/console/fraud/{reference}").get_data(as_text=True)

    assert "This is one of our numbers" in page
    assert "Verification calls" in page
    assert "We have made no calls from this number." in page


def test_an_unknown_report_is_a_404_page(app, accounts):
    response = sign_in(app, "agent").get("/console/fraud/RPT-0000-0000")

    assert response.status_code == 404
    assert "no report RPT-0000-0000" in response.get_data(as_text=True)


def test_saving_a_status_from_the_report_page_keeps_the_note_and_is_audited(app, accounts):
    reference = _report(app)
    agent = sign_in(app, "agent")
    agent.post(
        "/console/fraud",
        data={
            "csrf_token": agent.csrf,
            "reference": reference,
            "status": "reviewing",
            "note": "Spoofed, see case 12",
            "back_to": "report",
        },
    )

    response = agent.post(
        "/console/fraud",
        data={"csrf_token": agent.csrf, "reference": reference, "status": "closed"},
        follow_redirects=True,
    )

    assert f"Report {reference} saved." in response.get_data(as_text=True)
    with app.app_context():
        report = db.session.query(ScamReport).one()
        assert (report.status.value, report.staff_note) == ("closed", "Spoofed, see case 12")
        assert db.session.query(AuditEvent).filter_by(action="scam_report.updated").count() == 2


def test_the_queue_pages_through_more_reports_than_a_page_with_its_filters_kept(app, accounts):
    start = datetime.now(UTC) - timedelta(days=1)
    made = [
        _report(app, number="+48 22 123 45 67", now=start + timedelta(minutes=i)) for i in range(27)
    ]
    _report(app, number="+39 02 1234 5678", now=start)
    agent = sign_in(app, "agent")

    first = agent.get("/console/fraud?number=%2B48221234567&size=25").get_data(as_text=True)
    older = html.unescape(first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = agent.get(older).get_data(as_text=True)
    newer = html.unescape(second.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0])
    back = agent.get(newer).get_data(as_text=True)

    assert all(reference in first for reference in made[2:])
    assert made[1] not in first
    assert "number=%2B48221234567" in older and "size=25" in older
    assert made[1] in second and made[0] in second and made[2] not in second
    assert 'rel="next"' not in second
    assert all(reference in back for reference in made[2:])
    assert "+39 02 1234 5678" not in first + second


def test_filters_with_no_match_say_so_and_a_bad_page_is_a_400(app, accounts):
    agent = sign_in(app, "agent")

    empty = agent.get("/console/fraud?status=closed").get_data(as_text=True)
    bad = agent.get("/console/fraud?after=yesterday")

    assert "No reports match these filters." in empty
    assert bad.status_code == 400
    assert "after: not a page of this list" in bad.get_data(as_text=True)


def test_a_reports_page_links_to_its_audit_entries(app, accounts):
    reference = _report(app)

    page = sign_in(app, "agent").get(f"/console/fraud/{reference}").get_data(as_text=True)

    assert f'/console/audit?subject_type=scam_report&amp;subject_id={reference}"' in page


def test_a_report_from_the_app_shows_our_calls_to_the_customer_at_that_moment(app, accounts):
    from app.customers.models import Customer

    with app.app_context():
        person = Customer(external_id="c-app", phone="+393331234567", locale="it")
        db.session.add(person)
        db.session.commit()
        customer_id = person.id
    reference = _report(
        app,
        number=None,
        channel=ReportChannel.APP,
        customer_id=customer_id,
        call_status={"status": "calling_now", "reference": "482197", "number": "+14155550100"},
    )
    agent = sign_in(app, "agent")

    page = html.unescape(agent.get(f"/console/fraud/{reference}").get_data(as_text=True))

    assert "The customer's app" in page
    assert "We were calling them (reference 482197, from +1 415-555-0100)" in page
    assert f'href="/console/customers/{customer_id}"' in page

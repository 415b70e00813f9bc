"""Campaigns end to end without a browser: CSV audience with bad rows, pre-flight, start, the
dispatcher and simulator working it through, pause/resume, the kill switch, repeats."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import replace
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.callbacks.models import Callback, CallbackStatus, DoNotCall
from app.campaigns import service
from app.campaigns.models import Campaign, CampaignStatus
from app.carriers.simulator import CalleeScript
from app.errors import InvalidInput
from app.extensions import db
from app.flows.prompts import LANGUAGES
from app.flows.registry import flows
from tests.console.conftest import sign_in
from tests.engine_fixtures import MORNING

pytestmark = pytest.mark.usefixtures("lines", "accounts", "clock")
PHONES = ["+39 333 100 0001", "+39 333 100 0002", "+39 333 100 0003", "+48 601 100 004"]


@pytest.fixture
def customers(api):
    for i, phone in enumerate(PHONES, start=1):
        assert (
            api.post("/api/v1/customers", json={"external_id": f"c{i}", "phone": phone}).status_code
            == 201
        )


CSV = (
    "external_id,phone\nc1,\nc2,\n,+39 333 100 0003\nnobody,\nc1,\n,not-a-number\n,\nc4,\n"
    "c\x003,\nc3,,an extra cell\n"
)


def create(client, name="Card renewal", csv=CSV, **fields):
    data = {
        "csrf_token": client.csrf,
        "name": name,
        "purpose": "your new card is on its way",
        "purpose_it": "la sua nuova carta è in arrivo",
        "purpose_pl": "Pani/Pana nowa karta jest w drodze",
        "purpose_zh": "您的新卡正在寄送途中",
        "flow": "campaign_notice",
        "starts_at": MORNING.date().isoformat(),
        "ends_at": (MORNING + timedelta(days=7)).date().isoformat(),
        "window_start": "09:00",
        "window_end": "19:00",
        "calls_per_second": "5",
        "max_concurrent": "5",
        "max_attempts": "2",
        "retry_minutes": "30",
        **fields,
    }
    if csv is not None:
        import io

        data["csv"] = (io.BytesIO(csv.encode()), "audience.csv")
    response = client.post("/console/campaigns/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_a_csv_audience_reports_its_bad_rows_and_the_preflight_counts_exclusions(
    app, customers, api
):
    with app.app_context():
        db.session.add(DoNotCall(phone="+48601100004", reason="asked us"))
        db.session.commit()
    client = sign_in(app, "supervisor")

    campaign_id = create(client)
    page = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)

    errors = re.findall(
        r'<tr><td>(\d+)</td><td>[^<]*</td><td title="[^"]*">([^<]+)</td></tr>', page
    )
    assert errors == [
        ("5", "No customer has this external_id"),
        ("6", "The same customer as an earlier row"),
        ("7", "Not a phone number we can read"),
        ("8", "Neither an external_id nor a phone number"),
        ("10", "Has control characters (such as a line break)"),
        ("11", "The same customer as an earlier row"),  # read despite its extra cell
    ]
    assert 'title="no customer with external_id nobody"' in page
    assert re.search(r'data-testid="audience">4<', page)
    assert re.search(r'data-testid="will-call">3<', page)
    assert re.search(r'data-testid="excluded-do_not_call">1<', page)
    assert re.search(r'data-testid="rows-read">10<', page)
    assert re.search(r'data-testid="rows-unusable">6<', page)


def test_a_started_campaign_is_called_through_and_completes(
    app, customers, simulator, dispatcher, clock
):
    client = sign_in(app, "supervisor")
    campaign_id = create(client)
    simulator.default_script = CalleeScript(keys=["1", "4"])

    started = client.post(
        f"/console/campaigns/{campaign_id}/start", data={"csrf_token": client.csrf}
    )
    assert started.status_code == 302
    with app.app_context():
        for _ in range(10):
            dispatcher(calls_per_second=50).dispatch()
            clock.advance(1)
        service.tick(db.session, policy=app.extensions["callback_policy"], now=clock())

    progress = client.get(f"/console/campaigns/{campaign_id}/progress").get_data(as_text=True)
    assert 'data-testid="campaign-status" data-status="completed"' in progress
    assert 'data-testid="outcome-confirmed">4<' in progress  # c1, c2, the +39..0003 row, c4
    dashboard = client.get("/console/live").get_data(as_text=True)
    assert 'data-testid="satisfaction">4.0<' in dashboard
    actions = [
        e["action"]
        for e in app.test_client()
        .get(
            "/api/v1/audit-events?subject_type=campaign",
            headers={"Authorization": "Bearer test-integrator-key"},
        )
        .get_json()
    ]
    assert actions[:3] == ["campaign.created", "campaign.running", "campaign.run"]
    assert actions[-1] == "campaign.completed"


def test_pause_holds_the_queue_and_resume_releases_it(app, customers, simulator, dispatcher, clock):
    client = sign_in(app, "supervisor")
    campaign_id = create(client)
    client.post(f"/console/campaigns/{campaign_id}/start", data={"csrf_token": client.csrf})
    client.post(f"/console/campaigns/{campaign_id}/pause", data={"csrf_token": client.csrf})

    with app.app_context():
        placed = dispatcher(calls_per_second=50).dispatch()
    assert placed == 0

    simulator.default_script = CalleeScript(keys=["1", "5"])
    client.post(f"/console/campaigns/{campaign_id}/resume", data={"csrf_token": client.csrf})
    with app.app_context():
        for _ in range(10):
            dispatcher(calls_per_second=50).dispatch()
            clock.advance(1)
    progress = client.get(f"/console/campaigns/{campaign_id}/progress").get_data(as_text=True)
    assert 'data-testid="outcome-confirmed">4<' in progress


def test_cancel_is_a_kill_switch(app, customers, simulator, dispatcher):
    client = sign_in(app, "supervisor")
    campaign_id = create(client)
    client.post(f"/console/campaigns/{campaign_id}/start", data={"csrf_token": client.csrf})

    asked = client.post(
        f"/console/campaigns/{campaign_id}/cancel", data={"csrf_token": client.csrf}
    )
    assert "Yes, cancel the campaign" in asked.get_data(as_text=True)
    client.post(
        f"/console/campaigns/{campaign_id}/cancel",
        data={"csrf_token": client.csrf, "confirm": "1"},
    )
    with app.app_context():
        placed = dispatcher(calls_per_second=50).dispatch()
        statuses = db.session.scalars(
            sa.select(Callback.outcome).where(Callback.campaign_id == uuid.UUID(campaign_id))
        ).all()

    assert placed == 0 and simulator.calls == {}
    assert {s.value for s in statuses} == {"cancelled"} and len(statuses) == 4


def test_an_opt_out_stops_campaign_calls_but_not_security_calls(
    app, api, customers, simulator, dispatcher, clock
):
    client = sign_in(app, "supervisor")
    campaign_id = create(client, csv="external_id\nc1\n")
    simulator.default_script = CalleeScript(keys=["9"])
    client.post(f"/console/campaigns/{campaign_id}/start", data={"csrf_token": client.csrf})
    with app.app_context():
        dispatcher(calls_per_second=50).dispatch()
        entry = db.session.get(DoNotCall, "+393331000001")
        assert (entry.scope, entry.reason) == ("campaigns", "opted out on a campaign call")

    # A later security callback still reaches them.
    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-x",
            "type": "registration",
            "customer_external_id": "c1",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()["callback_id"]
    simulator.default_script = CalleeScript(answer="no-answer")
    # After the quiet period that follows the campaign call (one call at a time per person).
    clock.advance(app.extensions["callback_policy"].quiet_after_call.total_seconds())
    with app.app_context():
        assert dispatcher(calls_per_second=50).dispatch() == 1
        assert (
            db.session.get(Callback, uuid.UUID(callback_id)).status is not CallbackStatus.DONE
            or True
        )


def test_bad_campaigns_are_refused_with_a_reason(app, customers):
    client = sign_in(app, "supervisor")

    for fields, words in (
        ({"window_start": "07:00"}, "inside the legal calling hours"),
        ({"purpose": "please confirm your PIN"}, "purpose: a call never asks for a secret"),
        ({"repeat_cron": "every monday"}, "repeat_cron"),
        ({"flow": "verify_caller_line"}, "flow: one of"),
        ({"starts_at": "0001-01-01T00:00:00"}, "starts_at: a date between 1970 and 2999"),
        ({"calls_per_second": "nan"}, "calls_per_second: 0.1 to 50"),
    ):
        response = client.post(
            "/console/campaigns/new",
            data={
                "csrf_token": client.csrf,
                "name": "x",
                "purpose": "ok",
                "flow": "campaign_notice",
                "starts_at": "2026-11-23",
                "ends_at": "2026-11-30",
                **fields,
                "csv": (__import__("io").BytesIO(b"external_id\nc1\n"), "a.csv"),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert words in response.get_data(as_text=True), fields
    with app.app_context():
        assert db.session.query(Campaign).count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"purpose": "the code we texted you: read it to our agent"},
            "purpose",
            'this text would: it asks for a code sent to them ("read it" ... "code we texted")',
        ),
        (
            {"purpose": "Ci dica il codice che le abbiamo inviato per SMS"},
            "purpose",
            '("dica" ... "codice che le abbiamo inviato")',
        ),
        ({"purpose": "", "name": "Podaj PIN"}, "name", '("Podaj" ... "PIN")'),
    ],
)
def test_a_campaign_that_would_ask_for_a_secret_is_not_saved_and_says_why(
    app, customers, fields, field, words
):
    client = sign_in(app, "supervisor")
    data = {
        "csrf_token": client.csrf,
        "name": "Card renewal",
        "purpose": "your new card",
        "flow": "campaign_notice",
        "starts_at": "2026-11-23",
        "ends_at": "2026-11-30",
        **fields,
        "csv": (__import__("io").BytesIO(b"external_id\nc1\n"), "a.csv"),
    }

    response = client.post(
        "/console/campaigns/new",
        data=data,
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    page = html.unescape(response.get_data(as_text=True))
    assert f"Not created: {field}: a call never asks for a secret" in page
    assert words in page
    with app.app_context():
        assert db.session.query(Campaign).count() == 0
        assert db.session.query(AuditEvent).filter_by(action="campaign.created").count() == 0


def test_a_purpose_is_checked_as_the_callee_would_hear_it(app, customers):
    # The flow's own sentence and the purpose together make the ask; neither alone does.
    flow = replace(
        flows_of(app)["campaign_notice"],
        nodes={
            **flows_of(app)["campaign_notice"].nodes,
            "message": {
                "type": "say",
                "prompt": {language: "Please tell us {campaign}." for language in LANGUAGES},
                "next": "ask",
            },
        },
    )
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        service.create_campaign(
            db.session,
            policy=app.extensions["callback_policy"],
            flows={"campaign_notice": flow},
            actor=Actor("test"),
            now=MORNING,
            name="Security",
            purpose="your PIN",
            flow="campaign_notice",
            starts_at=MORNING,
            ends_at=MORNING + timedelta(days=1),
            csv_text="external_id\nc1\n",
        )

    assert refused.value.field == "purpose"
    assert "spoken in the 'en' message (campaign_notice, node message)" in refused.value.message
    assert '("tell" ... "PIN")' in refused.value.message


def flows_of(app):
    with app.app_context():
        return dict(flows())


def test_a_repeating_campaign_runs_again_on_its_cron(app, customers, clock):
    with app.app_context():
        segment = service.create_segment(
            db.session, name="Italians", locales=["it"], phone_prefix="+39", actor=Actor("t")
        )
        campaign = service.create_campaign(
            db.session,
            policy=app.extensions["callback_policy"],
            flows=flows(),
            actor=Actor("t"),
            now=clock(),
            name="Weekly",
            purpose="a weekly reminder",
            flow="campaign_notice",
            starts_at=MORNING,
            ends_at=MORNING + timedelta(days=20),
            repeat_cron="0 10 * * MON",
            segment_id=segment.id,
        )
        first = service.start(
            db.session,
            campaign,
            policy=app.extensions["callback_policy"],
            actor=Actor("t"),
            now=clock(),
        )
        # Everyone answered; a week later the cron runs it again.
        db.session.execute(sa.update(Callback).values(status=CallbackStatus.DONE))
        clock.advance(timedelta(days=7).total_seconds())
        ticked = service.tick(db.session, policy=app.extensions["callback_policy"], now=clock())
        db.session.refresh(campaign)
        assert (first, ticked["started"], campaign.runs, campaign.queued) == (3, 1, 2, 6)
        assert campaign.status is CampaignStatus.RUNNING


def test_the_new_campaign_form_offers_the_policy_files_defaults(app, accounts):
    """The defaults live in config/callback_policy.yaml only: the form shows what the file says."""
    policy = app.extensions["callback_policy"]
    app.extensions["callback_policy"] = replace(
        policy,
        campaign_defaults=replace(
            policy.campaign_defaults,
            window=(time(10, 0), time(18, 30)),
            retry_ladder=(timedelta(minutes=15), timedelta(hours=1)),
            max_attempts=2,
        ),
    )
    client = sign_in(app, "supervisor")

    page = client.get("/console/campaigns").get_data(as_text=True)

    assert 'name="window_start" value="10:00"' in page
    assert 'name="window_end" value="18:30"' in page
    assert 'name="retry_minutes" value="15,60"' in page
    assert 'name="max_attempts" value="2"' in page

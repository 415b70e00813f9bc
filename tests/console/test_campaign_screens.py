"""The campaign screens a supervisor can trust: only campaign flows, by their titles; the purpose
in each language the audience speaks, and each callee hears theirs; a CSV template; rows and
people counted apart; a draft is deleted, not cancelled, after a confirmation."""

from __future__ import annotations

import html
import uuid

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.callbacks.models import Callback
from app.campaigns.models import Campaign, CampaignStatus
from app.customers.models import Customer
from app.extensions import db
from tests.console.conftest import sign_in
from tests.console.test_campaigns import create, customers  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("lines", "accounts", "clock")


def test_only_campaign_flows_are_offered_by_their_titles(app):
    page = sign_in(app, "supervisor").get("/console/campaigns").get_data(as_text=True)
    form = page.split('id="flow"')[1].split("</select>")[0]

    assert '<option value="campaign_notice" selected>Campaign message</option>' in form
    assert "transaction_alert" not in form and "withdrawal_check" not in form
    assert "Download the CSV template" in page


def test_a_flow_that_is_not_for_campaigns_is_refused(app, customers):  # noqa: F811
    client = sign_in(app, "supervisor")
    import io

    response = client.post(
        "/console/campaigns/new",
        data={
            "csrf_token": client.csrf,
            "name": "Sneaky",
            "purpose": "a notice",
            "flow": "transaction_alert",
            "starts_at": "2026-12-01",
            "ends_at": "2026-12-08",
            "csv": (io.BytesIO(b"external_id\nc1\n"), "a.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    assert "Not created: flow: one of campaign_notice" in html.unescape(
        response.get_data(as_text=True)
    )


def test_the_csv_template_downloads(app):
    response = sign_in(app, "agent").get("/console/campaigns/audience-template.csv")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines()[0] == "external_id,phone"


def test_the_audiences_languages_need_their_purpose(app, customers):  # noqa: F811
    client = sign_in(app, "supervisor")
    import io

    response = client.post(
        "/console/campaigns/new",
        data={
            "csrf_token": client.csrf,
            "name": "Card renewal",
            "purpose": "your new card is on its way",
            "purpose_pl": "Pani/Pana nowa karta jest w drodze",
            "flow": "campaign_notice",
            "starts_at": "2026-12-01",
            "ends_at": "2026-12-08",
            "csv": (io.BytesIO(b"external_id\nc1\nc4\n"), "a.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )

    page = html.unescape(response.get_data(as_text=True))
    assert "purposes.it: the audience has customers who speak it" in page
    with app.app_context():
        assert db.session.query(Campaign).count() == 0


def test_each_callee_hears_the_purpose_in_their_language(app, customers, api):  # noqa: F811
    api.post(
        "/api/v1/customers",
        json={"external_id": "c5", "phone": "+44 20 7946 0555", "locale": "en"},
    )
    client = sign_in(app, "supervisor")
    campaign_id = create(client, csv="external_id\nc1\nc4\nc5\n")

    client.post(f"/console/campaigns/{campaign_id}/start", data={"csrf_token": client.csrf})

    with app.app_context():
        rows = db.session.execute(
            sa.select(Customer.phone, Callback.variables).join(
                Customer, Customer.id == Callback.customer_id
            )
        ).all()
        by_phone = {phone: variables["campaign"] for phone, variables in rows}
    assert by_phone["+393331000001"] == "la sua nuova carta è in arrivo"
    assert by_phone["+48601100004"] == "Pani/Pana nowa karta jest w drodze"
    assert by_phone["+442079460555"] == "your new card is on its way"


def test_rows_and_people_are_counted_apart(app, customers):  # noqa: F811
    client = sign_in(app, "supervisor")
    campaign_id = create(client, csv="external_id,phone\nc1,\nc1,\n,+39 333 100 0001\nghost,\n")

    page = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)

    assert 'data-testid="rows-read">4<' in page
    assert 'data-testid="rows-usable">1<' in page
    assert 'data-testid="rows-unusable">3<' in page
    assert 'data-testid="audience">1<' in page


def test_a_draft_offers_delete_not_cancel_and_is_deleted_after_a_confirmation(
    app,
    customers,  # noqa: F811
):
    client = sign_in(app, "supervisor")
    campaign_id = create(client)
    page = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)

    refused = client.post(
        f"/console/campaigns/{campaign_id}/cancel",
        data={"csrf_token": client.csrf, "confirm": "1"},
        follow_redirects=True,
    )
    asked = client.post(
        f"/console/campaigns/{campaign_id}/delete", data={"csrf_token": client.csrf}
    )
    with app.app_context():
        kept = db.session.get(Campaign, uuid.UUID(campaign_id)).status
    deleted = client.post(
        f"/console/campaigns/{campaign_id}/delete",
        data={"csrf_token": client.csrf, "confirm": "1"},
        follow_redirects=True,
    )

    assert "Delete the draft…" in page and "Cancel the campaign" not in page
    assert "a draft has nothing to cancel: delete it instead" in refused.get_data(as_text=True)
    assert "Yes, delete the draft" in asked.get_data(as_text=True)
    assert kept is CampaignStatus.DRAFT
    assert "is deleted." in deleted.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Campaign).count() == 0
        assert db.session.query(AuditEvent).filter_by(action="campaign.deleted").count() == 1

"""The campaigns API: an integrator creates a campaign from a CSV, reads its pre-flight, starts,
pauses, resumes and cancels it, and reads its progress; refusals name the field."""

from __future__ import annotations

import pytest

from tests.engine_fixtures import MORNING

pytestmark = pytest.mark.usefixtures("lines", "clock")

CAMPAIGN = {
    "name": "Card renewal",
    "purpose": "your new card is on its way",
    "purposes": {
        "it": "la sua nuova carta è in arrivo",
        "pl": "Pani/Pana nowa karta jest w drodze",
    },
    "starts_at": MORNING.isoformat(),
    "ends_at": MORNING.replace(day=MORNING.day + 7).isoformat(),
    "window_start": "09:00",
    "window_end": "19:00",
    "csv": "external_id\nc1\nc2\nghost\nc1\n",
}


@pytest.fixture
def audience(api):
    api.post("/api/v1/customers", json={"external_id": "c1", "phone": "+39 333 100 0001"})
    api.post("/api/v1/customers", json={"external_id": "c2", "phone": "+48 601 100 002"})


def test_a_campaign_is_created_read_started_paused_resumed_and_cancelled(api, audience):
    created = api.post("/api/v1/campaigns", json=CAMPAIGN)
    campaign_id = created.get_json()["id"]
    preflight = api.get(f"/api/v1/campaigns/{campaign_id}/preflight").get_json()
    started = api.post(f"/api/v1/campaigns/{campaign_id}/start")
    paused = api.post(f"/api/v1/campaigns/{campaign_id}/pause")
    resumed = api.post(f"/api/v1/campaigns/{campaign_id}/resume")
    cancelled = api.post(f"/api/v1/campaigns/{campaign_id}/cancel")
    again = api.post(f"/api/v1/campaigns/{campaign_id}/cancel")
    read = api.get(f"/api/v1/campaigns/{campaign_id}").get_json()

    assert created.status_code == 201
    assert created.get_json()["status"] == "draft"
    assert [e["error"] for e in created.get_json()["row_errors"]] == [
        "no customer with external_id ghost",
        "a duplicate of an earlier row",
    ]
    assert preflight["rows"] == {"read": 4, "usable": 2, "unusable": 2}
    assert (preflight["audience"], preflight["will_call"]) == (2, 2)
    assert preflight["languages"] == ["it", "pl"]
    assert started.get_json()["status"] == "running" and started.get_json()["queued"] == 2
    assert paused.get_json()["status"] == "paused"
    assert resumed.get_json()["status"] == "running"
    assert cancelled.get_json()["status"] == "cancelled"
    assert again.status_code == 409
    assert read["progress"]["total"] == 2 and read["progress"]["by_outcome"] == {"cancelled": 2}


def test_a_language_of_the_audience_without_its_purpose_is_a_422(api, audience):
    response = api.post("/api/v1/campaigns", json={**CAMPAIGN, "purposes": {"it": "carta"}})

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "purposes.pl"


def test_a_flow_not_for_campaigns_and_an_unknown_campaign_are_refused(api, audience):
    flow = api.post("/api/v1/campaigns", json={**CAMPAIGN, "flow": "transaction_alert"})
    unknown = api.get("/api/v1/campaigns/00000000-0000-4000-8000-000000000000")
    cancel_draft = api.post(
        f"/api/v1/campaigns/{api.post('/api/v1/campaigns', json=CAMPAIGN).get_json()['id']}/cancel"
    )

    assert flow.status_code == 422 and flow.get_json()["error"]["field"] == "flow"
    assert unknown.status_code == 404
    assert cancel_draft.status_code == 409

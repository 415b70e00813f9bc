"""The callback page's "Call now" and the desk's "calling the customer…", on both databases."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.callbacks.models import Callback, CallbackStatus
from app.extensions import db
from tests.console.conftest import sign_in
from tests.console.test_desk import Recorder, flagged_payment, staff_id, text

pytestmark = pytest.mark.usefixtures("accounts", "lines", "customer", "clock")


def ours(app) -> list[Callback]:
    with app.app_context():
        found = list(db.session.scalars(select(Callback).where(Callback.flow == "agent_callback")))
        db.session.expunge_all()
        return found


def test_an_agents_call_now_queues_our_call_for_them_and_their_desk_says_so(app, api):
    matter = flagged_payment(api)
    desk = Recorder(sign_in(app, "agent"))

    page = desk.get(f"/console/callbacks/{matter}")
    assert 'data-testid="call-now"' in text(page)
    # "Call now…" asks first, naming the customer and what the call is about; nothing is queued.
    asked = desk.get(f"/console/callbacks/{matter}/call-now")
    assert "Call the customer now?" in text(asked)
    assert "Unusual payment check for Giulia Rossi, +39 333 123 4567" in text(asked)
    assert ours(app) == []
    answer = desk.post(f"/console/callbacks/{matter}/call-now")

    assert "We are calling the customer" in text(answer)
    assert "Calling the customer…" in text(answer)  # back on the desk
    [calling] = ours(app)
    assert calling.status is CallbackStatus.QUEUED and calling.priority.value == "high"
    assert calling.variables["agent_id"] == str(staff_id(app, "agent"))
    assert calling.variables["matter_id"] == matter
    assert calling.variables["skill"] == "fraud"
    state = desk.get("/console/desk/state").get_json()
    assert [c["callback_id"] for c in state["calling"]] == [str(calling.id)]
    with app.app_context():
        [asked] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "agent.call_now")
        )
        assert asked.actor == "staff:agent@bank.example"

    # Asked again while it waits for the dialer: the same call, nothing doubled.
    desk.post(f"/console/callbacks/{matter}/call-now")
    assert [c.id for c in ours(app)] == [calling.id]


def test_call_now_is_refused_clearly_for_what_cannot_be_called(app, api):
    matter = flagged_payment(api)
    desk = Recorder(sign_in(app, "agent"))
    desk.post(f"/console/callbacks/{matter}/call-now")
    [calling] = ours(app)

    again = desk.post(f"/console/callbacks/{calling.id}/call-now")
    unknown = desk.post(f"/console/callbacks/{uuid.uuid4()}/call-now")

    assert "Not called: this is already our call for an agent." in text(again)
    assert "Not called: no callback has this id." in text(unknown)
    assert len(ours(app)) == 1


def test_an_auditor_sees_no_call_now_and_cannot_post_it(app, api):
    matter = flagged_payment(api)
    auditor = sign_in(app, "auditor")

    page = auditor.get(f"/console/callbacks/{matter}")
    asked = auditor.get(f"/console/callbacks/{matter}/call-now")
    posted = auditor.post(
        f"/console/callbacks/{matter}/call-now", data={"csrf_token": auditor.csrf}
    )

    assert 'data-testid="call-now"' not in page.get_data(as_text=True)
    assert asked.status_code == 403 and posted.status_code == 403
    assert ours(app) == []

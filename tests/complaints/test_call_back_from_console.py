"""The complaint's team calls the complainant back from the console, on both databases.

A customer we know, on their registered number: "Call back now…" asks first (who, which number,
which complaint), then queues our agent_callback call, which verifies them with an app code and
only then rings the desk of whoever asked; the complaint's page follows that call. Anyone else
(not a customer, or a customer whose number changed since) is called from a phone, and the team
notes that they did.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.callbacks.models import Callback, CallbackStatus
from app.complaints.models import Complaint
from app.extensions import db
from tests.console.conftest import accounts, sign_in  # noqa: F401 (a fixture)
from tests.console.test_desk import Recorder, staff_id, text

pytestmark = pytest.mark.usefixtures("accounts", "lines", "clock")

CUSTOMER_PHONE = "+39 333 123 4567"  # Giulia Rossi's, the `customer` fixture's
STRANGER_PHONE = "+39 333 765 4321"


def file(client, phone: str = CUSTOMER_PHONE) -> str:
    answer = client.post(
        "/api/v1/complaints",
        json={"phone": phone, "text": "Charged twice", "call_me": True},
    )
    assert answer.status_code == 201
    return answer.get_json()["reference"]


def ours(app) -> list[Callback]:
    """Our calls for an agent (the agent_callback flow)."""
    with app.app_context():
        found = list(db.session.scalars(select(Callback).where(Callback.flow == "agent_callback")))
        db.session.expunge_all()
        return found


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
        return found


@pytest.mark.usefixtures("customer")
def test_a_customers_call_back_asks_first_then_queues_one_verified_call_for_the_agent(app, client):
    reference = file(client)
    desk = Recorder(sign_in(app, "agent"))

    page = text(desk.get(f"/console/complaints/{reference}"))
    assert "The complainant asked to be called back about it" in page
    assert 'data-testid="call-back-now"' in page
    # "Call back now…" asks first, naming the customer, the number and the complaint.
    asked = text(desk.get(f"/console/complaints/{reference}/call-back"))
    assert "Call the complainant back now?" in asked
    assert f"Giulia Rossi, {CUSTOMER_PHONE}, about complaint {reference}" in asked
    assert ours(app) == []

    answer = text(desk.post(f"/console/complaints/{reference}/call-back"))

    assert "We are calling the customer: your desk rings once they have verified." in answer
    assert "Calling the customer…" in answer  # back on the desk, which waits for them
    [calling] = ours(app)
    assert calling.to_number == "+393331234567"
    assert calling.status is CallbackStatus.QUEUED and calling.priority.value == "high"
    assert calling.variables == {
        "agent_id": str(staff_id(app, "agent")),
        "skill": "complaints",
        "complaint": reference,
    }
    [queued] = audit(app, "complaint.call_back_queued")
    assert queued.subject_id == reference and queued.actor == "staff:agent@bank.example"
    assert queued.changes["callback_id"] == str(calling.id)
    # The complaint's page shows our call and where it stands, linked to its page.
    page = text(desk.get(f"/console/complaints/{reference}"))
    assert f"our call to {CUSTOMER_PHONE}" in page
    assert f'href="/console/callbacks/{calling.id}"' in page
    assert 'data-testid="call-back-status">Waiting to be called<' in page
    # The audit log names it in words.
    log = text(desk.get(f"/console/audit?subject_type=complaint&subject_id={reference}"))
    assert "Our call to the complainant queued" in log

    # Asked again while it waits for the dialer: the same call, nothing doubled.
    desk.post(f"/console/complaints/{reference}/call-back")
    assert [c.id for c in ours(app)] == [calling.id]
    page = text(desk.get(f"/console/complaints/{reference}"))
    assert page.count(f"our call to {CUSTOMER_PHONE}") == 1


@pytest.mark.usefixtures("customer")
def test_a_supervisor_without_a_desk_yet_calls_back_and_their_desk_is_rung(app, client):
    reference = file(client)
    supervisor = Recorder(sign_in(app, "supervisor"))

    answer = text(supervisor.post(f"/console/complaints/{reference}/call-back"))

    assert "We are calling the customer" in answer
    [calling] = ours(app)
    assert calling.variables["agent_id"] == str(staff_id(app, "supervisor"))


@pytest.mark.usefixtures("customer")
def test_a_call_being_dialed_refuses_the_call_back_and_nothing_is_written(app, client):
    reference = file(client)
    desk = Recorder(sign_in(app, "agent"))
    desk.post(f"/console/complaints/{reference}/call-back")
    [calling] = ours(app)
    with app.app_context():
        db.session.get_one(Callback, calling.id).status = CallbackStatus.IN_CALL
        db.session.commit()

    answer = text(desk.post(f"/console/complaints/{reference}/call-back"))

    assert "Not called: we are calling this customer for someone right now" in answer
    assert len(ours(app)) == 1
    assert len(audit(app, "complaint.call_back_queued")) == 1


def test_a_complainant_who_is_no_customer_is_called_from_a_phone_and_that_is_noted(app, client):
    reference = file(client, STRANGER_PHONE)
    desk = Recorder(sign_in(app, "agent"))

    page = text(desk.get(f"/console/complaints/{reference}"))
    assert 'data-testid="call-back-now"' not in page
    assert f"Not a customer we can verify: call {STRANGER_PHONE} from your phone." in page
    asked = text(
        desk.client.get(f"/console/complaints/{reference}/call-back", follow_redirects=True)
    )
    posted = text(desk.post(f"/console/complaints/{reference}/call-back"))
    refusal = "Not called: the complainant is not a customer we can verify"
    assert refusal in asked and refusal in posted
    assert ours(app) == []
    assert audit(app, "complaint.call_back_queued") == []

    noted = text(
        desk.post(f"/console/complaints/{reference}/called-back", note="They accept the refund")
    )

    assert "Noted: the complainant was called back." in noted
    assert "Called back by phone: They accept the refund" in noted  # the notes
    assert "called back by phone" in noted  # the call back row
    [called] = audit(app, "complaint.called_back")
    assert called.subject_id == reference and called.actor == "staff:agent@bank.example"
    assert ours(app) == []


@pytest.mark.usefixtures("customer")
def test_a_customer_whose_number_changed_since_is_not_called_on_either_number(app, client, api):
    reference = file(client)
    desk = Recorder(sign_in(app, "agent"))
    # The page was read while the number was still theirs; the number changes before the click.
    assert 'data-testid="call-back-now"' in text(desk.get(f"/console/complaints/{reference}"))
    with app.app_context():
        customer_id = db.session.scalar(select(Complaint.customer_id))
    changed = api.patch(f"/api/v1/customers/{customer_id}", json={"phone": "333 000 1111"})
    assert changed.status_code == 200

    answer = text(desk.post(f"/console/complaints/{reference}/call-back"))

    assert "Not called: the customer's registered number is no longer the one on this" in answer
    assert ours(app) == []
    assert audit(app, "complaint.call_back_queued") == []
    page = text(desk.get(f"/console/complaints/{reference}"))
    assert 'data-testid="call-back-now"' not in page
    assert "The customer's registered number is no longer this one" in page


@pytest.mark.usefixtures("customer")
def test_an_auditor_sees_no_call_back_and_cannot_post_one(app, client):
    reference = file(client)
    auditor = sign_in(app, "auditor")

    page = text(auditor.get(f"/console/complaints/{reference}"))
    posted = auditor.post(
        f"/console/complaints/{reference}/call-back", data={"csrf_token": auditor.csrf}
    )
    noted = auditor.post(
        f"/console/complaints/{reference}/called-back", data={"csrf_token": auditor.csrf}
    )

    assert "The complainant asked to be called back about it" in page
    assert 'data-testid="call-back-now"' not in page and 'data-testid="called-back"' not in page
    assert (posted.status_code, noted.status_code) == (403, 403)
    assert ours(app) == []


@pytest.mark.usefixtures("customer")
def test_the_agent_who_called_back_sees_which_complaint_once_the_customer_verified(
    app, client, simulator, dispatcher, clock
):
    from app.agents import route_tick
    from app.agents import service as agents
    from app.agents.models import Presence, QueueEntry, QueueState
    from app.audit.service import Actor
    from app.carriers.simulator import CalleeScript
    from app.staff.models import StaffUser
    from tests.telephony_fixtures import VALID_CODE

    reference = file(client)
    who = staff_id(app, "agent")
    with app.app_context():
        agent = agents.profile(db.session, db.session.get_one(StaffUser, who))
        agents.set_skills(db.session, agent, ["complaints"], ["it", "en"], actor=Actor("test"))
        agents.set_presence(db.session, agent, Presence.AVAILABLE, actor=Actor("test"), now=clock())
        db.session.commit()
    desk = Recorder(sign_in(app, "agent"))
    desk.post(f"/console/complaints/{reference}/call-back")

    simulator.expect("+393331234567", CalleeScript(keys=[VALID_CODE]))  # they verify
    with app.app_context():
        assert dispatcher().dispatch() == 1
        route_tick(app, "w1")
        entry = db.session.scalars(select(QueueEntry)).one()
        assert (entry.state, entry.agent_id) == (QueueState.OFFERED, who)
    page = text(desk.post("/console/desk/answer", entry_id=str(entry.id)))

    assert "Answered: you are on the call." in page
    about = page[page.index('data-testid="matter-complaint"') :].split("</p>")[0]
    assert re.sub(r"<[^>]+>", "", about.split(">", 1)[1]) == f"About complaint {reference}"
    assert f'href="/console/complaints/{reference}"' in about

"""GET /api/v1/customers/{id}/call-status: what the app shows of our calls (calling you now, on a
call with us, scheduled, called, not called), and customer.call_status_changed to the core system
once per change, in the transaction of the change."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.agents.models import QueueEntry, QueueState
from app.audit.service import Actor
from app.calls.models import Call, CallDirection, CallStatus
from app.calls.service import CallUrls, record_status, start_outbound_call
from app.carriers.service import telephony_for
from app.carriers.simulator import WsgiTransport
from app.customers.service import find_by_external_id
from app.extensions import db
from app.flows.registry import flows
from app.messaging.models import OutboxMessage
from tests.agents.conftest import add_agent
from tests.engine_fixtures import MORNING

pytestmark = pytest.mark.usefixtures("lines", "clock")

OUR_NUMBER = "+14155550100"


def status(api, customer) -> dict:
    answer = api.get(f"/api/v1/customers/{customer['id']}/call-status")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def told(app) -> list[dict]:
    """The call statuses the core system was sent, in order."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.subject == "customer.call_status_changed")
            .order_by(OutboxMessage.id)
        ).all()
        return [json.loads(row.body)["call_status"] for row in rows]


def ring(app) -> tuple[str, str]:
    """We call the customer; their softphone rings until they answer. Answers (reference, sid)."""
    carrier = telephony_for(app)
    carrier.transport, carrier.synchronous = WsgiTransport(app), True
    with app.app_context():
        call = start_outbound_call(
            db.session,
            telephony=carrier,
            urls=CallUrls(app),
            customer=find_by_external_id(db.session, "cust-it"),
            flow=flows()["registration_check"],
            actor=Actor("test"),
            variables={},
        )
        return str(call.reference), str(call.sid)


def test_nobody_called_reads_not_called_and_tells_the_core_nothing(api, app, customer):
    assert status(api, customer) == {"status": "not_called"}
    assert told(app) == []


def test_a_call_ringing_then_declined_reads_calling_now_then_called(api, app, customer, clock):
    reference, sid = ring(app)
    clock.set(MORNING + timedelta(minutes=1))

    ringing = status(api, customer)
    assert ringing == {"status": "calling_now", "reference": reference, "number": OUR_NUMBER}

    app.test_client().post(f"/simulator/phone/calls/{sid}/decline", json={})
    after = status(api, customer)

    assert after["status"] == "called" and set(after) == {"status", "at"}
    statuses = [s["status"] for s in told(app)]
    assert statuses == ["calling_now", "called"]  # once each, in order
    assert told(app)[0]["reference"] == reference


def test_a_repeated_status_report_tells_the_core_nothing_new(api, app, customer):
    _, sid = ring(app)
    before = told(app)
    with app.app_context():
        call = db.session.scalar(sa.select(Call).where(Call.sid == sid))
        record_status(db.session, call=call, status="ringing")
        db.session.commit()

    assert told(app) == before


def test_a_queued_callback_reads_scheduled_and_cancelling_it_tells_the_core(
    api, app, customer, clock
):
    answer = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
            "call_at": (MORNING + timedelta(hours=3)).isoformat(),
        },
    )
    assert answer.status_code == 202, answer.get_json()
    callback_id = answer.get_json()["callback_id"]

    scheduled = status(api, customer)
    assert scheduled["status"] == "scheduled"
    assert scheduled["at"].startswith("2026-11-23T13:00")

    assert api.delete(f"/api/v1/callbacks/{callback_id}").status_code in (200, 204)
    assert status(api, customer) == {"status": "not_called"}
    assert [s["status"] for s in told(app)] == ["scheduled", "not_called"]


def test_on_a_call_with_an_agent_reads_their_first_name_only(api, app, customer, clock):
    with app.app_context():
        person = find_by_external_id(db.session, "cust-it")
        agent = add_agent(db.session, "Marta Kowalska Nowak", languages=("it",))
        call = Call(
            id=uuid.uuid4(),
            sid=f"CA{uuid.uuid4().hex}",
            direction=CallDirection.INBOUND,
            from_number=person.phone,
            to_number="+14155550101",
            customer_id=person.id,
            flow="verify_caller_line",
            flow_version=1,
            locale="it",
            status=CallStatus.IN_PROGRESS,
            created_at=MORNING,
        )
        db.session.add(call)
        db.session.commit()
        ivr = status(api, customer)
        db.session.add(
            QueueEntry(
                call_id=call.id,
                customer_id=person.id,
                skill="general",
                priority=2,
                locale="it",
                entered_at=MORNING,
                state=QueueState.CONNECTED,
                agent_id=agent.staff_id,
            )
        )
        db.session.commit()

    assert ivr == {"status": "on_call", "with": "ivr"}
    assert status(api, customer) == {"status": "on_call", "with": "Marta"}
    assert [s.get("with") for s in told(app)] == ["ivr", "Marta"]


def test_an_unknown_customer_is_a_404(api):
    answer = api.get(f"/api/v1/customers/{uuid.uuid4()}/call-status")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["field"] == "id"


# ----- POST /api/v1/customers/{id}/call-reports: a suspicious call reported from the app -----


def test_a_report_from_the_app_carries_our_call_ringing_at_that_moment(api, app, customer):
    reference, _ = ring(app)

    answer = api.post(
        f"/api/v1/customers/{customer['id']}/call-reports",
        json={"number": "06 1234 5678", "description": "Asked me to move my savings"},
    )

    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["reference"].startswith("RPT-")
    assert body["call_status"] == {
        "status": "calling_now",
        "reference": reference,
        "number": OUR_NUMBER,
    }
    queued = api.get(f"/api/v1/scam-reports/{body['reference']}").get_json()
    assert (queued["channel"], queued["status"]) == ("app", "new")
    assert queued["reported_number"] == "+390612345678"  # read in the customer's country
    assert queued["reporter_phone"] == "+393331234567"
    new = [r["reference"] for r in api.get("/api/v1/scam-reports?status=new").get_json()]
    assert body["reference"] in new


def test_a_report_from_the_app_may_leave_the_number_out(api, app, customer):
    answer = api.post(f"/api/v1/customers/{customer['id']}/call-reports", json={})

    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["call_status"] == {"status": "not_called"}
    report = api.get(f"/api/v1/scam-reports/{answer.get_json()['reference']}").get_json()
    assert report["reported_number"] is None and report["number_official"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [({"number": "not a number"}, "number"), ({"description": "x" * 2001}, "description")],
)
def test_a_bad_report_from_the_app_is_a_422_naming_the_field(api, customer, body, field):
    answer = api.post(f"/api/v1/customers/{customer['id']}/call-reports", json=body)

    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field


def test_a_report_for_an_unknown_customer_is_a_404(api):
    answer = api.post(f"/api/v1/customers/{uuid.uuid4()}/call-reports", json={})
    assert answer.status_code == 404


def test_a_callback_dialed_and_answered_goes_from_scheduled_to_called_never_not_called(
    api, app, customer, simulator, dispatcher
):
    from app.carriers.simulator import CalleeScript
    from tests.telephony_fixtures import VALID_CODE

    answer = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
        },
    )
    assert answer.get_json()["callback_id"]
    simulator.expect("+393331234567", CalleeScript(keys=[VALID_CODE, "1"]))

    with app.app_context():
        assert dispatcher().dispatch() == 1

    statuses = [s["status"] for s in told(app)]
    assert statuses[0] == "scheduled" and statuses[-1] == "called"
    assert "on_call" in statuses and "not_called" not in statuses
    assert all(a != b for a, b in itertools.pairwise(told(app)))  # each one a change
    assert status(api, customer)["status"] == "called"


# ----- the changes only time makes: the worker's call_status_clock -----


def run_the_clock(app) -> None:
    from app.registry import registry_of

    with app.app_context():
        registry_of(app).ticks["call_status_clock"].run(app, "w1")
        db.session.remove()


def test_24_hours_after_our_call_the_core_hears_not_called_once(api, app, customer, clock):
    _, sid = ring(app)
    app.test_client().post(f"/simulator/phone/calls/{sid}/decline", json={})
    assert [s["status"] for s in told(app)] == ["calling_now", "called"]
    called_at = datetime.fromisoformat(told(app)[-1]["at"])

    clock.set(called_at + timedelta(hours=23, minutes=59))
    run_the_clock(app)
    assert [s["status"] for s in told(app)] == ["calling_now", "called"]  # not yet

    clock.set(called_at + timedelta(hours=24, minutes=1))
    run_the_clock(app)
    run_the_clock(app)  # again: nothing new to tell

    assert [s["status"] for s in told(app)] == ["calling_now", "called", "not_called"]
    assert status(api, customer) == {"status": "not_called"}


def test_a_call_that_never_reported_its_end_stops_showing_as_live_after_4_hours(
    api, app, customer, clock
):
    _, sid = ring(app)  # ringing, and the carrier never says how it ended
    with app.app_context():
        placed = db.session.scalar(sa.select(Call.created_at).where(Call.sid == sid))
    clock.set(placed + timedelta(hours=3))
    run_the_clock(app)
    assert [s["status"] for s in told(app)] == ["calling_now"]

    clock.set(placed + timedelta(hours=4, minutes=1))
    run_the_clock(app)

    statuses = [s["status"] for s in told(app)]
    assert statuses == ["calling_now", "called"]  # we did call, within 24 hours
    assert status(api, customer)["status"] == "called"


def test_two_workers_running_the_clock_at_once_tell_each_change_once(
    api, app, customer, clock, database_url
):
    import threading

    if not database_url.startswith("postgresql"):
        pytest.skip("racing workers share one PostgreSQL (SQLite has a single writer)")
    _, sid = ring(app)
    app.test_client().post(f"/simulator/phone/calls/{sid}/decline", json={})
    clock.set(datetime.fromisoformat(told(app)[-1]["at"]) + timedelta(hours=25))
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            run_the_clock(app)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert [s["status"] for s in told(app)] == ["calling_now", "called", "not_called"]

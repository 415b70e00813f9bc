"""The "is this call really from us?" phone line, played on the simulator."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.authenticity.models import ReportChannel, ScamReport
from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt
from app.extensions import db
from app.telephony.calls import CallUrls
from app.telephony.models import Call
from app.telephony.simulator import CalleeScript
from tests.engine_fixtures import MORNING, callback_of
from tests.telephony_fixtures import place

pytestmark = pytest.mark.usefixtures("lines", "clock")
HOTLINE = "+14155550101"


def ring_the_line(app, simulator, caller: str, keys: list[str]):
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=caller,
            to=HOTLINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys),
        )
        call = db.session.scalar(sa.select(Call).filter_by(sid=simulated.sid))
        db.session.expunge(call)
    heard = [line.text for line in simulated.lines if line.who == "call"]
    return call, heard


@pytest.fixture
def retired(api):
    api.post(
        "/api/v1/official-numbers",
        json={"phone": "+1 415 555 0199", "purpose": "outbound_verification", "label": "Old"},
    )
    api.delete("/api/v1/official-numbers/+14155550199")


@pytest.mark.parametrize(
    ("keyed", "words"),
    [
        ("14155550100#", "is ours: Verification calls. We do make calls from it."),
        ("0014155550101#", "we never make calls from it"),  # inbound-only: spoofed
        ("14155550199#", "It no longer calls anyone"),
        ("390612345678#", "is not one of ours"),
    ],
)
def test_the_line_says_whether_the_keyed_number_is_ours(app, simulator, retired, keyed, words):
    _, heard = ring_the_line(app, simulator, "+447700900123", [keyed, "2"])

    assert any("We will never ask you for your password" in text for text in heard)
    assert any(words in text for text in heard), heard
    assert any("We have not called the number you are calling from" in text for text in heard)
    assert heard[-1].startswith("If you are in doubt about a call")


def test_a_local_number_is_read_in_the_callers_country(app, simulator):
    _, heard = ring_the_line(app, simulator, "+393337654321", ["0612345678#", "2"])

    assert any("3 9 0 6 1 2 3 4 5 6 7 8" in text for text in heard)  # read as +39 06...


def test_we_did_not_call_you_files_a_phone_report(app, api, simulator):
    call, heard = ring_the_line(app, simulator, "+48601234567", ["48221234567#", "1", "1"])

    with app.app_context():
        report = db.session.scalars(sa.select(ScamReport)).one()
        assert (report.channel, report.reported_number, report.reporter_phone) == (
            ReportChannel.PHONE,
            "+48221234567",
            "+48601234567",
        )
        assert report.asked_for == ["password", "pin", "sms_code"]
        assert report.call_id == call.id and report.locale == "pl"
        spelled = " ".join(ch for ch in report.reference if ch.isalnum())
    assert spelled in heard[-1]  # the reference, one character at a time
    assert heard[-1].startswith("Dziękujemy")  # the caller's language (Poland)
    assert call.outcome == "reported"
    queue = api.get("/api/v1/scam-reports?status=new").get_json()
    assert [r["channel"] for r in queue] == ["phone"]


def test_yes_we_called_you_names_only_the_kind_of_matter(app, simulator, customer):
    place(app, simulator, keys=["", "", ""])  # an outbound call to the customer, not verified

    call, heard = ring_the_line(app, simulator, "+393331234567", ["14155550100#"])

    assert any("nelle ultime 24 ore abbiamo chiamato" in text for text in heard), heard
    assert not any("Electro Shop" in text or "249" in text for text in heard)
    assert call.outcome == "informed"


def test_a_withheld_number_cannot_be_matched(app, simulator):
    _, heard = ring_the_line(app, simulator, "anonymous", ["14155550100#", "2"])

    assert any("We have not called the number you are calling from" in text for text in heard)


def test_a_waiting_callback_is_taken_on_the_line_and_verified_with_the_app(
    app, api, simulator, customer, clock
):
    app.extensions.pop("code_checker")  # the product's checker: the customer's app code
    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()["callback_id"]
    code = api.post(
        f"/api/v1/customers/{customer['id']}/app-codes", json={"callback_id": callback_id}
    ).get_json()["code"]

    call, heard = ring_the_line(app, simulator, "+393331234567", ["#", "1", code, "1"])

    assert any("un nuovo conto aperto a tuo nome" in text for text in heard), heard
    finished = callback_of(app, callback_id)
    assert (finished.status.value, finished.outcome.value) == ("done", "confirmed")
    with app.app_context():
        attempt = db.session.scalars(sa.select(CallbackAttempt)).one()
        assert (attempt.call_id, attempt.status, attempt.worker) == (
            call.id,
            AttemptStatus.ENDED,
            "inbound-line",
        )
        assert db.session.get_one(Call, call.id).flow == "registration_check"
        assert db.session.get_one(Callback, finished.id).attempts == 1


def test_a_callback_being_dialed_now_is_not_taken_twice(app, api, simulator, customer):
    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-2",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()["callback_id"]
    with app.app_context():  # a worker claims it between the menu and the key press
        from app.callbacks.models import CallbackStatus

        db.session.get_one(Callback, uuid.UUID(callback_id)).status = CallbackStatus.CLAIMED
        db.session.commit()

    _, heard = ring_the_line(app, simulator, "+393331234567", ["#", "1"])

    assert any("un nuovo conto aperto a tuo nome" in text for text in heard)
    assert heard[-1].startswith("Ti stiamo chiamando proprio adesso")
    assert callback_of(app, callback_id).status.value == "claimed"  # still the worker's

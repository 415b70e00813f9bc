"""Twilio webhooks: only Twilio's signature gets in, and repeated or late reports change nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from lxml import etree

from app.audit.models import AuditEvent
from app.callbacks.models import Callback
from app.calls.models import Call, CallEvent, CallStep, CallTurn
from app.calls.service import CallUrls
from app.carriers.signatures import signature_for, signing_token
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.extensions import db
from app.fraud.models import FraudCase
from app.verification.models import VerificationAttempt
from tests.engine_fixtures import MORNING, callback_of
from tests.support import count_rows
from tests.telephony_fixtures import VALID_CODE, place

PUBLIC = "http://127.0.0.1:5000"  # the default PUBLIC_BASE_URL


def signed_post(client, app, path, params, *, url=None, token=None, headers=None):
    """POST as Twilio would: form parameters, signed over the public URL."""
    token = token or signing_token(app.config)
    signature = signature_for(token, url or PUBLIC + path, params)
    return client.post(
        path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
    )


INBOUND = {
    "CallSid": "CA" + "1" * 32,
    "From": "+48601234567",
    "To": "+14155550102",
    "AccountSid": "AC" + "5" * 32,
    "CallStatus": "ringing",
    "Direction": "inbound",
}


@pytest.mark.usefixtures("lines")
def test_a_signed_inbound_call_is_answered_with_its_lines_flow(client, app):
    response = signed_post(client, app, "/twilio/voice/inbound", INBOUND)

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "linia reklamacji" in response.get_data(as_text=True)  # a Polish caller hears Polish
    assert count_rows(app, Call) == 1


@pytest.mark.usefixtures("lines")
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c, a: c.post("/twilio/voice/inbound", data=INBOUND), id="missing"),
        pytest.param(
            lambda c, a: signed_post(c, a, "/twilio/voice/inbound", INBOUND, token="not-ours"),
            id="wrong-token",
        ),
        pytest.param(
            lambda c, a: signed_post(
                c,
                a,
                "/twilio/voice/inbound",
                INBOUND,
                url="https://attacker.example/twilio/voice/inbound",
            ),
            id="other-url",
        ),
        pytest.param(
            lambda c, a: c.post(
                "/twilio/voice/inbound",
                data={**INBOUND, "From": "+48601234568"},
                headers={
                    "X-Twilio-Signature": signature_for(
                        signing_token(a.config), PUBLIC + "/twilio/voice/inbound", INBOUND
                    )
                },
            ),
            id="tampered-body",
        ),
    ],
)
def test_unsigned_forged_or_misdirected_webhooks_get_403_and_change_nothing(client, app, forge):
    response = forge(client, app)

    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert count_rows(app, Call) == 0


@pytest.mark.usefixtures("lines", "customer")
def test_every_webhook_route_checks_the_signature(client, app, simulator):
    placed = place(app, simulator, keys=[VALID_CODE, "1"])
    call_id = placed.call.id
    before = (count_rows(app, CallEvent), count_rows(app, CallTurn))
    for path in [
        "/twilio/voice/status",
        f"/twilio/voice/status?call={call_id}",
        f"/twilio/voice/calls/{call_id}/start",
        f"/twilio/voice/calls/{call_id}/nodes/explain",
        f"/twilio/voice/calls/{call_id}/nodes/verify/input?attempt=1",
        f"/twilio/voice/calls/{call_id}/nodes/verify/recorded",
        f"/twilio/voice/calls/{call_id}/nodes/verify/dialed",
    ]:
        response = client.post(
            path, data={"CallSid": placed.call.sid, "Digits": "1", "CallStatus": "failed"}
        )
        assert response.status_code == 403, path
    assert (count_rows(app, CallEvent), count_rows(app, CallTurn)) == before


def test_behind_a_tls_proxy_the_public_url_is_what_is_checked(database_url, lines):
    from tests.conftest import make_app

    app = make_app(database_url, PUBLIC_BASE_URL="https://calls.example.com")
    client = app.test_client()
    public = "https://calls.example.com/twilio/voice/inbound"

    accepted = signed_post(
        client,
        app,
        "/twilio/voice/inbound",
        INBOUND,
        url=public,
        headers={"X-Forwarded-Proto": "https"},
    )
    refused = signed_post(
        client, app, "/twilio/voice/inbound", INBOUND, url="http://localhost/twilio/voice/inbound"
    )

    assert accepted.status_code == 200
    assert refused.status_code == 403


def status_report(call: Call, status: str, sequence: int, **extra: str) -> dict[str, str]:
    return {
        "CallSid": call.sid or "",
        "CallStatus": status,
        "SequenceNumber": str(sequence),
        "AccountSid": "AC" + "5" * 32,
        **extra,
    }


@pytest.fixture
def answered_call(app, lines, customer, simulator):
    """A call the simulator placed and the callee answered; the test reports its ending."""
    placed = place(app, simulator, keys=[VALID_CODE, "1"])
    with app.app_context():
        call = db.session.get_one(Call, placed.call.id)
        # Forget the simulator's "completed" so the test can deliver it itself.
        db.session.execute(
            sa.delete(CallEvent).where(
                CallEvent.call_id == call.id, CallEvent.status == "completed"
            )
        )
        call.status, call.ended_at, call.duration_seconds = (
            type(call.status)("in-progress"),
            None,
            None,
        )
        db.session.commit()
        db.session.refresh(call)
        db.session.expunge(call)
    return call


def state(app, call_id: uuid.UUID):
    with app.app_context():
        call = db.session.get_one(Call, call_id)
        events = db.session.scalars(
            sa.select(CallEvent.status).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
        ).all()
        return (call.status.value, call.ended_at, call.duration_seconds, [e.value for e in events])


def test_a_repeated_status_callback_is_recorded_once(client, app, answered_call):
    path = f"/twilio/voice/status?call={answered_call.id}"
    report = status_report(answered_call, "completed", 3, CallDuration="61")

    first = signed_post(client, app, path, report)
    after_first = state(app, answered_call.id)
    again = signed_post(client, app, path, report)

    assert (first.status_code, again.status_code) == (204, 204)
    assert state(app, answered_call.id) == after_first
    assert after_first[0] == "completed" and after_first[2] == 61
    assert after_first[3].count("completed") == 1


def test_a_late_status_callback_never_moves_a_call_back(client, app, answered_call):
    path = f"/twilio/voice/status?call={answered_call.id}"
    signed_post(client, app, path, status_report(answered_call, "completed", 3, CallDuration="61"))
    after_completed = state(app, answered_call.id)

    late = signed_post(client, app, path, status_report(answered_call, "ringing", 1))
    late_answer = signed_post(client, app, path, status_report(answered_call, "in-progress", 2))

    assert (late.status_code, late_answer.status_code) == (204, 204)
    assert state(app, answered_call.id) == after_completed


def test_a_status_callback_for_an_unknown_call_is_ignored(client, app):
    response = signed_post(
        client, app, "/twilio/voice/status", {"CallSid": "CA" + "9" * 32, "CallStatus": "completed"}
    )

    assert response.status_code == 204
    assert count_rows(app, CallEvent) == 0


def test_a_step_of_one_call_cannot_be_replayed_on_another(client, app, answered_call):
    response = signed_post(
        client,
        app,
        f"/twilio/voice/calls/{answered_call.id}/nodes/ask_confirm/input?attempt=1",
        {"CallSid": "CA" + "8" * 32, "Digits": "2"},
    )

    assert response.status_code == 200
    assert b"<Hangup" in response.data
    with app.app_context():
        assert db.session.get_one(Call, answered_call.id).outcome == "confirmed"


# ----- each step once; nothing after the end -----


@dataclass
class Sent:
    url: str
    params: dict[str, str]
    signature: str
    body: str


class Recorder:
    """The simulator's way to the app, keeping each signed request it sent and the answer."""

    def __init__(self, inner) -> None:
        self.inner, self.sent = inner, []

    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        code, body = self.inner.post(url, params, signature)
        self.sent.append(Sent(url, dict(params), signature, body))
        return code, body

    def last(self, part: str) -> Sent:
        return [sent for sent in self.sent if part in sent.url][-1]


@pytest.fixture
def recorder(simulator) -> Recorder:
    simulator.transport = Recorder(simulator.transport)
    return simulator.transport


def replay(client, sent: Sent):
    """The very same signed request again (what a retry, or anyone who saw it, can send)."""
    return client.post(
        sent.url.removeprefix(PUBLIC),
        data=sent.params,
        headers={"X-Twilio-Signature": sent.signature},
    )


def verbs(body: bytes) -> list[str]:
    return [element.tag for element in etree.fromstring(body).iter()]


def what_changed(app) -> tuple[int, ...]:
    return tuple(
        count_rows(app, model)
        for model in (CallTurn, VerificationAttempt, AuditEvent, FraudCase, CallStep)
    )


@pytest.mark.usefixtures("lines")
def test_a_verify_step_replayed_after_a_confirmed_call_changes_nothing(
    app, api, client, simulator, recorder, dispatcher, customer
):
    app.extensions.pop("code_checker")  # the product's checker: a replayed code is spent
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
    simulator.expect(customer["phone"], CalleeScript(keys=[code, "1"]))
    with app.app_context():
        assert dispatcher().dispatch() == 1
    assert callback_of(app, callback_id).outcome.value == "confirmed"
    verify = recorder.last("/nodes/verify/input")
    before = what_changed(app)

    answers = [replay(client, verify) for _ in range(9)]

    with app.app_context():
        assert db.session.scalars(sa.select(Call.outcome)).one() == "confirmed"
    assert callback_of(app, callback_id).outcome.value == "confirmed"
    state_ = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert (state_["failures"], state_["locked"]) == (0, False)
    assert what_changed(app) == before  # no code checked, no turn, no audit entry
    assert {answer.status_code for answer in answers} == {200}
    assert all("Hangup" in verbs(a.data) and "Gather" not in verbs(a.data) for a in answers)


@pytest.mark.usefixtures("lines")
def test_a_step_sent_again_during_the_call_gets_the_same_answer_and_counts_once(
    app, api, client, simulator, recorder, customer, clock
):
    app.extensions.pop("code_checker")
    api.post(
        "/api/v1/events",
        json={
            "id": "reg-1",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
        },
    )
    with app.app_context():
        urls = CallUrls(app)
        call = SimulatedCall.inbound(
            from_=customer["phone"],
            to="+14155550101",
            url=urls.inbound(),
            status_callback=urls.status(),
            script=CalleeScript(),
        )
    simulator.calls[call.sid] = call
    pending = simulator.answer(call)
    for keys in ("#", "1", "111111"):  # a wrong code: asked again
        pending = simulator.press(call, pending, keys)
    wrong = recorder.last("/nodes/verify/input")
    before = what_changed(app)

    again = [replay(client, wrong) for _ in range(2)]

    assert [answer.get_data(as_text=True) for answer in again] == [wrong.body] * 2
    assert what_changed(app) == before
    state_ = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert state_["failures"] == 1
    # The call goes on from where it was: the right code now, then "yes, it was me".
    code = api.post(
        f"/api/v1/customers/{customer['id']}/app-codes", json={"purpose": "inbound_call"}
    ).get_json()["code"]
    pending = simulator.press(call, pending, code)
    simulator.press(call, pending, "1")
    simulator.finish(call)
    with app.app_context():
        assert db.session.scalars(sa.select(Callback.outcome)).one().value == "confirmed"


@pytest.mark.usefixtures("lines", "customer")
def test_steps_of_a_call_that_has_ended_are_refused_and_change_nothing(
    app, client, simulator, recorder
):
    placed = place(app, simulator, keys=[VALID_CODE, "1"])
    assert placed.call.outcome == "confirmed" and placed.statuses[-1] == "completed"
    asked = recorder.last("/nodes/ask_confirm/input")
    before = what_changed(app)

    late = [
        # "it was not me" at a question the call asked before it ended
        signed_post(client, app, asked.url.removeprefix(PUBLIC), {**asked.params, "Digits": "2"}),
        # and the start of the call, once more
        signed_post(
            client,
            app,
            f"/twilio/voice/calls/{placed.call.id}/start",
            {"CallSid": placed.call.sid, "AnsweredBy": "human"},
        ),
    ]

    for answer in late:
        assert answer.status_code == 200
        assert verbs(answer.data) == ["Response", "Say", "Hangup"]
        assert "Goodbye" in answer.get_data(as_text=True) or "Arrivederci" in answer.get_data(
            as_text=True
        )
    assert what_changed(app) == before
    with app.app_context():
        assert db.session.get_one(Call, placed.call.id).outcome == "confirmed"


def action_of(body: bytes) -> str:
    """Where Twilio goes next: the action of the TwiML's Gather or Record."""
    element = next(e for e in etree.fromstring(body).iter() if e.tag in ("Gather", "Record"))
    return element.get("action", "").removeprefix(PUBLIC)


@pytest.mark.usefixtures("lines")
def test_a_recording_reported_after_the_caller_hung_up_files_the_complaint_once(client, app):
    from app.complaints.models import Complaint

    line = {**INBOUND, "CallStatus": "in-progress"}
    answer = signed_post(client, app, "/twilio/voice/inbound", line)
    answer = signed_post(client, app, action_of(answer.data), {**line, "Digits": "1"})  # complain
    answer = signed_post(client, app, action_of(answer.data), {**line, "Digits": "1"})  # payments
    recorded = action_of(answer.data)
    # The caller hangs up while speaking; Twilio may report the end before the recording.
    signed_post(client, app, "/twilio/voice/status", {**line, "CallStatus": "completed"})
    recording = {
        **line,
        "CallStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/recordings/RE1",
        "RecordingDuration": "42",
    }

    reported = [signed_post(client, app, recorded, recording) for _ in range(2)]

    assert [r.status_code for r in reported] == [200, 200]
    assert reported[0].data == reported[1].data
    assert count_rows(app, Complaint) == 1

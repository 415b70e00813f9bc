"""Twilio webhooks: only Twilio's signature gets in, and repeated or late reports change nothing."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.telephony.models import Call, CallEvent, CallTurn
from app.telephony.signatures import signature_for, signing_token
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
    assert "linię reklamacji" in response.get_data(as_text=True)  # a Polish caller hears Polish
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

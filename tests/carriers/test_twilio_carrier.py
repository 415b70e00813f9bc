"""The Twilio backend: the real twilio Client, every request checked against Twilio's OpenAPI."""

from __future__ import annotations

import pytest

from app.carriers.carrier import (
    CarrierRefused,
    InvalidNumber,
    OutboundCall,
    OutcomeUnknown,
    RetryLater,
)
from app.carriers.twilio_carrier import TwilioTelephony

ACCOUNT = "AC" + "a" * 32
TOKEN = "twilio-test-auth-token"
CALL = OutboundCall(
    to="+393331234567",
    from_="+14155550100",
    url="https://calls.example.com/twilio/voice/calls/1/start",
    status_callback="https://calls.example.com/twilio/voice/status?call=1",
)


@pytest.fixture
def twilio(fake):
    return TwilioTelephony(account_sid=ACCOUNT, auth_token=TOKEN, api_base_url=fake.url, timeout=2)


def test_placing_a_call_sends_what_twilio_documents(fake, twilio):
    sid = twilio.place_call(CALL)

    assert fake.violations == []
    sent = fake.last("/Calls.json")
    assert sid.startswith("CA")
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert sent.auth == (ACCOUNT, TOKEN)
    assert sent.form["To"] == ["+393331234567"]
    assert sent.form["From"] == ["+14155550100"]
    assert sent.form["Url"] == [CALL.url]
    assert sent.form["StatusCallback"] == [CALL.status_callback]
    assert sent.form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert sent.form["MachineDetection"] == ["Enable"]
    assert sent.form["Timeout"] == ["30"]


def test_texts_and_hang_ups_send_what_twilio_documents(fake, twilio):
    message_sid = twilio.send_sms(to="+393331234567", from_="+14155550103", body="Receipt")
    twilio.hang_up("CA" + "b" * 32)

    assert fake.violations == []
    assert message_sid.startswith("SM")
    assert fake.last("/Messages.json").form["Body"] == ["Receipt"]
    assert fake.last(f"/Calls/CA{'b' * 32}.json").form["Status"] == ["completed"]


def test_redirecting_a_call_sends_what_twilio_documents(fake, twilio):
    url = "https://calls.example.com/twilio/voice/calls/1/nodes/fraud/hold?offer=1"

    twilio.redirect("CA" + "c" * 32, url)

    assert fake.violations == []
    sent = fake.last(f"/Calls/CA{'c' * 32}.json")
    assert sent.form["Url"] == [url]
    assert sent.form["Method"] == ["POST"]
    assert "Status" not in sent.form  # a redirect never ends the call


def test_no_number_or_text_reaches_the_info_logs(fake, twilio):
    import logging
    from datetime import UTC, datetime

    from app.logs import configure_logging

    class Keep(logging.Handler):
        lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())

    configure_logging("INFO")
    keep = Keep(logging.INFO)
    logging.getLogger().addHandler(keep)
    try:
        twilio.place_call(CALL)
        twilio.send_sms(to="+393331234567", from_="+14155550103", body="Receipt 482197")
        twilio.find_call(
            to="+393331234567", since=datetime(2026, 11, 30, tzinfo=UTC), key="not-a-call"
        )
    finally:
        logging.getLogger().removeHandler(keep)

    assert fake.violations == []
    assert fake.last("/Messages.json").form["To"] == ["+393331234567"]  # the requests were made
    assert not [line for line in keep.lines if "393331234567" in line or "482197" in line]


def test_the_fake_refuses_what_twilio_would_refuse(fake):
    # The validation is real: a request outside the spec is caught (so the tests above can fail).
    import requests

    response = requests.post(
        f"{fake.url}/2010-04-01/Accounts/{ACCOUNT}/Calls.json",
        data={"To": "+393331234567", "Timeout": "soon"},
        auth=(ACCOUNT, TOKEN),
        timeout=5,
    )

    assert response.status_code == 400
    assert "From" in fake.violations[0] or "integer" in fake.violations[0]


@pytest.mark.parametrize(
    ("status", "code", "expected", "retry", "known"),
    [
        (429, 20429, RetryLater, True, True),
        (400, 21211, InvalidNumber, False, True),
        (400, 21214, InvalidNumber, False, True),
        (401, 20003, CarrierRefused, False, True),
        (500, 20500, OutcomeUnknown, False, False),
        (503, 20503, OutcomeUnknown, False, False),
    ],
)
def test_twilio_errors_are_classified(fake, twilio, status, code, expected, retry, known):
    fake.failures.append((status, code, "simulated"))

    with pytest.raises(expected) as raised:
        twilio.place_call(CALL)

    assert raised.value.retry is retry
    assert raised.value.outcome_known is known
    assert raised.value.code == code


def test_a_timeout_leaves_the_outcome_unknown(fake, spec):
    fake.delay = 1.5
    slow = TwilioTelephony(
        account_sid=ACCOUNT, auth_token=TOKEN, api_base_url=fake.url, timeout=0.5
    )

    with pytest.raises(OutcomeUnknown):
        slow.place_call(CALL)


def test_an_unreachable_twilio_leaves_the_outcome_unknown():
    nowhere = TwilioTelephony(
        account_sid=ACCOUNT, auth_token=TOKEN, api_base_url="http://127.0.0.1:9", timeout=1
    )

    with pytest.raises(OutcomeUnknown):
        nowhere.place_call(CALL)


def test_a_whole_call_with_telephony_twilio(database_url, fake):
    """Placed through the real twilio Client, then played by 'Twilio' against our webhooks."""
    from app.audit.service import Actor
    from app.calls.models import Call
    from app.calls.service import CallUrls, start_outbound_call
    from app.carriers.service import telephony_for
    from app.carriers.simulator import (
        CalleeScript,
        SimulatedCall,
        SimulatorTelephony,
        WsgiTransport,
    )
    from app.customers.service import find_by_external_id
    from app.extensions import db
    from app.flows.registry import flows
    from tests.conftest import make_app
    from tests.support import ApiClient
    from tests.telephony_fixtures import VALID_CODE, accept_valid_code, register_lines

    app = make_app(
        database_url,
        TELEPHONY="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_API_BASE_URL=fake.url,
        PUBLIC_BASE_URL="https://calls.example.com",
    )
    app.extensions["code_checker"] = accept_valid_code
    api = ApiClient(app.test_client())
    register_lines(api)
    api.post("/api/v1/customers", json={"external_id": "c-pl", "phone": "+48 601 234 567"})

    with app.app_context():
        carrier = telephony_for(app)
        assert isinstance(carrier, TwilioTelephony)
        call = start_outbound_call(
            db.session,
            telephony=carrier,
            urls=CallUrls(app),
            customer=find_by_external_id(db.session, "c-pl"),
            flow=flows()["withdrawal_check"],
            variables={"amount": "1200", "currency": "PLN"},
            actor=Actor("test"),
        )
        call_id, sid = call.id, call.sid

    sent = fake.last("/Calls.json")
    assert fake.violations == []
    assert sent.form["Url"][0].startswith("https://calls.example.com/twilio/voice/calls/")
    twilio_side = SimulatorTelephony(
        transport=WsgiTransport(app), auth_token=TOKEN, synchronous=True
    )
    twilio_side.play(
        SimulatedCall(
            sid=sid,
            direction="outbound-api",
            from_=sent.form["From"][0],
            to=sent.form["To"][0],
            url=sent.form["Url"][0],
            status_callback=sent.form["StatusCallback"][0],
            script=CalleeScript(keys=[VALID_CODE, "2"]),
        )
    )

    with app.app_context():
        call = db.session.get_one(Call, call_id)
        assert call.outcome == "denied"
        assert [e.status.value for e in call.events] == [
            "initiated",
            "ringing",
            "in-progress",
            "completed",
        ]
        assert call.locale == "pl"
        db.session.remove()
        db.engine.dispose()

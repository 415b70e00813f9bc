"""Fixtures for calls: official lines, a customer, and the simulator as the carrier (a plugin)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import pytest

from app.audit.service import Actor
from app.calls.models import Call
from app.calls.service import CallUrls, start_outbound_call
from app.carriers.signatures import signing_token
from app.carriers.simulator import CalleeScript, SimulatorTelephony, WsgiTransport, room_for
from app.customers.service import find_by_external_id
from app.extensions import db
from app.flows.registry import flows
from tests.carriers.fake_twilio import FakeTwilio, load_spec

VALID_CODE = "908172"
LINES = [
    ("+14155550100", "outbound_verification", "Verification calls", False),
    ("+14155550101", "inbound_hotline", "Is this call from us?", True),
    ("+14155550102", "complaints", "Complaints", True),
    ("+14155550103", "sms", "Text messages", False),
]


def accept_valid_code(session, call, code):  # flow tests; tests/verification use the real one
    return hmac.compare_digest(code, VALID_CODE)


@pytest.fixture
def simulator(app):
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app),
        auth_token=signing_token(app.config),
        synchronous=True,
        conferences=room_for(app),  # the softphone's, so a caller waits in one conference
    )
    app.extensions["telephony"] = carrier
    app.extensions["code_checker"] = accept_valid_code
    return carrier


def register_lines(api) -> None:
    """Put the test call center's official lines in service through the API."""
    for phone, purpose, label, inbound_only in LINES:
        response = api.post(
            "/api/v1/official-numbers",
            json={"phone": phone, "purpose": purpose, "label": label, "inbound_only": inbound_only},
        )
        assert response.status_code == 201, response.get_json()


@pytest.fixture
def lines(api):
    register_lines(api)


@pytest.fixture
def customer(api):
    response = api.post(
        "/api/v1/customers",
        json={"external_id": "cust-it", "phone": "+39 333 123 4567", "name": "Giulia Rossi"},
    )
    assert response.status_code == 201
    return response.get_json()


@dataclass
class PlacedCall:
    call: Call
    heard: list[str]
    pressed: list[str]
    statuses: list[str]


def place(
    app,
    simulator,
    *,
    flow="transaction_alert",
    external_id="cust-it",
    keys=(),
    answer="human",
    variables=None,
) -> PlacedCall:
    """Place an outbound call to the customer and let the scripted callee answer it."""
    with app.app_context():
        customer = find_by_external_id(db.session, external_id)
        simulator.expect(customer.phone, CalleeScript(answer=answer, keys=list(keys)))
        call = start_outbound_call(
            db.session,
            telephony=simulator,
            urls=CallUrls(app),
            customer=customer,
            flow=flows()[flow],
            actor=Actor("test"),
            variables=variables
            or {
                "amount": "249.90",
                "currency": "EUR",
                "merchant": "Electro Shop",
                "time": "2026-11-23T13:05:00+00:00",
            },
        )
        call_id = call.id
    simulated = list(simulator.calls.values())[-1]
    with app.app_context():
        call = db.session.get_one(Call, call_id)
        _ = call.events, call.turns  # load them before the session goes
        db.session.expunge_all()
    return PlacedCall(
        call=call,
        heard=[line.text for line in simulated.lines if line.who == "call"],
        pressed=[line.text for line in simulated.lines if line.who == "callee"],
        statuses=simulated.statuses,
    )


@pytest.fixture(scope="session")
def spec():
    """Twilio's OpenAPI description, loaded once."""
    return load_spec()


@pytest.fixture
def fake(spec):
    """A loopback Twilio that checks every request against that description."""
    server = FakeTwilio(spec)
    yield server
    server.close()

"""Whole simulated calls with real codes: denial in four languages, tries, locks, no leaks."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import app.models  # noqa: F401 - every table in the metadata
from app.carriers.simulator import CalleeScript
from app.database import Base
from app.extensions import db
from app.messaging.webhooks import verify
from tests.engine_fixtures import MORNING, SECRET, callback_of, deliver, send_outbox
from tests.verification.conftest import PHONES, enrol, register

pytestmark = pytest.mark.usefixtures("lines", "real_codes", "clock")

NEVER_ASK_WORDS = {
    "en": "password",
    "it": "password",
    "pl": "hasło",
    "zh": "密码",
}
RECEIPT_WORDS = {"en": "Case", "it": "Pratica", "pl": "Sprawa", "zh": "案件编号"}


def flagged_payment(api, external_id: str) -> str:
    """Six ordinary payments, then one that is not: a high-priority transaction alert."""
    for i in range(6):
        api.post(
            "/api/v1/events",
            json={
                "id": f"{external_id}-h{i}",
                "type": "transaction",
                "customer_external_id": external_id,
                "occurred_at": (MORNING - timedelta(days=i + 1)).isoformat(),
                "data": {"amount": "40", "country": "IT", "device": "p1", "beneficiary": "b1"},
            },
        )
    decision = api.post(
        "/api/v1/events",
        json={
            "id": f"{external_id}-t",
            "type": "transaction",
            "customer_external_id": external_id,
            "occurred_at": MORNING.isoformat(),
            "data": {
                "amount": "900",
                "currency": "EUR",
                "merchant": "Electro Shop",
                "country": "PL",
                "device": "p9",
                "beneficiary": "b7",
            },
        },
    ).get_json()
    assert decision["callback_id"], decision
    return decision["callback_id"]


def run_call(app, dispatcher, simulator, phone: str, keys: list[str]):
    simulator.expect(phone, CalleeScript(keys=keys))
    with app.app_context():  # no frequency cap: some tests call one customer five times
        assert dispatcher(cap_per_day=10, cap_per_7_days=10).dispatch() == 1
    return list(simulator.calls.values())[-1]


@pytest.mark.parametrize("locale", ["en", "it", "pl", "zh"])
def test_it_was_not_me_in_every_language_ends_denied_tells_the_core_and_texts_a_receipt(
    api, app, clock, dispatcher, simulator, core, locale
):
    customer = register(api, f"cust-{locale}", PHONES[locale])
    assert customer["locale"] == locale
    totp = enrol(app, customer["id"])
    callback_id = flagged_payment(api, f"cust-{locale}")

    call = run_call(app, dispatcher, simulator, customer["phone"], [totp.at(clock()), "2"])

    heard = [line.text for line in call.lines if line.who == "call"]
    assert any(NEVER_ASK_WORDS[locale] in text for text in heard)  # the disclaimer, spoken
    assert callback_of(app, callback_id).outcome.value == "denied"

    deliver(app, clock)
    # The decision (the app's call-status feed goes to the core system too: its own tests).
    ((message, signature, body),) = [
        r for r in core.received if r[0]["type"] != "customer.call_status_changed"
    ]
    assert verify(SECRET, signature, body, now=clock())
    assert message["type"] == "callback.denied"
    assert message["data"]["action"] == "freeze_card"
    assert message["data"]["event_ids"] == [f"cust-{locale}-t"]
    reference = message["data"]["fraud_case"]
    assert re.fullmatch(r"FRD-[2-9A-Z]{4}-[2-9A-Z]{4}", reference)

    sent = send_outbox(app, clock)
    again = send_outbox(app, clock)
    assert (sent, again) == (1, 0)  # one receipt, never two
    (text,) = simulator.messages
    assert text["to"] == customer["phone"] and text["from"] == "+14155550103"
    assert reference in text["body"] and RECEIPT_WORDS[locale] in text["body"]
    assert "http" not in text["body"]  # no links: that is what scam texts carry

    case = api.get(f"/api/v1/fraud-cases/{reference}").get_json()
    assert case["status"] == "open" and case["callback_id"] == callback_id
    assert case["receipt_sent_at"] is not None


def test_a_payment_the_customer_made_is_confirmed_and_no_case_is_opened(
    api, app, clock, dispatcher, simulator, core
):
    customer = register(api)
    totp = enrol(app, customer["id"])
    callback_id = flagged_payment(api, "cust-it")

    run_call(app, dispatcher, simulator, customer["phone"], [totp.at(clock()), "1"])

    assert callback_of(app, callback_id).outcome.value == "confirmed"
    deliver(app, clock)
    message = next(m for m, _, _ in core.received if m["type"].startswith("callback."))
    assert (message["type"], message["data"]["fraud_case"]) == ("callback.confirmed", None)


def test_an_app_code_bound_to_the_callback_verifies_its_call(
    api, app, clock, dispatcher, simulator
):
    customer = register(api)
    callback_id = flagged_payment(api, "cust-it")
    code = api.post(
        f"/api/v1/customers/{customer['id']}/app-codes", json={"callback_id": callback_id}
    ).get_json()["code"]

    run_call(app, dispatcher, simulator, customer["phone"], [code, "1"])

    assert callback_of(app, callback_id).outcome.value == "confirmed"


def test_three_wrong_codes_end_the_call_as_verification_failed(
    api, app, clock, dispatcher, simulator
):
    customer = register(api)
    totp = enrol(app, customer["id"])
    callback_id = flagged_payment(api, "cust-it")
    wrong = f"{(int(totp.at(clock())) + 1) % 1_000_000:06d}"

    call = run_call(app, dispatcher, simulator, customer["phone"], [wrong, wrong, wrong, "1"])

    heard = [line.text for line in call.lines if line.who == "call"]
    assert sum("il codice non è corretto" in text for text in heard) == 3  # Italian customer
    assert "Non siamo riusciti a confermare che è Lei" in heard[-1]
    assert [line.text for line in call.lines if line.who == "callee"][-1] != "1"
    assert callback_of(app, callback_id).outcome.value == "verification_failed"
    state = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert (state["failures"], state["locked"]) == (3, False)


def test_a_locked_customer_is_not_asked_for_a_code_and_the_callback_ends_locked(
    api, app, clock, dispatcher, simulator
):
    customer = register(api)
    totp = enrol(app, customer["id"])
    wrong = f"{(int(totp.at(clock())) + 1) % 1_000_000:06d}"
    # Three calls of three wrong codes, then one more: the tenth failure locks the customer.
    for n in range(4):
        callback_id = flagged_payment(api, "cust-it") if n == 0 else _registration(api, n)
        keys = [wrong] * 3
        run_call(app, dispatcher, simulator, customer["phone"], keys)
        # The next call after the quiet period that follows a call (one call at a time).
        clock.advance(app.extensions["callback_policy"].quiet_after_call.total_seconds())
    outcomes = [callback_of(app, c).outcome.value for c in _callbacks(app)]
    assert outcomes == ["verification_failed"] * 3 + ["locked"]
    last = list(simulator.calls.values())[-1]
    heard = [line.text for line in last.lines if line.who == "call"]
    assert "abbiamo sospeso la verifica dei codici" in heard[-1]

    # A later call about something else: told at once, no code asked, the callback ends locked.
    callback_id = _withdrawal(api)
    call = run_call(app, dispatcher, simulator, customer["phone"], [totp.at(clock()), "1"])
    assert not [line for line in call.lines if line.who == "callee"]
    assert callback_of(app, callback_id).outcome.value == "locked"


_n = iter(range(1000))


def _registration(api, n: int) -> str:
    return api.post(
        "/api/v1/events",
        json={
            "id": f"reg-{n}",
            "type": ["registration", "account_change", "registration"][n - 1],
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
            "data": {} if n != 2 else {"field": "email"},
        },
    ).get_json()["callback_id"]


def _withdrawal(api) -> str:
    return api.post(
        "/api/v1/events",
        json={
            "id": f"wd-{next(_n)}",
            "type": "withdrawal_request",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
            "data": {"amount": "2500", "currency": "EUR", "account_has_open_problems": True},
        },
    ).get_json()["callback_id"]


def _callbacks(app) -> list[str]:
    from app.callbacks.models import Callback

    with app.app_context():
        return [
            str(c) for c in db.session.scalars(sa.select(Callback.id).order_by(Callback.created_at))
        ]


def test_no_code_secret_or_digits_reach_logs_the_database_or_responses(
    api, app, clock, dispatcher, simulator, core, caplog
):
    caplog.set_level(logging.DEBUG)
    customer = register(api)
    enrolment = api.post(f"/api/v1/customers/{customer['id']}/authenticator").get_json()
    secret = re.search(r"secret=([A-Z2-7]+)", enrolment["otpauth_uri"]).group(1)
    import pyotp

    totp = pyotp.TOTP(secret)
    callback_id = flagged_payment(api, "cust-it")
    app_code = api.post(
        f"/api/v1/customers/{customer['id']}/app-codes", json={"callback_id": callback_id}
    ).get_json()["code"]
    wrong = f"{(int(totp.at(clock())) + 1) % 1_000_000:06d}"
    typed = [wrong, totp.at(clock())]

    run_call(app, dispatcher, simulator, customer["phone"], [*typed, "2"])
    deliver(app, clock)

    secrets_ = [secret, totp.byte_secret().hex(), app_code, *typed]
    logs = "\n".join(
        record.getMessage() + json.dumps(record.__dict__, default=str) for record in caplog.records
    )
    responses = "\n".join(
        api.get(path).get_data(as_text=True)
        for path in (
            f"/api/v1/callbacks/{callback_id}",
            f"/api/v1/customers/{customer['id']}/verification",
            "/api/v1/audit-events?limit=500",
        )
    )
    with app.app_context():
        dump = []
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                dump.append(repr(tuple(row)))
        database = "\n".join(dump)
    webhooks = "\n".join(body.decode() for _, _, body in core.received)
    for value in secrets_:
        assert value not in logs
        assert value not in responses
        assert value not in database
        assert value not in webhooks
    assert "verification.attempt" in responses  # the attempts are audited, without the code


@pytest.mark.parametrize(
    ("event_type", "data", "press", "outcome", "action"),
    [
        ("registration", {}, "1", "confirmed", None),
        ("registration", {}, "2", "denied", "block_registration"),
        ("account_change", {"field": "email"}, "1", "confirmed", None),
        ("account_change", {"field": "email"}, "2", "denied", "block_account_change"),
        (
            "withdrawal_request",
            {"amount": "2500", "currency": "EUR", "account_has_open_problems": True},
            "2",
            "denied",
            "reject_withdrawal",
        ),
    ],
)
def test_each_check_confirms_or_blocks_its_matter_and_the_core_hears_what_to_do(
    api, app, clock, dispatcher, simulator, core, event_type, data, press, outcome, action
):
    customer = register(api)
    totp = enrol(app, customer["id"])
    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "e-1",
            "type": event_type,
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
            "data": data,
        },
    ).get_json()["callback_id"]

    run_call(app, dispatcher, simulator, customer["phone"], [totp.at(clock()), press])
    deliver(app, clock)

    assert callback_of(app, callback_id).outcome.value == outcome
    by_type = {message["type"]: message["data"] for message, _, _ in core.received}
    decided = by_type[f"callback.{outcome}"]
    assert (decided["trigger"], decided["action"], decided["event_ids"]) == (
        event_type,
        action,
        ["e-1"],
    )
    assert (decided["fraud_case"] is not None) == (outcome == "denied")
    if event_type == "withdrawal_request":
        assert by_type["withdrawal.rejected"]["fraud_case"] == decided["fraud_case"]

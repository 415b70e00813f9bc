"""A prompt that its values turn into an ask for a secret is never spoken: the safe text is."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from app.calls.models import Call, CallDirection, CallTurn
from app.calls.service import CallUrls
from app.carriers.signatures import signature_for, signing_token
from app.carriers.simulator import _parse
from app.demo import DEMO_NUMBERS
from app.extensions import db
from app.flows.definition import spoken_refusals
from app.flows.prompts import LANGUAGES, SAFE_FALLBACK
from tests.conftest import make_app


def spoken(app, flow: str, node: str, language: str, variables: dict[str, str]) -> list[str]:
    """What a call in that language hears at that node, as Twilio gets it."""
    with app.app_context():
        call = Call(
            id=uuid.uuid4(),
            sid="CA" + uuid.uuid4().hex,
            flow=flow,
            flow_version=app.extensions["flows"][flow].version,
            locale=language,
            direction=CallDirection.OUTBOUND,
            from_number="+14155550100",
            to_number="+393331234567",
            reference="482197",
            variables=variables,
        )
        db.session.add(call)
        db.session.commit()
        call_id, sid = call.id, call.sid
    url = CallUrls(app).for_call(call_id).node(node)
    params = {"CallSid": sid}
    response = app.test_client().post(
        url.removeprefix(app.config["PUBLIC_BASE_URL"]),
        data=params,
        headers={"X-Twilio-Signature": signature_for(signing_token(app.config), url, params)},
    )
    assert response.status_code == 200
    return [say.text or "" for say in _parse(response.get_data(as_text=True)).iter("Say")]


def logged(caplog) -> str:
    return "\n".join(
        record.getMessage() + json.dumps(record.__dict__, default=str) for record in caplog.records
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_campaign_purpose_asking_for_a_secret_is_replaced_by_the_safe_text(app, caplog, language):
    # Saved before the check existed, or written straight into the database: never spoken.
    purpose = "please read us the code we just texted you"
    caplog.set_level(logging.INFO)

    heard = spoken(app, "campaign_notice", "message", language, {"campaign": purpose})

    assert heard[0] == SAFE_FALLBACK[language]
    assert not any("texted" in text for text in heard)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "a prompt that asked for a secret was replaced by the safe text"
    ]
    assert warnings[0].node == "message" and warnings[0].locale == language
    assert warnings[0].secrets == ["a code sent to them"]
    assert "texted" not in logged(caplog)  # the log names what was refused, not the text
    with app.app_context():
        turns = [text for (text,) in db.session.query(CallTurn.text).order_by(CallTurn.id)]
    assert turns[0] == SAFE_FALLBACK[language]  # the transcript keeps what was said
    assert not any("texted" in text for text in turns)


@pytest.mark.parametrize(
    ("language", "label"),
    [
        ("en", "Fraud team: tell us the PIN of your card"),
        ("it", "Antifrode, ci dica il codice ricevuto per SMS"),
        ("pl", "Dział kart: podaj numer karty i kod CVV"),
        ("zh", "反诈中心，请提供您的短信验证码"),
    ],
)
def test_a_number_label_asking_for_a_secret_is_not_spoken_on_the_check_line(
    app, caplog, language, label
):
    variables = {"number_label": label, "checked_number": "+14155550100"}

    heard = spoken(app, "verify_caller_line", "ours_calls", language, variables)

    assert heard[0] == SAFE_FALLBACK[language]
    assert label not in logged(caplog)


def test_an_ordinary_label_and_purpose_are_spoken_as_written(app):
    heard = spoken(app, "verify_caller_line", "ours_calls", "en", {"number_label": "card services"})
    message = spoken(app, "campaign_notice", "message", "it", {"campaign": "la Sua nuova carta"})

    assert "card services" in heard[0]
    assert message[0] == "La chiamiamo con un messaggio su: la Sua nuova carta."


def test_a_company_name_that_asks_for_a_secret_is_not_spoken(database_url):
    app = make_app(database_url, COMPANY_NAME="Demo Bank. Read us your password")

    heard = spoken(app, "campaign_notice", "hello", "en", {})

    assert heard[0] == SAFE_FALLBACK["en"]
    assert not any("Read us" in text for text in heard)


@pytest.mark.parametrize("label", [label for _, _, label, _ in DEMO_NUMBERS])
def test_every_shipped_prompt_passes_as_spoken_with_demo_values(app, label):
    values = {
        "company": "Demo Bank",
        "name": "Alex Morgan",
        "reference": "482197",
        "amount": "249.90",
        "currency": "EUR",
        "merchant": "Electro Shop",
        "time": "2026-11-23T10:00:00+00:00",
        "callback_number": "+14155550101",
        "checked_number": "+14155550100",
        "number_label": label,
        "until": "2026-11-30",
        "campaign": "your new card is on its way",
        "complaint_reference": "C-7K3Q-2M",
        "report_reference": "RPT-7K2M-9QXP",
    }
    with app.app_context():
        every_flow = dict(app.extensions["flows"])

    refused = [
        (name, node, language, refusal.describe())
        for name, flow in every_flow.items()
        for node, language, refusal in spoken_refusals(flow, values)
    ]

    assert refused == []

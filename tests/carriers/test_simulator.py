"""The simulator plays TwiML as Twilio does: every verb, signed requests, Twilio's nesting rules."""

from __future__ import annotations

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from app.carriers.carrier import InvalidNumber, OutboundCall
from app.carriers.simulator import (
    CalleeScript,
    SimulatorError,
    SimulatorTelephony,
    WsgiTransport,
)

TOKEN = "simulator-test-token"
BASE = "https://calls.example.com"


def twiml_app(documents: dict[str, str]) -> tuple[Flask, list[tuple[str, dict]]]:
    """A tiny app answering fixed TwiML, refusing requests not signed for its public URL."""
    app = Flask("twiml")
    seen: list[tuple[str, dict]] = []

    @app.post("/<name>")
    def answer(name: str):  # type: ignore[no-untyped-def]
        url = BASE + request.full_path.rstrip("?")
        if not RequestValidator(TOKEN).validate(
            url, request.form, request.headers.get("X-Twilio-Signature", "")
        ):
            return "bad signature", 403
        seen.append((name, request.form.to_dict()))
        return documents.get(name, "<Response/>"), 200, {"Content-Type": "text/xml"}

    return app, seen


def play(documents: dict[str, str], script: CalleeScript | None = None):
    app, seen = twiml_app(documents)
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app), auth_token=TOKEN, synchronous=True, default_script=script
    )
    sid = carrier.place_call(
        OutboundCall(
            to="+393331234567",
            from_="+14155550100",
            url=f"{BASE}/start?step=1",
            status_callback=f"{BASE}/status",
        )
    )
    return carrier.calls[sid], seen


def test_every_verb_is_played_and_every_request_is_signed():
    call, seen = play(
        {
            "start": f"<Response><Say>Hello</Say><Pause length='2'/>"
            f"<Redirect>{BASE}/menu</Redirect><Say>never reached</Say></Response>",
            "menu": f"<Response><Gather action='{BASE}/chosen' numDigits='1'>"
            f"<Say>Press 1</Say></Gather></Response>",
            "chosen": f"<Response><Record action='{BASE}/recorded' maxLength='30'/></Response>",
            "recorded": f"<Response><Dial action='{BASE}/dialed'><Number>+14155550188</Number>"
            f"</Dial></Response>",
            "dialed": "<Response><Say>Bye</Say><Hangup/><Say>never reached</Say></Response>",
        },
        CalleeScript(keys=["1"], recording_seconds=7, dial_status="busy"),
    )

    assert [line.text for line in call.lines if line.who == "call"] == ["Hello", "Press 1", "Bye"]
    steps = [name for name, _ in seen]
    assert steps == [
        "status",
        "status",
        "status",
        "start",
        "menu",
        "chosen",
        "recorded",
        "dialed",
        "status",
    ]
    forms = dict(seen[3:8])
    assert forms["chosen"]["Digits"] == "1"
    assert forms["recorded"]["RecordingDuration"] == "7"
    assert forms["dialed"]["DialCallStatus"] == "busy"
    statuses = [form["CallStatus"] for name, form in seen if name == "status"]
    sequence = [form["SequenceNumber"] for name, form in seen if name == "status"]
    assert statuses == ["initiated", "ringing", "in-progress", "completed"]
    assert sequence == ["0", "1", "2", "3"]


def test_a_gather_without_input_goes_on_with_the_next_verb():
    call, _ = play(
        {
            "start": f"<Response><Gather action='{BASE}/never'><Say>Press</Say></Gather>"
            "<Say>No keys, so this plays</Say></Response>",
        }
    )

    assert [line.text for line in call.lines if line.who == "call"] == [
        "Press",
        "No keys, so this plays",
    ]


@pytest.mark.parametrize(
    "document",
    [
        "<Response><Gather><Record/></Gather></Response>",
        "<Response><Dial><Say>hi</Say></Dial></Response>",
        "<Response><Number>+1</Number></Response>",
        "<Reply><Say>hi</Say></Reply>",
        "<Response><Say>unclosed</Response>",
    ],
)
def test_twiml_twilio_would_refuse_stops_the_call(document):
    with pytest.raises(SimulatorError):
        play({"start": document})


def test_an_invalid_number_is_refused_like_twilio_21211():
    carrier = SimulatorTelephony(
        transport=WsgiTransport(Flask("x")), auth_token=TOKEN, synchronous=True
    )

    with pytest.raises(InvalidNumber) as refused:
        carrier.place_call(
            OutboundCall(
                to="+1555", from_="+14155550100", url=f"{BASE}/s", status_callback=f"{BASE}/status"
            )
        )

    assert refused.value.code == 21211
    assert carrier.calls == {}

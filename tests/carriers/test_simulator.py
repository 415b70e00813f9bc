"""The simulator plays TwiML as Twilio does: every verb, signed requests, Twilio's nesting rules."""

from __future__ import annotations

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from app.carriers.carrier import InvalidNumber, OutboundCall
from app.carriers.simulator import (
    CalleeScript,
    SimulatedCall,
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


WAIT_FOR_AGENT = (
    f"<Response><Say>Connecting</Say><Dial action='{BASE}/after' method='POST'>"
    f"<Conference waitUrl='{BASE}/wait' waitMethod='POST' startConferenceOnEnter='false' "
    "endConferenceOnExit='true'>queue-1</Conference></Dial><Say>never reached</Say></Response>"
)
WAIT = (
    f"<Response><Say>You are number 2 in line.</Say><Pause length='20'/>"
    f"<Redirect method='POST'>{BASE}/wait?round=2</Redirect></Response>"
)


def test_a_caller_in_a_conference_waits_hearing_the_wait_url_until_it_ends():
    call, seen = play(
        {
            "start": WAIT_FOR_AGENT,
            "wait": WAIT,
            "after": f"<Response><Gather action='{BASE}/rated' numDigits='1'><Say>Rate us</Say>"
            "</Gather></Response>",
            "rated": "<Response><Say>Bye</Say></Response>",
        },
        CalleeScript(keys=["5"]),
    )
    carrier_lines = [line.text for line in call.lines if line.who == "carrier"]

    # The wait document is heard once (its Redirect is the next round, not played); the call
    # stays in progress, waiting.
    assert [line.text for line in call.lines if line.who == "call"] == [
        "Connecting",
        "You are number 2 in line.",
    ]
    assert "waits in a conference" in carrier_lines
    assert [name for name, _ in seen][-2:] == ["start", "wait"]
    assert call.waiting is not None
    assert call.statuses[-1] == "in-progress"


def test_when_the_conference_ends_the_caller_goes_on_at_the_dial_action_with_their_keys():
    app, seen = twiml_app(
        {
            "start": WAIT_FOR_AGENT,
            "wait": WAIT,
            "after": f"<Response><Gather action='{BASE}/rated' numDigits='1'><Say>Rate us</Say>"
            "</Gather></Response>",
            "rated": "<Response><Say>Bye</Say></Response>",
        }
    )
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app),
        auth_token=TOKEN,
        synchronous=True,
        default_script=CalleeScript(keys=["5"]),
    )
    call = carrier.calls[
        carrier.place_call(
            OutboundCall(
                to="+393331234567",
                from_="+14155550100",
                url=f"{BASE}/start",
                status_callback=f"{BASE}/status",
            )
        )
    ]

    carrier.conference_ended(call)

    after = [form for name, form in seen if name == "after"]
    assert after[0]["DialCallStatus"] == "completed"
    assert after[0]["CallStatus"] == "in-progress"
    assert [form["Digits"] for name, form in seen if name == "rated"] == ["5"]
    assert [line.text for line in call.lines if line.who == "call"][-2:] == ["Rate us", "Bye"]
    assert call.statuses[-1] == "completed"
    assert call.waiting is None


def test_a_caller_who_hangs_up_while_waiting_ends_the_call_as_twilio_reports_it():
    app, seen = twiml_app({"start": WAIT_FOR_AGENT, "wait": WAIT})
    carrier = SimulatorTelephony(transport=WsgiTransport(app), auth_token=TOKEN, synchronous=True)
    call = carrier.calls[
        carrier.place_call(
            OutboundCall(
                to="+393331234567",
                from_="+14155550100",
                url=f"{BASE}/start",
                status_callback=f"{BASE}/status",
            )
        )
    ]

    carrier.caller_hangs_up(call)

    # Twilio asks <Dial action> with the caller's own status completed, then reports the end.
    [after] = [form for name, form in seen if name == "after"]
    assert (after["CallStatus"], after["DialCallStatus"]) == ("completed", "completed")
    assert [name for name, _ in seen][-1] == "status"
    assert seen[-1][1]["CallStatus"] == "completed"
    with pytest.raises(SimulatorError, match="not waiting in a conference"):
        carrier.caller_hangs_up(call)


def test_a_waiting_call_redirected_goes_on_with_the_new_document():
    app, seen = twiml_app(
        {
            "start": WAIT_FOR_AGENT,
            "wait": WAIT,
            "offer": f"<Response><Gather action='{BASE}/chosen' numDigits='1'><Say>Press 1</Say>"
            "</Gather></Response>",
            "chosen": "<Response><Say>We will call you back</Say><Hangup/></Response>",
        }
    )
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app),
        auth_token=TOKEN,
        synchronous=True,
        default_script=CalleeScript(keys=["1"]),
    )
    sid = carrier.place_call(
        OutboundCall(
            to="+393331234567",
            from_="+14155550100",
            url=f"{BASE}/start",
            status_callback=f"{BASE}/status",
        )
    )

    carrier.redirect(sid, f"{BASE}/offer")

    call = carrier.calls[sid]
    assert [form["Digits"] for name, form in seen if name == "chosen"] == ["1"]
    assert [line.text for line in call.lines if line.who == "call"][-1] == "We will call you back"
    assert "after" not in [name for name, _ in seen]  # a redirect leaves <Dial> without its action
    assert call.statuses[-1] == "completed"


def test_a_person_at_the_softphone_waits_and_their_keys_change_nothing():
    app, seen = twiml_app(
        {
            "start": WAIT_FOR_AGENT,
            "wait": WAIT,
            "after": "<Response><Say>Thank you</Say></Response>",
        }
    )
    carrier = SimulatorTelephony(transport=WsgiTransport(app), auth_token=TOKEN, synchronous=True)
    call = SimulatedCall.inbound(
        from_="+393331234567",
        to="+14155550100",
        url=f"{BASE}/start",
        status_callback=None,
        script=CalleeScript(),
    )

    pending = carrier.answer(call)  # the waiting room is a question the page shows
    assert pending is not None
    assert "You are number 2 in line." in [line.text for line in call.lines]
    assert carrier.press(call, pending, "1") == pending
    assert [name for name, _ in seen].count("after") == 0
    assert carrier.conference_ended(call, pending) is None  # the call goes on, to its end
    assert [line.text for line in call.lines if line.who == "call"][-1] == "Thank you"

"""The TwiML of people in the loop, each document valid against Twilio's TwiML schema."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.carriers.twiml import Speech, browser_call, wait_for_an_agent, waiting
from app.errors import InvalidInput
from tests.twiml_schema import assert_valid_twiml

ITALIAN = Speech("Ti mettiamo in contatto con un operatore.", "it-IT", "Polly.Bianca")
BASE = "https://calls.example.com/twilio/voice"


def checked(document: object) -> ET.Element:
    """The document, once Twilio's schema has accepted it."""
    text = str(document).encode()
    assert_valid_twiml(text)
    return ET.fromstring(text)  # noqa: S314 - our own document


def test_the_caller_waits_in_a_conference_only_an_agent_starts():
    root = checked(
        wait_for_an_agent(
            "queue-entry-42",
            greeting=ITALIAN,
            wait_url=f"{BASE}/queue/42/wait",
            status_callback=f"{BASE}/queue/42/conference",
        )
    )

    say, dial = list(root)
    assert (say.tag, say.text) == ("Say", ITALIAN.text)
    assert (say.get("language"), say.get("voice")) == ("it-IT", "Polly.Bianca")
    conference = dial.find("Conference")
    assert conference is not None and conference.text == "queue-entry-42"
    assert conference.attrib == {
        "waitUrl": f"{BASE}/queue/42/wait",
        "waitMethod": "POST",
        "startConferenceOnEnter": "false",
        "endConferenceOnExit": "true",
        "beep": "false",
        "statusCallback": f"{BASE}/queue/42/conference",
        "statusCallbackMethod": "POST",
        "statusCallbackEvent": "join leave end",
    }
    assert "action" not in dial.attrib


def test_a_caller_removed_from_the_conference_goes_on_at_the_action():
    root = checked(
        wait_for_an_agent(
            "queue-entry-42",
            greeting=ITALIAN,
            wait_url=f"{BASE}/queue/42/wait",
            status_callback=f"{BASE}/queue/42/conference",
            action=f"{BASE}/queue/42/left",
        )
    )

    dial = root.find("Dial")
    assert dial is not None
    assert (dial.get("action"), dial.get("method")) == (f"{BASE}/queue/42/left", "POST")


def test_the_wait_announces_the_place_then_pauses_and_asks_again():
    place = Speech("You are number 3 in the queue.", "en-GB", "Polly.Amy")

    root = checked(waiting(place, again=f"{BASE}/queue/42/wait"))
    quiet = checked(waiting(place, pause_seconds=5))

    assert [verb.tag for verb in root] == ["Say", "Pause", "Redirect"]
    assert root[0].text == "You are number 3 in the queue."
    assert root[1].get("length") == "20"
    assert (root[2].text, root[2].get("method")) == (f"{BASE}/queue/42/wait", "POST")
    assert [verb.tag for verb in quiet] == ["Say", "Pause"]
    assert quiet[1].get("length") == "5"


def test_an_agent_calls_a_number_from_the_browser_with_an_official_caller_id():
    root = checked(
        browser_call(caller_id="+14155550100", number="+39 333 123 4567", action=f"{BASE}/done")
    )

    dial = root[0]
    assert dial.tag == "Dial"
    assert dial.get("callerId") == "+14155550100"
    assert (dial.get("action"), dial.get("method")) == (f"{BASE}/done", "POST")
    assert [(child.tag, child.text) for child in dial] == [("Number", "+393331234567")]


def test_an_agent_calls_another_agents_browser_phone():
    root = checked(browser_call(caller_id="+14155550100", identity="agent_9"))

    assert [(child.tag, child.text) for child in root[0]] == [("Client", "agent_9")]


def test_a_browser_call_needs_exactly_one_destination_and_a_real_number():
    with pytest.raises(ValueError, match="not both"):
        browser_call(caller_id="+14155550100", number="+393331234567", identity="agent_9")
    with pytest.raises(ValueError, match="not both"):
        browser_call(caller_id="+14155550100")
    with pytest.raises(InvalidInput):
        browser_call(caller_id="+14155550100", number="12")
    with pytest.raises(ValueError, match="client identity"):
        browser_call(caller_id="+14155550100", identity="agent 9")


def test_the_schema_check_is_real():
    # A <Conference> outside <Dial> is refused: the checks above can fail.
    with pytest.raises(AssertionError, match="schema"):
        checked("<Response><Conference>queue-entry-42</Conference></Response>")

"""Agents and supervisors join a waiting caller's conference on Twilio: every request is checked
against Twilio's OpenAPI description by the loopback fake."""

from __future__ import annotations

import pytest
import requests

from app.carriers.carrier import CarrierRefused, OutcomeUnknown, RetryLater
from app.carriers.conference import TwilioConferencing
from app.carriers.twilio_carrier import TwilioTelephony

ACCOUNT = "AC" + "a" * 32
TOKEN = "twilio-test-auth-token"
LINE = "+14155550100"
ENTRY = "queue-entry-42"  # the conference's FriendlyName: the caller's queue entry
STATUS_URL = "https://calls.example.com/twilio/voice/agents/status?entry=42"


def conferencing(fake) -> TwilioConferencing:
    return TwilioConferencing.of(
        TwilioTelephony(account_sid=ACCOUNT, auth_token=TOKEN, api_base_url=fake.url, timeout=2)
    )


@pytest.fixture
def twilio(fake):
    return conferencing(fake)


def test_an_agent_is_rung_into_the_callers_conference_by_its_name(fake, twilio):
    conference_sid, caller = fake.caller_waits(ENTRY)

    agent = twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)

    assert fake.violations == []
    sent = fake.last("/Participants.json")
    # Twilio takes the FriendlyName in place of the SID here: no look-up before ringing.
    assert sent.path == f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/{ENTRY}/Participants.json"
    assert sent.auth == (ACCOUNT, TOKEN)
    assert sent.form["To"] == ["client:agent_7"]
    assert sent.form["From"] == [LINE]
    assert sent.form["Label"] == ["agent"]
    assert sent.form["EarlyMedia"] == ["true"]
    assert sent.form["Beep"] == ["false"]
    assert sent.form["StartConferenceOnEnter"] == ["true"]
    assert sent.form["EndConferenceOnExit"] == ["false"]
    assert sent.form["Timeout"] == ["20"]
    assert sent.form["StatusCallback"] == [STATUS_URL]
    assert sent.form["StatusCallbackMethod"] == ["POST"]
    assert sent.form["StatusCallbackEvent"] == ["ringing", "answered", "completed"]
    assert agent.startswith("CA")
    assert set(fake.conferences[conference_sid]["participants"]) == {caller, agent}


def test_supervisors_monitor_whisper_and_barge(fake, twilio):
    conference_sid, _ = fake.caller_waits(ENTRY)
    agent = twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)

    supervisor = twilio.add_supervisor(ENTRY, identity="supervisor_2", from_=LINE, mode="monitor")
    joined = fake.last("/Participants.json").form
    people = fake.conferences[conference_sid]["participants"]
    assert (joined["Muted"], joined["Coaching"]) == (["true"], ["false"])
    assert joined["StartConferenceOnEnter"] == ["false"]  # never starts the customer's call
    assert joined["EndConferenceOnExit"] == ["false"]
    assert people[supervisor]["muted"] is True

    twilio.change_supervisor_mode(ENTRY, supervisor, mode="whisper", agent_call_sid=agent)
    assert people[supervisor]["coaching"] is True
    assert people[supervisor]["call_sid_to_coach"] == agent
    assert people[supervisor]["muted"] is False

    twilio.change_supervisor_mode(ENTRY, supervisor, mode="barge")
    assert (people[supervisor]["muted"], people[supervisor]["coaching"]) == (False, False)

    assert fake.violations == []
    # The SID came back with the agent's participant: updates use it, with no look-up.
    assert fake.last(f"/Participants/{supervisor}.json").path.startswith(
        f"/2010-04-01/Accounts/{ACCOUNT}/Conferences/{conference_sid}/"
    )
    assert not [r for r in fake.received if r.path.endswith("/Conferences.json")]


def test_a_supervisor_can_whisper_from_the_start(fake, twilio):
    fake.caller_waits(ENTRY)
    agent = twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)

    twilio.add_supervisor(
        ENTRY, identity="supervisor_2", from_=LINE, mode="whisper", agent_call_sid=agent
    )

    assert fake.violations == []
    joined = fake.last("/Participants.json").form
    assert joined["Coaching"] == ["true"]
    assert joined["CallSidToCoach"] == [agent]
    with pytest.raises(ValueError, match="agent to coach"):
        twilio.add_supervisor(ENTRY, identity="supervisor_2", from_=LINE, mode="whisper")


def test_hold_and_hang_up_from_another_process_look_the_conference_up(fake, twilio):
    conference_sid, caller = fake.caller_waits(ENTRY)
    agent = twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)
    elsewhere = conferencing(fake)  # another web process: it has not seen the conference's SID

    elsewhere.hold(ENTRY, caller, True, hold_url="https://calls.example.com/twilio/voice/hold")
    people = fake.conferences[conference_sid]["participants"]
    assert people[caller]["hold"] is True
    assert people[caller]["hold_url"] == "https://calls.example.com/twilio/voice/hold"
    elsewhere.hold(ENTRY, caller, False)
    assert people[caller]["hold"] is False
    elsewhere.remove(ENTRY, agent)

    assert fake.violations == []
    looked_up = [r for r in fake.received if r.path.endswith("/Conferences.json")]
    assert len(looked_up) == 1  # then kept
    assert agent not in people and caller in people


def test_a_warm_transfer_keeps_the_first_agent_until_they_are_removed(fake, twilio):
    conference_sid, caller = fake.caller_waits(ENTRY)
    first = twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)

    second = twilio.warm_transfer(ENTRY, identity="agent_9", from_=LINE, status_callback=STATUS_URL)
    people = fake.conferences[conference_sid]["participants"]
    assert set(people) == {caller, first, second}  # the two agents talk, the caller stays
    assert people[second]["label"] == "transfer"
    assert people[second]["to"] == "client:agent_9"

    twilio.remove(ENTRY, first)

    assert fake.violations == []
    assert set(people) == {caller, second}


def test_a_conference_that_ended_is_a_refusal_not_a_retry(fake, twilio):
    _, caller = fake.caller_waits(ENTRY)
    agent = twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)
    fake.end_conference(ENTRY)  # the caller hung up

    with pytest.raises(CarrierRefused) as known_sid:
        twilio.hold(ENTRY, caller, True)
    with pytest.raises(CarrierRefused) as unknown_sid:
        conferencing(fake).remove(ENTRY, agent)

    assert fake.violations == []
    assert known_sid.value.status == 404 and known_sid.value.retry is False
    assert unknown_sid.value.status == 404 and unknown_sid.value.code == 20404


@pytest.mark.parametrize(
    ("status", "code", "expected", "known"),
    [
        (429, 20429, RetryLater, True),
        (404, 20404, CarrierRefused, True),
        (500, 20500, OutcomeUnknown, False),
        (503, 20503, OutcomeUnknown, False),
    ],
)
def test_twilio_errors_on_participants_are_classified(fake, twilio, status, code, expected, known):
    fake.caller_waits(ENTRY)
    fake.failures.append((status, code, "simulated"))

    with pytest.raises(expected) as raised:
        twilio.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=STATUS_URL)

    assert raised.value.outcome_known is known
    assert raised.value.status == status


def test_an_identity_twilio_would_not_register_is_refused_before_any_request(fake, twilio):
    with pytest.raises(ValueError, match="client identity"):
        twilio.add_agent(ENTRY, identity="agent 7", from_=LINE, status_callback=STATUS_URL)

    assert fake.received == []


def test_the_fake_refuses_a_participant_update_by_conference_name(fake):
    # Why the look-up exists: only Create Participant takes a FriendlyName; the spec check is real.
    _, caller = fake.caller_waits(ENTRY)

    response = requests.post(
        f"{fake.url}/2010-04-01/Accounts/{ACCOUNT}/Conferences/{ENTRY}/Participants/{caller}.json",
        data={"Hold": "true"},
        auth=(ACCOUNT, TOKEN),
        timeout=5,
    )

    assert response.status_code == 400
    assert "ConferenceSid" in fake.violations[0] or "pattern" in fake.violations[0]

"""People in the loop in the simulator: a caller waits in a conference, agents and supervisors
join it through the same Conferencing interface as on Twilio, and the simulator shows who heard
what (monitor, whisper, barge, hold)."""

from __future__ import annotations

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from app.carriers.carrier import CarrierRefused, Conferencing, OutboundCall
from app.carriers.conference import TwilioConferencing
from app.carriers.simulator import CalleeScript, SimulatorTelephony, WsgiTransport
from app.carriers.twilio_carrier import TwilioTelephony
from app.carriers.twiml import Speech, wait_for_an_agent, waiting
from tests.twiml_schema import check_twiml_response

TOKEN = "simulator-test-token"
BASE = "https://calls.example.com"
ENTRY = "queue-entry-1"
LINE = "+14155550100"
ENGLISH = ("en-GB", "Polly.Amy")


def line_app(*, action: bool = False) -> tuple[Flask, list[tuple[str, dict[str, str]]]]:
    """The app's side: the caller waits for an agent; every webhook is kept, every TwiML
    document checked against Twilio's schema, every request's signature checked."""
    app = Flask("line")
    seen: list[tuple[str, dict[str, str]]] = []

    @app.before_request
    def signed() -> Response | None:
        url = BASE + request.full_path.rstrip("?")
        if not RequestValidator(TOKEN).validate(
            url, request.form, request.headers.get("X-Twilio-Signature", "")
        ):
            return Response("bad signature", status=403)
        seen.append((request.path.strip("/"), request.form.to_dict()))
        return None

    def twiml(document: object) -> Response:
        return Response(str(document), mimetype="text/xml")

    @app.post("/start")
    def start() -> Response:
        return twiml(
            wait_for_an_agent(
                ENTRY,
                greeting=Speech("Connecting you to an agent.", *ENGLISH),
                wait_url=f"{BASE}/wait",
                status_callback=f"{BASE}/conference",
                action=f"{BASE}/after" if action else None,
            )
        )

    @app.post("/wait")
    def wait() -> Response:
        return twiml(waiting(Speech("You are number 1 in the queue.", *ENGLISH)))

    @app.post("/hold")
    def hold() -> Response:
        return twiml(waiting(Speech("Please hold.", *ENGLISH), pause_seconds=5))

    @app.post("/after")
    def after() -> Response:
        return Response(
            "<Response><Say>We will call you back.</Say></Response>", mimetype="text/xml"
        )

    @app.post("/<name>")
    def report(name: str) -> Response:
        return Response(status=204)

    app.after_request(check_twiml_response)
    return app, seen


def caller_waits(*, action: bool = False) -> tuple[SimulatorTelephony, str, list]:
    app, seen = line_app(action=action)
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app),
        auth_token=TOKEN,
        synchronous=True,
        default_script=CalleeScript(),
    )
    sid = carrier.place_call(
        OutboundCall(
            to="+393331234567",
            from_=LINE,
            url=f"{BASE}/start",
            status_callback=f"{BASE}/status",
            machine_detection=False,
        )
    )
    return carrier, sid, seen


def events(seen: list[tuple[str, dict[str, str]]]) -> list[tuple[str, str]]:
    """The conference's status callbacks: (event, participant label)."""
    return [
        (form["StatusCallbackEvent"], form.get("ParticipantLabel", ""))
        for path, form in seen
        if path == "conference"
    ]


def statuses(seen: list[tuple[str, dict[str, str]]], sid: str, path: str) -> list[str]:
    return [form["CallStatus"] for p, form in seen if p == path and form["CallSid"] == sid]


def test_the_caller_waits_in_the_conference_hearing_their_place():
    carrier, caller, seen = caller_waits()

    call = carrier.calls[caller]
    assert [line.text for line in call.lines if line.who == "call"] == [
        "Connecting you to an agent.",
        "You are number 1 in the queue.",
    ]
    assert carrier.in_conference(caller)
    assert call.statuses[-1] == "in-progress"  # still on the line, not completed
    assert events(seen) == [("participant-join", "caller")]
    conference = carrier.conferences.live(ENTRY)
    assert conference is not None and conference.status == "init"  # only an agent starts it
    join = next(form for path, form in seen if path == "conference")
    assert join["FriendlyName"] == ENTRY and join["ConferenceSid"] == conference.sid


def test_an_agent_rings_answers_and_talks_with_the_caller():
    carrier, caller, seen = caller_waits()

    agent = carrier.add_agent(
        ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/agent-status"
    )
    assert statuses(seen, agent, "agent-status") == ["ringing"]
    carrier.answer_participant(agent)

    assert statuses(seen, agent, "agent-status") == ["ringing", "in-progress"]
    assert events(seen) == [("participant-join", "caller"), ("participant-join", "agent")]
    assert carrier.conferences.live(ENTRY).status == "in-progress"  # type: ignore[union-attr]
    assert carrier.speak(agent, "Hello, this is Anna.") == [caller]
    assert carrier.speak(caller, "Hi Anna.") == [agent]
    assert ("call", "Hello, this is Anna.") in [
        (line.who, line.text) for line in carrier.calls[caller].lines
    ]


def test_a_supervisor_monitors_whispers_then_barges():
    carrier, caller, _ = caller_waits()
    agent = carrier.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/s")
    carrier.answer_participant(agent)
    supervisor = carrier.add_supervisor(ENTRY, identity="supervisor_2", from_=LINE, mode="monitor")
    carrier.answer_participant(supervisor)

    assert sorted(carrier.speak(caller, "Is my card blocked?")) == sorted([agent, supervisor])
    assert carrier.speak(supervisor, "(listening)") == []  # monitoring is muted

    carrier.change_supervisor_mode(ENTRY, supervisor, mode="whisper", agent_call_sid=agent)
    assert carrier.speak(supervisor, "Offer a new card.") == [agent]  # the caller hears nothing

    carrier.change_supervisor_mode(ENTRY, supervisor, mode="barge")
    assert sorted(carrier.speak(supervisor, "I can help too.")) == sorted([caller, agent])
    heard = carrier.conferences.live(ENTRY).participants[caller].heard  # type: ignore[union-attr]
    assert ("supervisor", "Offer a new card.") not in heard
    assert ("supervisor", "I can help too.") in heard


def test_a_held_caller_hears_the_hold_document_and_not_the_agents():
    carrier, caller, seen = caller_waits()
    first = carrier.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/s")
    carrier.answer_participant(first)

    carrier.hold(ENTRY, caller, True, hold_url=f"{BASE}/hold")
    second = carrier.warm_transfer(
        ENTRY, identity="agent_9", from_=LINE, status_callback=f"{BASE}/s"
    )
    carrier.answer_participant(second)
    consult = carrier.speak(first, "A customer about a blocked card.")
    carrier.hold(ENTRY, caller, False)
    carrier.remove(ENTRY, first)

    assert consult == [second]
    assert "Please hold." in [line.text for line in carrier.calls[caller].lines]
    assert statuses(seen, first, "s") == ["ringing", "in-progress", "completed"]
    people = carrier.conferences.live(ENTRY).participants  # type: ignore[union-attr]
    assert [p.label for p in people.values() if p.state == "joined"] == ["caller", "transfer"]
    assert carrier.speak(second, "Hello, I am Marco.") == [caller]
    # The TwiML asked for join, leave and end only: no hold events were sent.
    assert {event for event, _ in events(seen)} == {"participant-join", "participant-leave"}


def test_the_callers_hang_up_ends_the_conference_for_everyone():
    carrier, caller, seen = caller_waits()
    agent = carrier.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/s")
    carrier.answer_participant(agent)
    ringing = carrier.warm_transfer(
        ENTRY, identity="agent_9", from_=LINE, status_callback=f"{BASE}/s"
    )

    carrier.participant_hangs_up(caller)

    assert events(seen)[-3:] == [
        ("participant-leave", "caller"),
        ("participant-leave", "agent"),
        ("conference-end", ""),
    ]
    end = [form for path, form in seen if path == "conference"][-1]
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert statuses(seen, agent, "s")[-1] == "completed"
    assert statuses(seen, ringing, "s")[-1] == "canceled"
    assert carrier.calls[caller].statuses[-1] == "completed"
    assert carrier.conferences.live(ENTRY) is None
    with pytest.raises(CarrierRefused) as gone:
        carrier.hold(ENTRY, agent, True)
    assert gone.value.status == 404


def test_a_caller_removed_by_the_app_goes_on_at_the_dial_action():
    carrier, caller, seen = caller_waits(action=True)

    carrier.remove(ENTRY, caller)  # e.g. they chose a callback instead of waiting

    call = carrier.calls[caller]
    assert [path for path, _ in seen][-2:] == ["after", "status"]
    assert call.lines[-1].text == "We will call you back."
    assert call.statuses[-1] == "completed"
    assert not carrier.in_conference(caller)


def test_an_agent_who_does_not_answer_leaves_the_caller_waiting():
    carrier, caller, seen = caller_waits()
    agent = carrier.add_agent(ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/s")

    carrier.decline_participant(agent)

    assert statuses(seen, agent, "s") == ["ringing", "no-answer"]
    assert carrier.in_conference(caller) and not carrier.in_conference(agent)
    assert carrier.conferences.live(ENTRY).status == "init"  # type: ignore[union-attr]


def desk_routine(conferencing: Conferencing, entry: str, caller: str) -> tuple[str, str]:
    """What the agents' code does, written once against the interface."""
    first = conferencing.add_agent(
        entry, identity="agent_7", from_=LINE, status_callback=f"{BASE}/s"
    )
    supervisor = conferencing.add_supervisor(
        entry, identity="supervisor_2", from_=LINE, mode="whisper", agent_call_sid=first
    )
    conferencing.change_supervisor_mode(entry, supervisor, mode="monitor")
    conferencing.hold(entry, caller, True, hold_url=f"{BASE}/hold")
    second = conferencing.warm_transfer(
        entry, identity="agent_9", from_=LINE, status_callback=f"{BASE}/s"
    )
    conferencing.hold(entry, caller, False)
    conferencing.remove(entry, first)
    return second, supervisor


def test_the_same_code_runs_on_twilio_and_on_the_simulator(fake):
    account = "AC" + "a" * 32
    twilio = TwilioConferencing.of(
        TwilioTelephony(account_sid=account, auth_token=TOKEN, api_base_url=fake.url, timeout=2)
    )
    conference_sid, twilio_caller = fake.caller_waits(ENTRY)
    carrier, simulated_caller, _ = caller_waits()

    on_twilio = desk_routine(twilio, ENTRY, twilio_caller)
    in_simulator = desk_routine(carrier, ENTRY, simulated_caller)

    assert fake.violations == []
    assert set(fake.conferences[conference_sid]["participants"]) == {twilio_caller, *on_twilio}
    people = carrier.conferences.live(ENTRY).participants  # type: ignore[union-attr]
    assert {sid for sid, p in people.items() if p.state != "left"} == {
        simulated_caller,
        *in_simulator,
    }
    assert people[in_simulator[1]].muted is True  # monitoring, in both
    assert fake.conferences[conference_sid]["participants"][on_twilio[1]]["muted"] is True


def test_a_person_at_the_softphone_waits_talks_and_hangs_up(database_url):
    """The softphone keeps a caller in a conference between clicks, shows what the agent says,
    and a hang-up ends the call once (one "completed")."""
    from sqlalchemy.orm import Session

    from app.carriers.service import conferencing_for
    from app.carriers.softphone import Softphone
    from app.extensions import db
    from tests.conftest import make_app

    app = make_app(database_url, PUBLIC_BASE_URL=BASE)
    seen: list[tuple[str, dict[str, str]]] = []

    @app.post("/test-line/<name>")
    def test_line(name: str) -> Response:
        seen.append((name, request.form.to_dict()))
        if name == "start":
            return Response(
                str(
                    wait_for_an_agent(
                        ENTRY,
                        greeting=Speech("Connecting you to an agent.", *ENGLISH),
                        wait_url=f"{BASE}/test-line/wait",
                        status_callback=f"{BASE}/test-line/conference",
                    )
                ),
                mimetype="text/xml",
            )
        if name == "wait":
            return Response(
                str(waiting(Speech("You are number 1 in the queue.", *ENGLISH))),
                mimetype="text/xml",
            )
        return Response(status=204)

    with app.app_context(), Session(db.engine) as session:
        phone = Softphone(app, session)
        answered = phone.dial_in(
            from_="+393331234567",
            to=LINE,
            inbound_url=f"{BASE}/test-line/start",
            status_url=f"{BASE}/test-line/status",
        )
        sid = answered["sid"]
        # The agents' code, in the same app: its carrier shares the app's conferences.
        carrier = conferencing_for(app)
        assert isinstance(carrier, SimulatorTelephony)
        carrier.transport, carrier.synchronous = WsgiTransport(app), True
        agent = carrier.add_agent(
            ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/test-line/agent"
        )
        carrier.answer_participant(agent)
        carrier.speak(agent, "Hello, this is Anna.")
        listed = phone.calls()
        ended = phone.hang_up(sid)

    assert answered["state"] == "in-progress" and not answered["waiting_for_keys"]
    assert [line["text"] for line in answered["lines"] if line["who"] == "call"] == [
        "Connecting you to an agent.",
        "You are number 1 in the queue.",
    ]
    assert "Hello, this is Anna." in [line["text"] for line in listed[0]["lines"]]
    assert ended["state"] == "ended"
    assert [f["CallStatus"] for name, f in seen if name == "status"] == ["completed"]
    assert [f["CallStatus"] for name, f in seen if name == "agent"][-1] == "completed"
    assert [f["StatusCallbackEvent"] for name, f in seen if name == "conference"][-1] == (
        "conference-end"
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

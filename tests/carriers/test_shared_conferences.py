"""The simulator's conferences live in the database: the product's processes (two web workers,
the worker that rings agents) each build their own app, and still meet in one conference."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, Response, request

from app.carriers.models import SimulatorConference, SimulatorParticipant
from app.carriers.signatures import signing_token
from app.carriers.simulator import (
    ENDED_KEPT_FOR,
    SimulatorError,
    SimulatorTelephony,
    WsgiTransport,
    room_for,
)
from app.carriers.twiml import Speech, wait_for_an_agent, waiting
from app.database import utcnow
from app.extensions import db
from tests.conftest import make_app

BASE = "https://calls.example.com"
ENTRY = "queue-entry-1"
LINE = "+14155550100"
ENGLISH = ("en-GB", "Polly.Amy")

Seen = list[tuple[str, dict[str, str]]]


def process(database_url: str, seen: Seen) -> tuple[Flask, SimulatorTelephony]:
    """One process's app, with a caller's line that waits for an agent, and its simulator."""
    app = make_app(database_url, PUBLIC_BASE_URL=BASE)

    @app.post("/test-line/<name>")
    def test_line(name: str) -> Response:
        seen.append((name, request.form.to_dict()))
        if name == "start":
            document = wait_for_an_agent(
                ENTRY,
                greeting=Speech("Connecting you to an agent.", *ENGLISH),
                wait_url=f"{BASE}/test-line/wait",
                status_callback=f"{BASE}/test-line/conference",
            )
            return Response(str(document), mimetype="text/xml")
        if name == "wait":
            document = waiting(Speech("You are number 1 in the queue.", *ENGLISH))
            return Response(str(document), mimetype="text/xml")
        if name == "hold":
            document = waiting(Speech("Please hold.", *ENGLISH), pause_seconds=5)
            return Response(str(document), mimetype="text/xml")
        return Response(status=204)

    carrier = SimulatorTelephony(
        transport=WsgiTransport(app),
        auth_token=signing_token(app.config),
        synchronous=True,
        conferences=room_for(app),
    )
    return app, carrier


@pytest.fixture
def two_processes(
    database_url: str,
) -> Iterator[tuple[SimulatorTelephony, SimulatorTelephony, Seen]]:
    seen: Seen = []
    app_a, carrier_a = process(database_url, seen)
    app_b, carrier_b = process(database_url, seen)
    yield carrier_a, carrier_b, seen
    for app in (app_a, app_b):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def a_caller_waits(carrier: SimulatorTelephony) -> str:
    call = carrier.call_in(
        from_="+393331234567",
        to=LINE,
        inbound_url=f"{BASE}/test-line/start",
        status_url=f"{BASE}/test-line/status",
    )
    return call.sid


def sent(seen: Seen, path: str, sid: str | None = None) -> list[dict[str, str]]:
    return [form for p, form in seen if p == path and (sid is None or form.get("CallSid") == sid)]


def test_a_caller_waiting_in_one_process_hears_the_agent_another_process_connects(
    two_processes,
):
    web, worker, seen = two_processes
    caller = a_caller_waits(web)

    waiting_room = worker.conferences.live(ENTRY)
    assert waiting_room is not None and waiting_room.status == "init"
    assert list(waiting_room.participants) == [caller]
    assert list(worker.conferences.conferences) == [ENTRY]  # every live one, by name

    agent = worker.add_agent(
        ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/test-line/agent"
    )
    worker.answer_participant(agent)
    heard_by = worker.speak(agent, "Hello, this is Anna.")

    assert heard_by == [caller]
    conference = web.conferences.live(ENTRY)
    assert conference is not None and conference.status == "in-progress"
    assert conference.participants[caller].heard == [("agent", "Hello, this is Anna.")]
    lines = web.conference_lines(caller) or []
    assert {"who": "call", "text": "Hello, this is Anna."} in lines
    assert ("call", "Hello, this is Anna.") in [
        (line.who, line.text) for line in web.calls[caller].lines
    ]
    assert web.speak(caller, "Hi Anna.") == [agent]  # and the agent hears the caller
    worker.hold(ENTRY, caller, True, hold_url=f"{BASE}/test-line/hold")
    assert "Please hold." in [line["text"] for line in web.conference_lines(caller) or []]
    assert worker.speak(agent, "(to a colleague) A blocked card.") == []
    worker.hold(ENTRY, caller, False)

    web.participant_hangs_up(caller)

    agent_reports = sent(seen, "agent", agent)
    assert [form["CallStatus"] for form in agent_reports] == ["ringing", "in-progress", "completed"]
    assert [form["SequenceNumber"] for form in agent_reports] == ["0", "1", "2"]
    events = sent(seen, "conference")
    assert [form["StatusCallbackEvent"] for form in events] == [
        "participant-join",
        "participant-join",
        "participant-leave",
        "participant-leave",
        "conference-end",
    ]
    # One numbering for the conference, whichever process reported (the TwiML asked for join,
    # leave and end: no hold events).
    assert [int(form["SequenceNumber"]) for form in events] == [1, 2, 3, 4, 5]
    assert [form["CallStatus"] for form in sent(seen, "status", caller)] == ["completed"]
    assert worker.conferences.live(ENTRY) is None
    ended = worker.conferences.find(ENTRY)
    assert ended is not None and ended.status == "completed"


def test_a_caller_another_process_removes_is_seen_going_on_with_their_call(two_processes):
    web, worker, seen = two_processes
    caller = a_caller_waits(web)

    worker.remove(ENTRY, caller)  # e.g. the agent's talk is over

    assert not web.in_conference(caller)
    gone = web.conferences.left(caller)
    assert gone is not None and gone.call.statuses[-1] == "completed"
    assert [form["CallStatus"] for form in sent(seen, "status", caller)] == ["completed"]


def test_a_conference_name_is_reused_once_its_conference_has_ended(two_processes):
    web, worker, _ = two_processes
    first = a_caller_waits(web)
    first_sid = worker.conferences.live(ENTRY).sid  # type: ignore[union-attr]
    web.participant_hangs_up(first)

    second = a_caller_waits(worker)

    conference = web.conferences.live(ENTRY)
    assert conference is not None and conference.sid != first_sid
    assert list(conference.participants) == [second]


def test_a_caller_who_leaves_their_conference_and_comes_back_joins_a_new_one(two_processes):
    web, worker, _ = two_processes
    caller = a_caller_waits(web)
    first_sid = worker.conferences.live(ENTRY).sid  # type: ignore[union-attr]

    # Out of the waiting room (offered a call back, say) and back into a place of that name.
    web.redirect(caller, f"{BASE}/test-line/start")

    conference = worker.conferences.live(ENTRY)
    assert conference is not None and conference.sid != first_sid
    assert [(p.sid, p.state) for p in conference.participants.values()] == [(caller, "joined")]
    lines = [(line.who, line.text) for line in web.calls[caller].lines]
    assert lines.count(("carrier", "waits in a conference")) == 2
    assert ("carrier", "leaves the conference (redirected)") in lines
    agent = worker.add_agent(
        ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/test-line/agent"
    )
    worker.answer_participant(agent)
    assert worker.speak(agent, "Hello, this is Anna.") == [caller]
    assert [(c.sid, p.sid, p.state) for c, p in web.conferences.of_address("client:agent_7")] == [
        (conference.sid, agent, "joined")
    ]
    # Everything the call did is still there, in both conferences' process.
    assert [(line.who, line.text) for line in web.calls[caller].lines][: len(lines)] == lines


def test_two_processes_answering_one_ringing_agent_connect_it_once(two_processes, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes write at once only on PostgreSQL (SQLite: one writer)")
    web, worker, seen = two_processes
    caller = a_caller_waits(web)
    agent = worker.add_agent(
        ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/test-line/agent"
    )
    start = threading.Barrier(2)
    answered: list[str] = []
    refused: list[str] = []
    failures: list[BaseException] = []

    def answer(carrier: SimulatorTelephony, name: str) -> None:
        start.wait()
        try:
            carrier.answer_participant(agent)
            answered.append(name)
        except SimulatorError:
            refused.append(name)
        except BaseException as error:  # the test says what went wrong, and where
            failures.append(error)

    threads = [
        threading.Thread(target=answer, args=(carrier, name))
        for carrier, name in ((web, "web"), (worker, "worker"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(answered) == 1 and len(refused) == 1
    conference = web.conferences.live(ENTRY)
    assert conference is not None
    assert conference.log.count(("agent", "joins")) == 1
    assert [form["CallStatus"] for form in sent(seen, "agent", agent)] == [
        "ringing",
        "in-progress",
    ]
    assert [form["StatusCallbackEvent"] for form in sent(seen, "conference")].count(
        "participant-join"
    ) == 2  # the caller and the agent, once
    assert web.speak(caller, "Hello?") == [agent]


def test_ended_conferences_are_kept_a_while_then_forgotten(two_processes, database_url):
    web, worker, _ = two_processes
    first = a_caller_waits(web)
    web.participant_hangs_up(first)
    ended = worker.conferences.find(ENTRY)
    assert ended is not None and ended.status == "completed"
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:  # two days and more later
        connection.execute(
            sa.update(SimulatorConference).values(ended_at=utcnow() - ENDED_KEPT_FOR * 2)
        )

    second = a_caller_waits(worker)
    worker.participant_hangs_up(second)

    remaining = worker.conferences.find(ENTRY)
    assert remaining is not None and remaining.sid != ended.sid
    with engine.connect() as connection:
        kept = connection.scalars(sa.select(SimulatorConference.sid)).all()
        people = connection.scalars(sa.select(SimulatorParticipant.call_sid)).all()
    engine.dispose()
    assert kept == [remaining.sid]
    assert people == [second]

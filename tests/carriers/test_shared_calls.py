"""The simulator's calls live in the database too: the product's processes (two web workers, the
worker) each build their own app and their own simulator, and still agree on every call: its
status (the reaper asks the worker's simulator about calls a web process plays), a hang-up
(asked in one process, obeyed by the one playing the call) and a call to find again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask, Response, request
from twilio.twiml.voice_response import VoiceResponse

from app.carriers import simulator
from app.carriers.carrier import OutboundCall
from app.carriers.models import SimulatorCallState
from app.carriers.signatures import signing_token
from app.carriers.simulator import (
    KEPT_CALL_STATES,
    CalleeScript,
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
CUSTOMER = "+393331234567"
ENGLISH = ("en-GB", "Polly.Amy")

Seen = list[tuple[str, dict[str, str]]]


def process(database_url: str, seen: Seen) -> tuple[Flask, SimulatorTelephony]:
    """One process's app, with a menu line and a line that waits for an agent, and its
    simulator (unscripted calls wait for a person, as on the softphone)."""
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
        if name in ("menu", "pressed"):
            response = VoiceResponse()
            gather = response.gather(num_digits=1, action=f"{BASE}/test-line/pressed")
            gather.say("Press 1 to go on.")
            return Response(str(response), mimetype="text/xml")
        return Response(status=204)

    carrier = SimulatorTelephony(
        transport=WsgiTransport(app),
        auth_token=signing_token(app.config),
        synchronous=True,
        ring_store=lambda call: None,  # a person answers (the test does, step by step)
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


def placed(carrier: SimulatorTelephony, *, key: str = "attempt-1") -> str:
    """We call the customer with the menu line; it rings for a person."""
    return carrier.place_call(
        OutboundCall(
            to=CUSTOMER,
            from_=LINE,
            url=f"{BASE}/test-line/menu",
            status_callback=f"{BASE}/test-line/status?attempt={key}",
        )
    )


def test_an_agents_call_placed_by_the_worker_has_one_status_in_every_process(two_processes):
    web, worker, seen = two_processes
    caller = web.call_in(
        from_=CUSTOMER,
        to=LINE,
        inbound_url=f"{BASE}/test-line/start",
        status_url=f"{BASE}/test-line/status",
    )

    agent = worker.add_agent(
        ENTRY, identity="agent_7", from_=LINE, status_callback=f"{BASE}/test-line/agent"
    )

    assert agent not in web.calls  # placed by the worker, never seen by the web process
    assert web.call_status(agent) == "ringing"
    web.answer_participant(agent)  # the agent answers at their desk (a web request)
    assert worker.call_status(agent) == "in-progress"

    web.participant_hangs_up(caller.sid)

    assert worker.call_status(agent) == "completed"
    assert worker.call_status(caller.sid) == "completed"  # a call only the web process played
    assert web.call_status(agent) == "completed"
    reports = [form["CallStatus"] for name, form in seen if name == "agent"]
    assert reports == ["ringing", "in-progress", "completed"]
    assert worker.call_status("CA" + "0" * 32) is None  # a call nobody placed


def test_a_hang_up_asked_in_one_process_stops_the_call_another_process_plays(two_processes):
    web, worker, seen = two_processes
    sid = placed(worker)
    call = worker.calls[sid]
    question = worker.answer(call)  # the person picks up in the worker's process
    assert question is not None and web.call_status(sid) == "in-progress"

    web.hang_up(sid)  # e.g. a web request ends the call

    assert worker.press(call, question, "1") is None  # their next step is the last
    assert call.lines[-1].text == "hung up by the app"
    worker.finish(call)
    assert web.call_status(sid) == "completed"
    assert [form["Digits"] for name, form in seen if name == "pressed"] == ["1"]


def test_a_call_another_process_placed_is_found_again_after_a_lost_create(two_processes):
    web, worker, _ = two_processes
    since = utcnow() - timedelta(seconds=1)
    worker.expect(CUSTOMER, CalleeScript(answer="busy"))
    sid = placed(worker, key="attempt-42")

    # The worker died before it kept the sid: another process finds the call, and its end.
    assert web.find_call(to=CUSTOMER, since=since, key="attempt-42") == sid
    assert web.find_call(to=CUSTOMER, since=since, key="attempt-43") is None
    assert web.find_call(to=CUSTOMER, since=utcnow() + timedelta(seconds=1), key="attempt") is None
    assert web.call_status(sid) == "busy"


def test_calls_are_kept_a_while_then_forgotten(two_processes, database_url):
    web, worker, _ = two_processes
    old = placed(web, key="old")
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:  # two days and more later
        connection.execute(
            sa.update(SimulatorCallState).values(placed_at=utcnow() - KEPT_CALL_STATES * 2)
        )

    new = placed(worker, key="new")

    with engine.connect() as connection:
        kept = connection.scalars(sa.select(SimulatorCallState.sid)).all()
    engine.dispose()
    assert kept == [new] and old not in kept


def test_a_long_running_process_keeps_only_its_newest_calls_and_the_book_answers_for_the_rest(
    two_processes, monkeypatch
):
    _, worker, _ = two_processes
    monkeypatch.setattr(simulator, "KEPT_CALLS", 2)
    sids = []
    for key in ("a", "b", "c"):
        worker.expect(CUSTOMER, CalleeScript(answer="no-answer"))
        sids.append(placed(worker, key=key))

    assert list(worker.calls) == sids[1:]
    assert worker.call_status(sids[0]) == "no-answer"

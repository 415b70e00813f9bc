"""Callers reach a person: the queue node, the waiting room, the offer of a call back, and the
ways in (press 0 after the code, "it was not me", the hotline, the service line).

The queue itself is the agents domain's; here a fake Queueing port stands in for it, and records
everything it receives, so that no test can miss a digit the caller typed reaching it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from app.calls.models import Call
from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.extensions import db
from app.flows.definition import load_common_prompts
from app.flows.engine import QUEUE
from app.flows.ports import QueueRequest
from app.ivr.waiting import offer_call_backs
from tests.telephony_fixtures import VALID_CODE, place

CUSTOMER_PHONE = "+393331234567"
SERVICE_LINE = "+14155550104"


def later() -> datetime:
    """The flows keep time on the real clock here: a moment past the default offer (3 minutes),
    taken when the test runs (a constant taken at import goes stale in a long suite)."""
    return datetime.now(UTC) + timedelta(minutes=30)


@dataclass
class FakeQueue:
    """The queue for people as the flows see it: callers in line in the order they came."""

    ahead: int = 0  # callers already waiting before any of ours
    open: bool = True
    waiting: list[Any] = field(default_factory=list)
    requests: list[QueueRequest] = field(default_factory=list)
    names: dict[Any, str] = field(default_factory=dict)
    virtual_hold: list[Any] = field(default_factory=list)
    gone: list[Any] = field(default_factory=list)
    # The call's outcome when it was queued (the denial is recorded before the fraud team).
    outcome_when_queued: list[str | None] = field(default_factory=list)
    received: list[str] = field(default_factory=list)  # every argument, as text

    def _got(self, *values: Any) -> None:
        self.received += [repr(value) for value in values]

    def enqueue(self, session, request: QueueRequest) -> str | None:
        self._got(request)
        self.requests.append(request)
        self.outcome_when_queued.append(session.get(Call, request.call_id).outcome)
        if not self.open:
            return None
        if request.call_id not in self.waiting:
            self.waiting.append(request.call_id)
        return self.names.setdefault(request.call_id, f"queue-{uuid.uuid4()}")

    def position(self, session, call_id) -> int | None:
        self._got(call_id)
        if call_id not in self.waiting:
            return None
        return self.ahead + self.waiting.index(call_id) + 1

    def waiting_calls(self, session) -> list[Any]:
        return list(self.waiting)

    def take_virtual_hold(self, session, call_id) -> None:
        self._got(call_id)
        self.virtual_hold.append(call_id)
        self.waiting.remove(call_id)

    def left(self, session, call_id) -> None:
        self._got(call_id)
        self.gone.append(call_id)
        if call_id in self.waiting:
            self.waiting.remove(call_id)


@pytest.fixture
def queue(app, simulator) -> FakeQueue:
    fake = FakeQueue(ahead=2)
    app.extensions["queueing"] = fake
    return fake


PROMPTS = load_common_prompts()


def prompt(name: str, language: str = "it", **values: Any) -> str:
    return PROMPTS[name][language].format(**values)


def heard(simulated: SimulatedCall) -> list[str]:
    return [line.text for line in simulated.lines if line.who == "call"]


def the_call(app, call_id) -> Call:
    with app.app_context():
        call = db.session.get_one(Call, call_id)
        db.session.expunge(call)
        return call


def assert_no_digit_typed_reached_the_queue(queue: FakeQueue) -> None:
    received = " ".join(queue.received)
    assert VALID_CODE not in received
    assert "Digits" not in received and "keyed" not in received


def waiting_dial(simulated: SimulatedCall):
    assert simulated.waiting is not None, "the caller is not waiting in a conference"
    return etree.fromstring(simulated.waiting.encode())[0]


# ----- press 0 after the code -----


@pytest.mark.usefixtures("lines", "customer")
def test_a_verified_caller_who_presses_0_waits_in_line_hearing_their_place(app, simulator, queue):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0"))
    simulated = list(simulator.calls.values())[-1]

    [request] = queue.requests
    assert (request.skill, request.priority, request.locale) == ("fraud", 2, "it")
    assert request.flow == "transaction_alert"
    assert request.verified_by == "app_code" and request.verified_at is not None
    # The waiting room, in the caller's language: their place, then the hold message.
    assert prompt("connect_fraud") in heard(simulated)
    assert prompt("queue_position", position=3) in heard(simulated)
    assert prompt("queue_waiting") in heard(simulated)
    # They wait in the conference named after their place; only an agent starts it.
    dial = waiting_dial(simulated)
    conference = dial.find("Conference")
    assert conference.text == queue.names[placed.call.id]
    assert conference.get("startConferenceOnEnter") == "false"
    assert conference.get("endConferenceOnExit") == "true"
    assert conference.get("statusCallbackEvent") == "join leave end"
    assert "completed" not in simulated.statuses
    assert the_call(app, placed.call.id).variables[QUEUE]["state"] == "waiting"
    assert_no_digit_typed_reached_the_queue(queue)

    simulator.conference_ended(simulated)  # the agent's talk is over

    # Thanks, the satisfaction question (no key here), goodbye.
    said = heard(simulated)
    asked = said.index(prompt("satisfaction_ask"))
    assert said[asked - 1] == prompt("after_agent_said")
    assert said[-1] == prompt("goodbye")
    assert simulated.statuses[-1] == "completed"
    assert queue.gone == []  # they were not waiting any more: nothing to abandon
    call = the_call(app, placed.call.id)
    assert call.variables[QUEUE]["state"] == "done"
    assert call.variables["verified_at"] == request.verified_at.isoformat()


@pytest.mark.usefixtures("lines", "customer")
def test_it_was_not_me_goes_to_the_fraud_team_at_high_priority_once_the_denial_is_recorded(
    app, simulator, queue
):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "2"))

    [request] = queue.requests
    assert (request.skill, request.priority) == ("fraud", 3)
    assert request.verified_at is not None
    assert queue.outcome_when_queued == ["denied"]
    assert the_call(app, placed.call.id).outcome == "denied"
    assert_no_digit_typed_reached_the_queue(queue)


@pytest.mark.usefixtures("lines", "customer")
def test_when_nobody_can_take_the_call_the_caller_hears_so_and_is_asked_again(app, simulator):
    # No queue registered: the default answers that nobody can take the call.
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0", "1"))
    simulated = list(simulator.calls.values())[-1]

    assert prompt("nobody_free") in heard(simulated)
    assert simulated.waiting is None
    assert placed.call.outcome == "confirmed"
    assert simulated.statuses[-1] == "completed"


# ----- the caller hangs up, or is offered a call back -----


@pytest.mark.usefixtures("lines", "customer")
def test_a_caller_who_hangs_up_while_waiting_has_left_the_queue(app, simulator, queue):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0"))
    simulated = list(simulator.calls.values())[-1]

    simulator.caller_hangs_up(simulated)

    assert queue.gone == [placed.call.id]
    assert simulated.statuses[-1] == "completed"
    call = the_call(app, placed.call.id)
    assert call.variables[QUEUE]["state"] == "ended"
    assert call.outcome is None  # nothing after the queue ran: the caller was gone


@pytest.mark.usefixtures("lines", "customer")
def test_a_caller_offered_a_call_back_who_presses_1_keeps_their_place_off_the_line(
    app, simulator, queue
):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0", "1"))
    simulated = list(simulator.calls.values())[-1]

    with app.app_context():
        offered = offer_call_backs(
            db.session(), queueing=queue, telephony=simulator, urls=CallUrls(app), now=later()
        )

    assert offered == 1
    assert prompt("queue_hold_offer") in heard(simulated)
    assert heard(simulated)[-1] == prompt("queue_callback_taken")
    assert queue.virtual_hold == [placed.call.id]
    assert simulated.statuses[-1] == "completed"
    assert queue.gone == []  # the end of the call does not abandon a caller on virtual hold
    assert the_call(app, placed.call.id).variables[QUEUE]["state"] == "callback"
    assert_no_digit_typed_reached_the_queue(queue)


@pytest.mark.parametrize("key", ["2", ""])
@pytest.mark.usefixtures("lines", "customer")
def test_a_caller_offered_a_call_back_who_keeps_waiting_goes_back_to_their_place(
    app, simulator, queue, key
):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0", key))
    simulated = list(simulator.calls.values())[-1]
    name = waiting_dial(simulated).find("Conference").text

    with app.app_context():
        offer_call_backs(
            db.session(), queueing=queue, telephony=simulator, urls=CallUrls(app), now=later()
        )

    assert prompt("queue_hold_offer") in heard(simulated)
    assert waiting_dial(simulated).find("Conference").text == name  # the same place
    assert len(queue.requests) == 1  # not queued again at the back
    assert queue.virtual_hold == []
    assert heard(simulated).count(prompt("queue_position", position=3)) == 2

    simulator.caller_hangs_up(simulated)

    assert queue.gone == [placed.call.id]


@pytest.mark.usefixtures("lines", "customer")
def test_a_call_that_ended_meanwhile_is_not_offered_a_call_back(app, simulator, queue):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0"))
    simulated = list(simulator.calls.values())[-1]
    simulator.caller_hangs_up(simulated)
    queue.waiting.append(placed.call.id)  # a queue that has not caught up yet

    with app.app_context():
        offered = offer_call_backs(
            db.session(), queueing=queue, telephony=simulator, urls=CallUrls(app), now=later()
        )

    assert offered == 0
    assert prompt("queue_hold_offer") not in heard(simulated)


@pytest.mark.usefixtures("lines", "customer")
def test_a_caller_is_offered_a_call_back_once_and_only_after_the_node_s_wait(app, simulator, queue):
    with app.app_context():
        placed = place(app, simulator, keys=(VALID_CODE, "0", "2"))
    simulated = list(simulator.calls.values())[-1]
    with app.app_context():
        since = datetime.fromisoformat(
            db.session.get_one(Call, placed.call.id).variables[QUEUE]["since"]
        )

    def offer(now: datetime) -> int:
        with app.app_context():
            return offer_call_backs(
                db.session(), queueing=queue, telephony=simulator, urls=CallUrls(app), now=now
            )

    assert offer(since + timedelta(minutes=2, seconds=59)) == 0  # offer_callback_after: 3
    assert offer(since + timedelta(minutes=3)) == 1
    assert offer(since + timedelta(minutes=10)) == 0  # back in line after "2": not again
    assert heard(simulated).count(prompt("queue_hold_offer")) == 1
    queue.waiting.clear()  # ringing at an agent's desk: not waiting on the line
    with app.app_context():
        call = db.session.get_one(Call, placed.call.id)
        call.variables = {**call.variables, QUEUE: {**call.variables[QUEUE], "offered": False}}
        db.session.commit()
    assert offer(since + timedelta(minutes=10)) == 0


# ----- the inbound ways in -----


def ring(app, simulator, *, to: str, keys: list[str], reports: bool = True) -> SimulatedCall:
    with app.app_context():
        urls = CallUrls(app)
        return simulator.call_in(
            from_=CUSTOMER_PHONE,
            to=to,
            inbound_url=urls.inbound(),
            status_url=urls.status() if reports else None,
            script=CalleeScript(keys=keys),
        )


def call_of(app, simulated: SimulatedCall) -> Call:
    with app.app_context():
        call = db.session.query(Call).filter_by(sid=simulated.sid).one()
        db.session.expunge(call)
        return call


@pytest.fixture
def service_line(api):
    response = api.post(
        "/api/v1/official-numbers",
        json={
            "phone": SERVICE_LINE,
            "purpose": "service_line",
            "label": "Customer service",
            "inbound_only": True,
        },
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["flow"] == "service_line"  # the purpose's own flow


@pytest.mark.parametrize(
    ("key", "skill", "priority"),
    [("1", "fraud", 3), ("2", "withdrawals", 2), ("3", "complaints", 2), ("4", "general", 2)],
)
@pytest.mark.usefixtures("lines", "customer", "service_line")
def test_the_service_line_verifies_the_caller_then_takes_them_to_the_team_they_pick(
    app, simulator, queue, key, skill, priority
):
    simulated = ring(app, simulator, to=SERVICE_LINE, keys=["1", VALID_CODE, key])

    call = call_of(app, simulated)
    [request] = queue.requests
    assert (request.skill, request.priority) == (skill, priority)
    assert request.verified_at is not None and request.verified_by == "app_code"
    assert request.call_id == call.id and call.flow == "service_line"
    assert prompt("queue_position", position=3) in heard(simulated)
    assert_no_digit_typed_reached_the_queue(queue)


@pytest.mark.usefixtures("lines", "customer", "service_line")
def test_nobody_reaches_a_person_on_the_service_line_without_a_right_code(app, simulator, queue):
    simulated = ring(app, simulator, to=SERVICE_LINE, keys=["1", "111111", "222222", "333333", "1"])

    assert queue.requests == []
    assert call_of(app, simulated).outcome == "verification_failed"
    assert simulated.statuses[-1] == "completed"


@pytest.mark.usefixtures("lines", "customer")
def test_the_hotline_puts_an_unverified_caller_through_to_the_general_team_as_unverified(
    app, simulator, queue
):
    # No number keyed, we did not call them; "to speak to someone, press 0".
    simulated = ring(app, simulator, to="+14155550101", keys=["", "0"])

    [request] = queue.requests
    assert (request.skill, request.priority) == ("general", 2)
    assert request.verified_at is None and request.verified_by is None
    assert request.flow == "verify_caller_line"
    assert simulated.waiting is not None

    simulator.caller_hangs_up(simulated)

    assert queue.gone == [call_of(app, simulated).id]


@pytest.mark.usefixtures("lines", "customer", "service_line")
def test_a_caller_who_hangs_up_while_waiting_leaves_the_queue_once_without_a_status_callback(
    app, simulator, queue
):
    # A line whose number reports no call status: <Dial action> still says the caller is gone.
    simulated = ring(app, simulator, to=SERVICE_LINE, keys=["1", VALID_CODE, "2"], reports=False)

    simulator.caller_hangs_up(simulated)

    assert queue.gone == [call_of(app, simulated).id]

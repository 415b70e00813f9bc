"""The agent's screen pop says how far the network vouched for an inbound caller's number
(STIR/SHAKEN), in words: a number not attested A may be spoofed, and the agent should know that
before trusting it. Our own calls out show no such line: we dialed the number."""

from __future__ import annotations

import uuid

import pytest

from app.agents.models import QueueEntry
from app.calls.models import Call, CallDirection
from app.extensions import db
from tests.console.conftest import sign_in
from tests.console.test_desk import Recorder, ringing, text

pytestmark = pytest.mark.usefixtures("accounts", "lines", "customer", "clock")


def came_in(app, entry_id: str, stir_verstat: str | None) -> None:
    """The caller's leg as if they had called our line, with the network's attestation."""
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        call = db.session.get_one(Call, entry.call_id)
        call.direction, call.caller_id_attestation = CallDirection.INBOUND, stir_verstat
        db.session.commit()


@pytest.mark.parametrize(
    ("stir_verstat", "words", "attested"),
    [
        ("TN-Validation-Passed-A", "Caller ID verified by the network (A)", True),
        ("TN-Validation-Passed-B", "Caller ID partly verified (B)", False),
        (None, "Caller ID not verified", False),
    ],
)
def test_the_pop_of_a_caller_who_called_us_says_whether_the_network_vouched_for_the_number(
    app, api, simulator, dispatcher, stir_verstat, words, attested
):
    entry_id = ringing(app, api, simulator, dispatcher)
    came_in(app, entry_id, stir_verstat)
    desk = Recorder(sign_in(app, "agent"))

    page = text(desk.post("/console/desk/answer", entry_id=entry_id))

    assert "Answered: you are on the call." in page
    row = page[page.index('data-testid="caller-id"') :]
    assert row[row.index(">") + 1 :].startswith(words)
    stands_out = 'class="error"' in row.split(">")[0]  # a number not vouched for, in red
    assert stands_out is not attested
    shown = desk.get("/console/desk/state").get_json()["entry"]["caller_id"]
    assert shown["attested"] is attested and shown["label"].startswith(words)


def test_the_pop_of_our_own_call_out_has_no_caller_id_line(app, api, simulator, dispatcher):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))

    page = text(desk.post("/console/desk/answer", entry_id=entry_id))

    assert "Answered: you are on the call." in page
    assert 'data-testid="caller-id"' not in page and "Caller ID" not in page
    assert desk.get("/console/desk/state").get_json()["entry"]["caller_id"] is None

"""Whole calls on the simulator: press 9 on the hotline or the service line, key the date of
birth, and the account is frozen before any app code; the fraud team takes the caller."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.calls.models import Call, CallTurn
from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.extensions import db
from app.flows.definition import load_common_prompts
from app.freezes.models import FreezeChannel, FreezeRequest
from tests.engine_fixtures import deliver
from tests.freezes.conftest import BIRTH_DATE, E164, HOTLINE, KEYED, SERVICE_LINE, register
from tests.telephony_fixtures import place

pytestmark = pytest.mark.usefixtures("lines", "clock", "service_line")
PROMPTS = load_common_prompts()


def prompt(name: str, lang: str) -> str:
    return PROMPTS[name][lang]


def ring(app, simulator, *, caller: str, to: str, keys: list[str]) -> SimulatedCall:
    with app.app_context():
        urls = CallUrls(app)
        return simulator.call_in(
            from_=caller,
            to=to,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys),
        )


def heard(simulated: SimulatedCall) -> list[str]:
    return [line.text for line in simulated.lines if line.who == "call"]


def freezes(app) -> list[FreezeRequest]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(FreezeRequest)))
        db.session.expunge_all()
        return rows


def the_call(app, simulated: SimulatedCall) -> tuple[Call, list[str]]:
    with app.app_context():
        call = db.session.scalars(sa.select(Call).filter_by(sid=simulated.sid)).one()
        turns = list(db.session.scalars(sa.select(CallTurn.text).filter_by(call_id=call.id)))
        db.session.expunge(call)
        return call, turns


@pytest.mark.parametrize(
    ("lang", "line", "keys"),
    [
        ("it", SERVICE_LINE, ["9", KEYED]),
        ("pl", SERVICE_LINE, ["9", KEYED]),
        ("en", HOTLINE, ["", "9", KEYED]),  # no number to check, we did not call: then 9
        ("pl", HOTLINE, ["", "9", KEYED]),
    ],
)
def test_a_caller_who_lost_their_phone_freezes_the_account_without_the_app(
    app, api, simulator, queue, clock, core, lang, line, keys
):
    register(api, lang)

    simulated = ring(app, simulator, caller=E164[lang], to=line, keys=keys)

    said = heard(simulated)
    assert prompt("freeze_ask_birth_date", lang) in said
    assert prompt("freeze_registered", lang) in said
    assert prompt("connect_fraud", lang) in said
    [freeze] = freezes(app)
    assert (freeze.channel, freeze.status.value) == (FreezeChannel.PHONE, "frozen")
    [request] = queue.requests
    assert (request.skill, request.priority) == ("fraud", 3)
    assert request.verified_at is None and request.verified_by is None  # no code was typed
    call, turns = the_call(app, simulated)
    assert freeze.call_id == call.id
    # The date never reaches the database: the transcript keeps its length, the variable is gone.
    assert KEYED not in json.dumps(call.variables) and KEYED not in " ".join(turns)
    assert "********" in turns
    deliver(app, clock)  # the freeze, and the app's call status (on a call with us)
    sent = [body["type"] for body, *_ in core.received]
    assert sent.count("account.freeze_requested") == 1


@pytest.mark.parametrize(
    ("lang", "we_called", "press_9"),
    [
        ("it", "nelle ultime 24 ore abbiamo chiamato", "prema 9"),
        ("pl", "dzwoniliśmy na numer, z którego Państwo dzwonią", "prosimy nacisnąć 9"),
    ],
)
def test_a_caller_we_did_call_can_still_press_9_and_freeze(
    app, api, simulator, queue, lang, we_called, press_9
):
    register(api, lang)
    place(app, simulator, external_id=f"cust-{lang}", keys=["", "", ""])  # our call, unanswered

    # No number to check; "yes, we called you", then the menu after it: 9.
    simulated = ring(app, simulator, caller=E164[lang], to=HOTLINE, keys=["", "9", KEYED])

    said = heard(simulated)
    after_yes = said[next(i for i, text in enumerate(said) if we_called in text) + 1 :]
    assert press_9 in after_yes[0]
    assert prompt("freeze_registered", lang) in after_yes
    assert prompt("connect_fraud", lang) in after_yes
    [freeze] = freezes(app)
    assert (freeze.channel, freeze.status.value) == (FreezeChannel.PHONE, "frozen")
    assert [r.skill for r in queue.requests] == ["fraud"]


def test_a_caller_whose_number_the_network_did_not_vouch_for_can_press_9(
    app, api, simulator, queue
):
    register(api, "pl")
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=E164["pl"],
            to=HOTLINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=["", "9", KEYED]),
            stir_verstat="TN-Validation-Passed-B",
        )

    said = heard(simulated)
    assert any("Nie mamy pewności" in text and "nacisnąć 9" in text for text in said)
    assert prompt("freeze_registered", "pl") in said
    [freeze] = freezes(app)
    assert freeze.status.value == "frozen"


def test_a_wrong_date_and_an_unknown_number_sound_the_same_and_change_nothing(
    app, api, simulator, queue
):
    register(api, "it")

    wrong = ring(app, simulator, caller=E164["it"], to=SERVICE_LINE, keys=["9", "01011990"])
    queue.waiting.clear()  # the first caller's turn came: each is first in line
    stranger = ring(app, simulator, caller="+393339999999", to=SERVICE_LINE, keys=["9", KEYED])

    assert heard(wrong) == heard(stranger)
    assert prompt("freeze_no_match", "it") in heard(wrong)
    assert prompt("freeze_registered", "it") not in heard(wrong)
    assert freezes(app) == []
    # Both still reach the fraud team, unverified.
    assert [r.skill for r in queue.requests] == ["fraud", "fraud"]


@pytest.mark.parametrize("line", [SERVICE_LINE, HOTLINE])
def test_an_unvouched_caller_id_hears_what_a_stranger_hears_not_the_customers_language(
    app, api, simulator, queue, line
):
    # A customer whose language is not their number's country's: a greeting in Chinese to a
    # Polish number would tell whoever borrowed that caller ID that the number is a customer's.
    customer = {"external_id": "c-zh", "phone": E164["pl"], "locale": "zh"}
    customer["birth_date"] = BIRTH_DATE
    assert api.post("/api/v1/customers", json=customer).status_code == 201
    keys = ["9", "01011990"] if line == SERVICE_LINE else ["", "9", "01011990"]

    def calls_in(caller: str, stir_verstat: str | None) -> list[str]:
        queue.waiting.clear()  # each caller is first in line
        with app.app_context():
            urls = CallUrls(app)
            return heard(
                simulator.call_in(
                    from_=caller,
                    to=line,
                    inbound_url=urls.inbound(),
                    status_url=urls.status(),
                    script=CalleeScript(keys=keys),
                    stir_verstat=stir_verstat,
                )
            )

    for unvouched in ("TN-Validation-Passed-B", None):
        customer = calls_in(E164["pl"], unvouched)
        stranger = calls_in("+48601999888", unvouched)
        assert customer == stranger
        assert prompt("freeze_no_match", "pl") in customer
    vouched = calls_in(E164["pl"], "TN-Validation-Passed-A")
    assert prompt("freeze_no_match", "zh") in vouched  # the network vouched: their own language


def test_a_caller_past_their_tries_is_not_matched_even_with_the_right_date(
    app, api, simulator, queue
):
    register(api, "it")
    for _ in range(5):
        ring(app, simulator, caller=E164["it"], to=SERVICE_LINE, keys=["9", "01011990"])

    late = ring(app, simulator, caller=E164["it"], to=SERVICE_LINE, keys=["9", KEYED])

    assert prompt("freeze_no_match", "it") in heard(late)
    assert freezes(app) == []


def test_a_frozen_caller_nobody_can_take_hears_the_account_stays_frozen(app, api, simulator, queue):
    register(api, "it")
    queue.open = False

    simulated = ring(app, simulator, caller=E164["it"], to=SERVICE_LINE, keys=["9", KEYED])

    assert heard(simulated)[-1] == prompt("freeze_nobody_free", "it")
    assert len(freezes(app)) == 1

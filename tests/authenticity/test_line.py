"""The "is this call really from us?" phone line, played on the simulator."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.service import Actor
from app.authenticity.models import ReportChannel, ScamReport
from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus
from app.calls.models import Call
from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.extensions import db
from tests.engine_fixtures import MORNING, callback_of
from tests.telephony_fixtures import VALID_CODE, place
from tests.verification.conftest import enrol

pytestmark = pytest.mark.usefixtures("lines", "clock")
HOTLINE = "+14155550101"


def ring_the_line(app, simulator, caller: str, keys: list[str]):
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=caller,
            to=HOTLINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys),
        )
        call = db.session.scalar(sa.select(Call).filter_by(sid=simulated.sid))
        db.session.expunge(call)
    heard = [line.text for line in simulated.lines if line.who == "call"]
    return call, heard


@pytest.fixture
def retired(api):
    api.post(
        "/api/v1/official-numbers",
        json={"phone": "+1 415 555 0199", "purpose": "outbound_verification", "label": "Old"},
    )
    api.delete("/api/v1/official-numbers/+14155550199")


@pytest.mark.parametrize(
    ("keyed", "words"),
    [
        ("14155550100#", "is ours: Verification calls. We do make calls from it."),
        ("0014155550101#", "we never make calls from it"),  # inbound-only: spoofed
        ("14155550199#", "It no longer calls anyone"),
        ("390612345678#", "is not one of ours"),
    ],
)
def test_the_line_says_whether_the_keyed_number_is_ours(app, simulator, retired, keyed, words):
    # A number of no country (a fiction range): the caller chooses English at the menu first.
    _, heard = ring_the_line(app, simulator, "+447700900123", ["1", keyed, "2"])

    assert any("We will never ask you for your password" in text for text in heard)
    assert any(words in text for text in heard), heard
    assert any("We have not called the number you are calling from" in text for text in heard)
    assert heard[-1].startswith("If you are in doubt about a call")


def test_a_local_number_is_read_in_the_callers_country(app, simulator):
    _, heard = ring_the_line(app, simulator, "+393337654321", ["0612345678#", "2"])

    assert any("3 9 0 6 1 2 3 4 5 6 7 8" in text for text in heard)  # read as +39 06...


def test_we_did_not_call_you_files_a_phone_report(app, api, simulator):
    call, heard = ring_the_line(app, simulator, "+48601234567", ["48221234567#", "1", "1"])

    with app.app_context():
        report = db.session.scalars(sa.select(ScamReport)).one()
        assert (report.channel, report.reported_number, report.reporter_phone) == (
            ReportChannel.PHONE,
            "+48221234567",
            "+48601234567",
        )
        assert report.asked_for == ["password", "pin", "sms_code"]
        assert report.call_id == call.id and report.locale == "pl"
        spelled = " ".join(ch for ch in report.reference if ch.isalnum())
    assert spelled in heard[-2]  # the reference, one character at a time
    assert heard[-2].startswith("Dziękujemy")  # the caller's language (Poland)
    assert heard[-1] == "Aby usłyszeć numer ponownie, prosimy nacisnąć gwiazdkę."
    assert call.outcome == "reported"
    queue = api.get("/api/v1/scam-reports?status=new").get_json()
    assert [r["channel"] for r in queue] == ["phone"]


def test_yes_we_called_you_says_nothing_of_the_matter(app, simulator, customer):
    place(app, simulator, keys=["", "", ""])  # an outbound call to the customer, not verified

    call, heard = ring_the_line(app, simulator, "+393331234567", ["14155550100#"])

    assert any("nelle ultime 24 ore abbiamo chiamato" in text for text in heard), heard
    assert not any(word in text for text in heard for word in ("Electro Shop", "249", "pagamento"))
    assert call.outcome == "informed"


def test_a_withheld_number_cannot_be_matched(app, simulator):
    _, heard = ring_the_line(app, simulator, "anonymous", ["1", "14155550100#", "2"])

    assert any("We have not called the number you are calling from" in text for text in heard)


# ----- taking a waiting callback: a caller ID proves nothing, a code from the app does -----

CUSTOMER_PHONE = "+393331234567"
PREVIOUS_PHONE = "+393337654321"  # the number an account change moved away from
#: Each matter as its event, the number our callback calls, and what of it must never be heard
#: before a right code: amount, merchant, date and time, kind of change, the customer's name.
MATTERS = {
    "transaction": (
        {
            "amount": "900",
            "currency": "EUR",
            "merchant": "Electro Shop",
            "country": "PL",
            "device": "p9",
            "beneficiary": "b7",
        },
        CUSTOMER_PHONE,
        ["900", "Electro Shop", "23 novembre", "11:00", "pagamento", "Giulia"],
    ),
    "withdrawal_request": (
        {"amount": "2500", "currency": "EUR", "account_has_open_problems": True},
        CUSTOMER_PHONE,
        ["2500", "2.500", "prelievo", "23 novembre", "11:00", "Giulia"],
    ),
    "registration": ({}, CUSTOMER_PHONE, ["nuovo conto", "aperto a Suo nome", "Giulia"]),
    "account_change": (
        {"field": "phone", "previous_phone": PREVIOUS_PHONE},
        PREVIOUS_PHONE,
        ["recapiti", "modifica", "23 novembre", "11:00", "Giulia"],
    ),
}
ASKED_FOR_THE_CODE = "Per confermare che è Lei, apra l'app"
NOT_CONFIRMED = "Non siamo riusciti a confermare che è Lei"
LOCKED = "abbiamo sospeso la verifica dei codici"


@pytest.fixture
def codes(app, simulator):
    """The product's code checker (the customer's app codes and authenticator), not a stand-in."""
    app.extensions.pop("code_checker")


def callback_about(api, kind: str, event_id: str = "e-1") -> str:
    data, _, _ = MATTERS[kind]
    for i in range(6 if kind == "transaction" else 0):  # ordinary payments: this one stands out
        api.post(
            "/api/v1/events",
            json={
                "id": f"h-{i}",
                "type": "transaction",
                "customer_external_id": "cust-it",
                "occurred_at": (MORNING - timedelta(days=i + 1)).isoformat(),
                "data": {"amount": "40", "country": "IT", "device": "p1", "beneficiary": "b1"},
            },
        )
    decision = api.post(
        "/api/v1/events",
        json={
            "id": event_id,
            "type": kind,
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
            "data": data,
        },
    ).get_json()
    assert decision["callback_id"], decision
    return decision["callback_id"]


def app_code(api, customer, **body) -> str:
    return api.post(f"/api/v1/customers/{customer['id']}/app-codes", json=body).get_json()["code"]


def untouched(app, api, callback_id: str, kind: str) -> None:
    """Still ours to place: queued, no attempt, no outcome; a held withdrawal still held."""
    callback = callback_of(app, callback_id)
    assert (callback.status, callback.attempts, callback.outcome) == (
        CallbackStatus.QUEUED,
        0,
        None,
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CallbackAttempt)) == 0
    if kind == "withdrawal_request":
        assert api.get("/api/v1/withdrawals/e-1").get_json()["status"] == "verifying"


def we_call_and_the_customer_confirms(app, api, simulator, dispatcher, customer, number, cb_id):
    """Our dialer still places the callback; the real customer verifies and confirms."""
    simulator.expect(number, CalleeScript(keys=[app_code(api, customer, callback_id=cb_id), "1"]))
    with app.app_context():
        assert dispatcher().dispatch() == 1
    assert list(simulator.calls.values())[-1].to == number
    assert callback_of(app, cb_id).outcome.value == "confirmed"


def failures(api, customer) -> int:
    return api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()["failures"]


@pytest.mark.usefixtures("codes")
@pytest.mark.parametrize("kind", sorted(MATTERS))
@pytest.mark.parametrize(
    ("typed", "counted"),
    [
        (["111111", "222222", "333333"], 3),  # wrong codes: they count toward the lock
        (["", "", ""], 0),  # nothing typed
    ],
    ids=["wrong-codes", "no-keys"],
)
def test_a_faked_caller_id_hears_nothing_of_the_matter_and_cannot_end_our_callback(
    app, api, simulator, dispatcher, customer, kind, typed, counted
):
    callback_id = callback_about(api, kind)
    _, number, secrets_ = MATTERS[kind]

    _, heard = ring_the_line(app, simulator, number, ["#", "1", *typed])

    assert not [word for word in secrets_ if any(word in text for text in heard)], heard
    assert any("in merito al Suo conto" in text for text in heard)
    assert any(ASKED_FOR_THE_CODE in text for text in heard)
    assert heard[-1].startswith(NOT_CONFIRMED)
    untouched(app, api, callback_id, kind)
    assert failures(api, customer) == counted

    we_call_and_the_customer_confirms(
        app, api, simulator, dispatcher, customer, number, callback_id
    )
    if kind == "withdrawal_request":
        assert api.get("/api/v1/withdrawals/e-1").get_json()["status"] == "authorized"


def answer_the_line(app, simulator, caller: str) -> tuple[SimulatedCall, str | None]:
    """Ring the line step by step (as a person would): answered, waiting at the first question."""
    with app.app_context():
        urls = CallUrls(app)
        call = SimulatedCall.inbound(
            from_=caller,
            to=HOTLINE,
            url=urls.inbound(),
            status_callback=urls.status(),
            script=CalleeScript(),
        )
    simulator.calls[call.sid] = call
    return call, simulator.answer(call)


def heard_in(call: SimulatedCall) -> list[str]:
    return [line.text for line in call.lines if line.who == "call"]


@pytest.mark.usefixtures("codes")
def test_hanging_up_at_the_code_again_and_again_leaves_the_callback_queued_and_held(
    app, api, simulator, dispatcher, customer
):
    callback_id = callback_about(api, "withdrawal_request")

    for _ in range(3):  # one spoofer, over and over
        call, pending = answer_the_line(app, simulator, CUSTOMER_PHONE)
        pending = simulator.press(call, pending, "#")
        pending = simulator.press(call, pending, "1")
        assert pending is not None and ASKED_FOR_THE_CODE in heard_in(call)[-1]
        simulator.finish(call)  # hangs up while asked for the code

        untouched(app, api, callback_id, "withdrawal_request")

    we_call_and_the_customer_confirms(
        app, api, simulator, dispatcher, customer, CUSTOMER_PHONE, callback_id
    )
    assert api.get("/api/v1/withdrawals/e-1").get_json()["status"] == "authorized"


@pytest.mark.usefixtures("codes")
def test_wrong_codes_on_the_line_lock_the_customer_but_never_end_our_callback(
    app, api, simulator, dispatcher, customer
):
    totp = enrol(app, customer["id"])
    callback_id = callback_about(api, "withdrawal_request")

    heard = []
    for _ in range(4):  # 3 + 3 + 3 + 1: the tenth wrong code locks the customer
        _, heard = ring_the_line(
            app, simulator, CUSTOMER_PHONE, ["#", "1", "111111", "222222", "333333"]
        )

    assert LOCKED in heard[-1]
    state = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert (state["locked"], state["failures"]) == (True, 10)
    untouched(app, api, callback_id, "withdrawal_request")

    # Our own call still goes out; it meets the lock (the customer must clear it in the app).
    simulator.expect(CUSTOMER_PHONE, CalleeScript(keys=[totp.at(MORNING), "1"]))
    with app.app_context():
        assert dispatcher().dispatch() == 1
    assert callback_of(app, callback_id).outcome.value == "locked"


@pytest.mark.usefixtures("codes")
@pytest.mark.parametrize("state", ["queued", "claimed", "in_call", "ended"])
def test_a_locked_customer_hears_the_same_words_whatever_became_of_the_callback(
    app, api, simulator, customer, state
):
    from app.verification.checker import keyring_for, policy_for
    from app.verification.service import check_code

    callback_id = callback_about(api, "transaction")
    with app.app_context():  # ten wrong codes elsewhere: locked
        for _ in range(10):
            check_code(
                db.session,
                uuid.UUID(customer["id"]),
                "000000",
                keyring=keyring_for(app),
                now=MORNING,
                actor=Actor("test"),
                policy=policy_for(app),
            )
        db.session.commit()

    call, pending = answer_the_line(app, simulator, CUSTOMER_PHONE)
    pending = simulator.press(call, pending, "#")  # now at "we have been trying to reach you"
    if state != "queued":  # our dialer took it, or it ended, while the menu played
        with app.app_context():
            callback = db.session.get_one(Callback, uuid.UUID(callback_id))
            callback.status = {
                "claimed": CallbackStatus.CLAIMED,
                "in_call": CallbackStatus.IN_CALL,
                "ended": CallbackStatus.DONE,
            }[state]
            db.session.commit()
    before = len(heard_in(call))
    assert simulator.press(call, pending, "1") is None
    simulator.finish(call)

    assert heard_in(call)[before:] == [
        "Per la Sua sicurezza, dopo troppi codici errati abbiamo sospeso la verifica dei codici "
        "per telefono. Apra l'app di Demo Bank, o ci richiami al numero indicato sul nostro sito "
        "o sulla Sua carta. Arrivederci."
    ]
    callback = callback_of(app, callback_id)
    assert callback.outcome is None and callback.attempts == 0  # never decided on the line


@pytest.mark.usefixtures("codes")
@pytest.mark.parametrize("code_for", ["the-callback", "calling-us", "authenticator"])
def test_a_right_code_takes_the_waiting_callback_and_only_then_the_matter_is_said(
    app, api, simulator, customer, clock, code_for
):
    callback_id = callback_about(api, "withdrawal_request")
    if code_for == "authenticator":
        code = enrol(app, customer["id"]).at(clock())
    elif code_for == "the-callback":
        code = app_code(api, customer, callback_id=callback_id)
    else:  # what the app shows when the customer calls us
        code = app_code(api, customer, purpose="inbound_call")

    call, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "1", code, "1"])

    asked = next(i for i, text in enumerate(heard) if ASKED_FOR_THE_CODE in text)
    told = next(i for i, text in enumerate(heard) if "richiesta di prelievo di 2.500,00 €" in text)
    assert asked < told
    assert sum(ASKED_FOR_THE_CODE in text for text in heard) == 1  # not asked twice
    finished = callback_of(app, callback_id)
    assert (finished.status.value, finished.outcome.value) == ("done", "confirmed")
    assert api.get("/api/v1/withdrawals/e-1").get_json()["status"] == "authorized"
    with app.app_context():
        attempt = db.session.scalars(sa.select(CallbackAttempt)).one()
        assert (attempt.call_id, attempt.status, attempt.worker) == (
            call.id,
            AttemptStatus.ENDED,
            "inbound-line",
        )
        assert db.session.get_one(Call, call.id).flow == "withdrawal_check"
        assert db.session.get_one(Callback, finished.id).attempts == 1


@pytest.mark.usefixtures("codes")
def test_a_taken_callback_is_not_dialed_by_us_nor_taken_by_a_second_call(
    app, api, simulator, dispatcher, customer, clock
):
    totp = enrol(app, customer["id"])
    callback_id = callback_about(api, "registration")
    first, pending = answer_the_line(app, simulator, CUSTOMER_PHONE)
    for keys in ("#", "1", totp.at(clock())):
        pending = simulator.press(first, pending, keys)
    assert "nuovo conto aperto a Suo nome" in " ".join(heard_in(first))  # taken: at the question

    with app.app_context():
        assert dispatcher().dispatch() == 0  # our dialer leaves it alone
    _, heard = ring_the_line(
        app, simulator, CUSTOMER_PHONE, ["#", "1", app_code(api, customer, purpose="inbound_call")]
    )
    assert heard[-1].startswith("La stiamo chiamando proprio adesso")
    assert not any("nuovo conto" in text for text in heard)

    simulator.press(first, pending, "1")
    simulator.finish(first)
    finished = callback_of(app, callback_id)
    assert (finished.outcome.value, finished.attempts) == ("confirmed", 1)


def test_a_callback_being_dialed_now_is_not_taken_twice(app, api, simulator, customer):
    callback_id = callback_about(api, "registration", "reg-2")
    with app.app_context():  # a worker claims it between the menu and the key press
        db.session.get_one(Callback, uuid.UUID(callback_id)).status = CallbackStatus.CLAIMED
        db.session.commit()

    _, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "1", VALID_CODE])

    assert not any("nuovo conto" in text for text in heard)
    assert heard[-1].startswith("La stiamo chiamando proprio adesso")
    assert callback_of(app, callback_id).status.value == "claimed"  # still the worker's


def test_the_callback_is_never_taken_by_a_call_that_typed_no_right_code(app, api, customer):
    from app.authenticity.line import continue_callback
    from app.calls.models import CallDirection

    callback_id = callback_about(api, "registration")
    with app.app_context():
        call = Call(
            direction=CallDirection.INBOUND,
            from_number=CUSTOMER_PHONE,
            to_number=HOTLINE,
            customer_id=uuid.UUID(customer["id"]),
            flow="verify_caller_line",
            flow_version=3,
            locale="it",
            variables={"pending_callback_id": callback_id, "verifying_callback_id": callback_id},
        )
        db.session.add(call)
        db.session.flush()

        assert continue_callback(db.session, call, {}).result == "unavailable"
        call.variables = {**call.variables, "verified": True}
        call.from_number = "+393339999999"  # verified, but another number than the callback's
        assert continue_callback(db.session, call, {}).result == "unavailable"
        db.session.commit()
    untouched(app, api, callback_id, "registration")


@pytest.mark.usefixtures("codes")
def test_a_caller_who_verified_on_the_line_reaches_a_person_verified(app, api, simulator, customer):
    # The hotline's own "press 0" is unverified; a right code takes the callback, and its
    # question's "press 0" reaches the callback's team as verified.
    from tests.ivr.test_queue import FakeQueue

    queue = app.extensions["queueing"] = FakeQueue()
    callback_about(api, "withdrawal_request")
    code = app_code(api, customer, purpose="inbound_call")

    call, heard = ring_the_line(app, simulator, CUSTOMER_PHONE, ["#", "1", code, "0"])

    [request] = queue.requests
    assert (request.skill, request.flow, request.call_id) == (
        "withdrawals",
        "withdrawal_check",
        call.id,
    )
    assert request.verified_by == "app_code" and request.verified_at is not None
    assert code not in " ".join(queue.received)
    assert "Resti in linea: La stiamo mettendo in contatto con il nostro team prelievi." in heard

"""The softphone: a call nobody scripted rings on the page, and a person plays it with keys."""

from __future__ import annotations

import uuid

import pytest

from app.audit.service import Actor
from app.calls.models import Call
from app.calls.service import CallUrls, start_outbound_call
from app.carriers.service import telephony_for
from app.carriers.simulator import WsgiTransport
from app.customers.service import find_by_external_id
from app.extensions import db
from app.flows.registry import flows
from tests.telephony_fixtures import VALID_CODE, accept_valid_code

pytestmark = pytest.mark.usefixtures("lines", "customer")


@pytest.fixture
def ringing(app):
    """A transaction alert placed on the simulator with nobody scripted to answer it."""
    app.extensions["code_checker"] = accept_valid_code
    carrier = telephony_for(app)
    carrier.transport = WsgiTransport(app)  # in-process instead of HTTP to PUBLIC_BASE_URL
    carrier.synchronous = True
    with app.app_context():
        call = start_outbound_call(
            db.session,
            telephony=carrier,
            urls=CallUrls(app),
            customer=find_by_external_id(db.session, "cust-it"),
            flow=flows()["transaction_alert"],
            actor=Actor("test"),
            variables={
                "amount": "80",
                "currency": "EUR",
                "merchant": "Caffè Roma",
                "time": "2026-11-23T09:30:00+00:00",
            },
        )
        return call.id, call.sid


def post(client, path, body=None):
    return client.post(f"/simulator/phone{path}", json=body or {})


def test_a_person_takes_the_call_and_confirms_with_keys(client, app, ringing):
    call_id, sid = ringing

    listed = client.get("/simulator/phone/calls").get_json()["calls"]
    answered = post(client, f"/calls/{sid}/answer").get_json()
    after_code = post(client, f"/calls/{sid}/keys", {"keys": VALID_CODE}).get_json()
    asked = post(client, f"/calls/{sid}/keys", {"keys": "1"}).get_json()
    ended = post(client, f"/calls/{sid}/keys", {"keys": "5"}).get_json()  # the satisfaction

    assert [(c["sid"], c["state"]) for c in listed] == [(sid, "ringing")]
    assert answered["state"] == "in-progress" and answered["waiting_for_keys"]
    assert "Caffè Roma" in " ".join(line["text"] for line in answered["lines"])
    assert after_code["lines"][-1]["text"].startswith("Se ha fatto Lei questo pagamento")
    assert asked["lines"][-2]["text"].startswith("Grazie, è confermato")
    assert "come valuta questa chiamata?" in asked["lines"][-1]["text"]
    assert ended["state"] == "ended"
    assert ended["lines"][-2]["text"] == "Grazie per la Sua risposta. Arrivederci."
    assert client.get("/simulator/phone/calls").get_json()["calls"] == []
    with app.app_context():
        call = db.session.get_one(Call, call_id)
        assert call.outcome == "confirmed"
        assert [e.status.value for e in call.events] == [
            "initiated",
            "ringing",
            "in-progress",
            "completed",
        ]


def test_declining_reports_busy(client, app, ringing):
    call_id, sid = ringing

    declined = post(client, f"/calls/{sid}/decline").get_json()

    assert declined["state"] == "ended"
    with app.app_context():
        call = db.session.get_one(Call, call_id)
        assert (call.status.value, call.outcome) == ("busy", "unreachable")


def test_hanging_up_mid_call_completes_it(client, app, ringing):
    call_id, sid = ringing
    post(client, f"/calls/{sid}/answer")

    hung = post(client, f"/calls/{sid}/hangup").get_json()

    assert hung["state"] == "ended"
    with app.app_context():
        assert db.session.get_one(Call, call_id).status.value == "completed"


def test_bad_keys_and_wrong_states_are_refused(client, ringing):
    _, sid = ringing

    too_early = post(client, f"/calls/{sid}/keys", {"keys": "1"})
    post(client, f"/calls/{sid}/answer")
    letters = post(client, f"/calls/{sid}/keys", {"keys": "12ab"})
    not_text = post(client, f"/calls/{sid}/keys", {"keys": 12})
    unknown = post(client, "/calls/CA000/answer")
    form = client.post(f"/simulator/phone/calls/{sid}/keys", data={"keys": "1"})
    unprintable = post(client, "/calls/CA%00/answer")

    assert too_early.status_code == 409
    assert letters.status_code == 409 and letters.get_json()["error"]["field"] == "keys"
    assert not_text.status_code == 422
    assert unknown.status_code == 404
    assert form.status_code == 422
    assert unprintable.status_code == 422 and unprintable.get_json()["error"]["field"] == "sid"


def test_a_person_can_ring_one_of_our_lines(client, app):
    started = post(client, "/dial", {"from": "+48 601 234 567", "to": "+14155550102"}).get_json()

    assert started["state"] == "in-progress"
    assert started["lines"][1]["text"].startswith("Tu linia reklamacji")
    post(client, f"/calls/{started['sid']}/keys", {"keys": "1"})  # make a complaint
    chosen = post(client, f"/calls/{started['sid']}/keys", {"keys": "2"}).get_json()
    # The complaint's reference was read out: the caller may press * to hear it again, and the
    # call ends with the satisfaction question.
    assert chosen["lines"][-1]["text"].startswith("Aby usłyszeć numer ponownie, prosimy nacisnąć")
    assert "jak oceniają Państwo tę rozmowę?" in chosen["lines"][-1]["text"]
    chosen = post(client, f"/calls/{started['sid']}/keys", {"keys": "4"}).get_json()
    assert chosen["state"] == "ended"
    with app.app_context():
        call = db.session.query(Call).filter_by(sid=started["sid"]).one()
        assert (call.variables["category_key"], call.outcome) == ("2", "recorded")


def test_the_softphone_does_not_exist_in_production(database_url):
    from tests.conftest import make_app

    app = make_app(
        database_url,
        APP_ENV="production",
        SECRET_KEY="x" * 40,
        VERIFICATION_KEYS=("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",),
    )

    assert app.test_client().get("/simulator/phone").status_code == 404


def test_the_code_typed_at_the_softphone_is_not_kept(client, app, ringing):
    import json

    import sqlalchemy as sa

    from app.carriers.models import SimulatorCall

    _, sid = ringing
    post(client, f"/calls/{sid}/answer")
    shown = post(client, f"/calls/{sid}/keys", {"keys": VALID_CODE}).get_json()

    assert {"who": "callee", "text": "keys in 6 digits"} in shown["lines"]
    with app.app_context():
        stored = db.session.scalars(sa.select(SimulatorCall.lines)).all()
    assert VALID_CODE not in json.dumps(stored)


def test_another_worker_can_find_the_simulated_calls_of_one_that_died(app, ringing):
    from datetime import timedelta

    from app.carriers.service import _softphone_ring_lookup
    from app.carriers.simulator import SimulatorTelephony
    from app.database import utcnow

    call_id, sid = ringing
    # A new simulator, as in a second worker process: nothing of the first one's memory.
    other = SimulatorTelephony(
        transport=WsgiTransport(app), auth_token="x", ring_lookup=_softphone_ring_lookup(app)
    )
    earlier, later = utcnow() - timedelta(minutes=5), utcnow() + timedelta(minutes=5)

    # Found by our call's own id (in its status callback URL), never by its number alone.
    assert other.find_call(to="+393331234567", since=earlier, key=str(call_id)) == sid
    assert other.find_call(to="+393331234567", since=earlier, key=str(uuid.uuid4())) is None
    assert other.find_call(to="+393331234567", since=later, key=str(call_id)) is None


def test_the_simulated_app_shows_a_code_that_verifies_the_call(client, app, ringing):
    app.extensions.pop("code_checker")  # the product's own checker: app codes, authenticators
    call_id, sid = ringing
    post(client, f"/calls/{sid}/answer")

    shown = post(client, f"/calls/{sid}/app-code").get_json()
    ended = [
        post(client, f"/calls/{sid}/keys", {"keys": k}).get_json()
        for k in (shown["code"], "1", "4")  # the last: how satisfied
    ]

    assert ended[-1]["state"] == "ended"
    with app.app_context():
        call = db.session.get_one(Call, call_id)
        assert call.outcome == "confirmed"
        assert shown["reference"] == call.reference
    assert post(client, "/calls/CAnothing/app-code").status_code == 409


def test_the_simulated_app_shows_a_code_for_a_callback_taken_on_the_hotline(
    client, app, api, customer, clock
):
    """The customer rings the "is this call from us?" line and takes the callback that waits for
    them there: the code the simulated app shows is the one that call asks for."""
    from tests.engine_fixtures import MORNING, callback_of

    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-softphone",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()["callback_id"]
    started = post(client, "/dial", {"from": customer["phone"], "to": "+14155550101"}).get_json()
    sid = started["sid"]
    post(client, f"/calls/{sid}/keys", {"keys": "#"})  # no number to check
    taken = post(client, f"/calls/{sid}/keys", {"keys": "1"}).get_json()  # take the callback now
    assert taken["state"] == "in-progress" and taken["waiting_for_keys"]

    shown = post(client, f"/calls/{sid}/app-code")
    after_code = post(client, f"/calls/{sid}/keys", {"keys": shown.get_json()["code"]}).get_json()
    post(client, f"/calls/{sid}/keys", {"keys": "1"})  # yes, it was me
    ended = post(client, f"/calls/{sid}/keys", {"keys": "5"}).get_json()  # how satisfied

    assert shown.status_code == 200
    assert not any("codice non è corretto" in line["text"] for line in after_code["lines"])
    assert ended["state"] == "ended"
    finished = callback_of(app, callback_id)
    assert (finished.status.value, finished.outcome.value) == ("done", "confirmed")
    with app.app_context():
        call = db.session.query(Call).filter_by(sid=sid).one()
        assert (call.callback_id, call.outcome) == (finished.id, "confirmed")
        assert shown.get_json()["reference"] == call.reference


@pytest.mark.parametrize(
    ("direction", "with_callback"),
    [("outbound", True), ("outbound", False), ("inbound", True), ("inbound", False)],
)
def test_the_code_minted_for_a_call_is_the_code_its_checker_accepts(
    app, api, customer, clock, direction, with_callback
):
    """The softphone's binding (app_code_binding) and the checker agree on every kind of call."""
    import uuid
    from datetime import timedelta

    from app.audit.service import Actor
    from app.calls.models import CallDirection
    from app.flows.engine import CodeResult
    from app.verification.checker import CallCodeChecker, app_code_binding, keyring_for
    from app.verification.service import issue_app_code
    from tests.engine_fixtures import MORNING

    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-binding",
            "type": "registration",
            "customer_external_id": "cust-it",
            "occurred_at": MORNING.isoformat(),
        },
    ).get_json()["callback_id"]
    with app.app_context():
        call = Call(
            id=uuid.uuid4(),
            sid="CA" + uuid.uuid4().hex,
            flow="registration_check",
            flow_version=1,
            locale="it",
            direction=CallDirection(direction),
            from_number="+14155550100" if direction == "outbound" else customer["phone"],
            to_number=customer["phone"] if direction == "outbound" else "+14155550101",
            customer_id=uuid.UUID(customer["id"]),
            callback_id=uuid.UUID(callback_id) if with_callback else None,
            variables={},
        )
        db.session.add(call)
        purpose, bound_to = app_code_binding(call)
        code, _ = issue_app_code(
            db.session,
            call.customer_id,
            keyring=keyring_for(app),
            now=clock(),
            actor=Actor("test"),
            ttl=timedelta(minutes=5),
            digits=6,
            purpose=purpose,
            callback_id=bound_to,
        )
        db.session.commit()

        assert CallCodeChecker(app)(db.session, call, code) is CodeResult.VERIFIED


def test_a_person_who_presses_0_waits_for_a_person_with_the_keypad_off(client, app, ringing):
    from tests.ivr.test_queue import FakeQueue

    app.extensions["queueing"] = FakeQueue(ahead=1)
    call_id, sid = ringing
    post(client, f"/calls/{sid}/answer")
    post(client, f"/calls/{sid}/keys", {"keys": VALID_CODE})

    waiting = post(client, f"/calls/{sid}/keys", {"keys": "0"}).get_json()

    assert waiting["state"] == "in-progress"
    assert waiting["waiting_for_an_agent"] and not waiting["waiting_for_keys"]
    assert waiting["lines"][-2]["text"] == "Lei è il numero 2 in coda."
    ended = post(client, f"/calls/{sid}/hangup").get_json()
    assert ended["state"] == "ended"
    assert app.extensions["queueing"].gone == [call_id]


def test_a_person_answers_a_menu_with_words(client, app, ringing):
    _, sid = ringing

    post(client, f"/calls/{sid}/answer")
    unheard = post(client, f"/calls/{sid}/say", {"words": "nine zero"}).get_json()
    post(client, f"/calls/{sid}/keys", {"keys": VALID_CODE})
    keys = post(client, f"/calls/{sid}/say", {"words": "12"})
    empty = post(client, f"/calls/{sid}/say", {"words": " "})
    answered = post(client, f"/calls/{sid}/say", {"words": "sì"}).get_json()
    ended = post(client, f"/calls/{sid}/say", {"words": "cinque"}).get_json()  # satisfaction: 5

    assert {"who": "callee", "text": 'says "nine zero" (only keys are heard)'} in unheard["lines"]
    assert {"who": "callee", "text": 'says "sì"'} in answered["lines"]
    assert {"who": "callee", "text": 'says "cinque"'} in ended["lines"]
    assert ended["state"] == "ended"
    with app.app_context():
        assert db.session.get(Call, ringing[0]).outcome == "confirmed"
    assert keys.status_code == 409 and keys.get_json()["error"]["field"] == "words"
    assert empty.status_code == 422 and empty.get_json()["error"]["field"] == "words"

"""A voice that can be repeated and answered: * says the question (and a reference) again, menus
hear words in the caller's language, and an inbound caller whose number does not tell their
language chooses it first (issue 19). Whole calls, through the simulator."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from lxml import etree

from app.calls.models import Call, CallStep
from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript, SimulatedCall
from app.extensions import db
from tests.ivr.test_webhooks import PUBLIC, recorder, replay, what_changed  # noqa: F401
from tests.telephony_fixtures import VALID_CODE, place

pytestmark = pytest.mark.usefixtures("lines", "customer")

HOTLINE = "+14155550101"  # "is this call from us?"
COMPLAINTS = "+14155550102"
LANGUAGE_MENU = [
    "For English, press 1.",
    "Per l'italiano, prema 2.",
    "Po polsku prosimy nacisnąć 3.",
    "中文请按4。",
]


@pytest.fixture
def english_customer(api):
    response = api.post(
        "/api/v1/customers",
        json={"external_id": "cust-en", "phone": "+44 7911 123456", "name": "Ann Smith"},
    )
    assert response.status_code == 201, response.get_json()


def ring(app, simulator, caller: str, keys: list[str], line: str = COMPLAINTS):
    """An inbound call to one of our lines; the call, what the caller heard, what they did."""
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=caller,
            to=line,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys),
        )
        call = db.session.scalar(sa.select(Call).filter_by(sid=simulated.sid))
        db.session.expunge(call)
    heard = [line_.text for line_ in simulated.lines if line_.who == "call"]
    did = [line_.text for line_ in simulated.lines if line_.who == "callee"]
    return call, heard, did


def gathers_of(app, call_id) -> list[etree._Element]:
    """Every <Gather> the app answered during the call, in order."""
    with app.app_context():
        documents = db.session.scalars(
            sa.select(CallStep.twiml).where(CallStep.call_id == call_id).order_by(CallStep.id)
        ).all()
    return [g for d in documents if d for g in etree.fromstring(d.encode()).iter("Gather")]


# ----- * says it again -----


def test_star_repeats_the_reference_and_the_code_question_without_using_a_try(app, simulator):
    # Three stars at the code question (which allows three tries), then the right code.
    placed = place(app, simulator, keys=["*", "*", "*", VALID_CODE, "1"])

    reference = [t for t in placed.heard if t.startswith("Il riferimento di questa chiamata")]
    asked = [t for t in placed.heard if t.startswith("Per confermare che è Lei")]
    assert len(reference) == 4 and len(asked) == 4  # once, and again after each star
    assert not any(t.startswith("Il codice non è corretto") for t in placed.heard)
    assert placed.call.outcome == "confirmed"
    assert any(t.text == "* (again)" and t.speaker == "caller" for t in placed.call.turns)


def test_star_repeats_a_menu_in_english_and_a_code_never_contains_it(
    app, simulator, english_customer
):
    placed = place(app, simulator, external_id="cust-en", keys=[VALID_CODE, "*", "*", "2"])

    menu = [t for t in placed.heard if t.startswith("If you made this payment, press 1.")]
    assert len(menu) == 3
    assert "Sorry, that was not valid." not in placed.heard
    assert placed.call.outcome == "denied"


def test_a_code_with_a_star_in_it_is_not_taken_as_a_code(app, simulator):
    placed = place(app, simulator, keys=["9081*72", VALID_CODE, "1"])

    assert sum(t.startswith("Per confermare che è Lei") for t in placed.heard) == 2
    assert placed.call.outcome == "confirmed"


def test_the_report_reference_at_the_end_can_be_heard_again(app, simulator):
    call, heard, _ = ring(app, simulator, "+48601234567", ["48221234567#", "1", "1", "*"], HOTLINE)

    thanks = [t for t in heard if t.startswith("Dziękujemy. Zgłoszenie ma numer")]
    assert len(thanks) == 2 and thanks[0] == thanks[1]  # the reference, read again
    assert heard[-1] == "Aby usłyszeć numer ponownie, prosimy nacisnąć gwiazdkę."
    assert call.outcome == "reported"


# ----- words instead of keys -----


def test_a_menu_listens_for_words_in_the_callers_language_and_a_code_does_not(app, simulator):
    placed = place(app, simulator, keys=[VALID_CODE, "sì"])

    assert placed.call.outcome == "confirmed"
    assert 'says "sì"' in placed.pressed
    code, menu, *_ = gathers_of(app, placed.call.id)  # then the satisfaction question
    assert code.get("input") is None  # keypad only: a code is never said aloud
    assert (menu.get("input"), menu.get("language")) == ("dtmf speech", "it-IT")
    assert "sì" in menu.get("hints").split(", ") and "operatore" in menu.get("hints")


def test_a_spoken_digit_chooses_its_key(app, simulator, english_customer):
    placed = place(app, simulator, external_id="cust-en", keys=[VALID_CODE, "Two."])

    assert placed.call.outcome == "denied"
    assert any(t.text == '(said) "Two.": 2' for t in placed.call.turns)


@pytest.mark.parametrize("words", ["banana", "yes, no"])
def test_words_that_match_no_choice_or_two_are_not_valid(app, simulator, english_customer, words):
    placed = place(app, simulator, external_id="cust-en", keys=[VALID_CODE, words, "1"])

    assert "Sorry, that was not valid." in placed.heard
    assert placed.call.outcome == "confirmed"  # asked again, and answered with a key


def test_chinese_no_is_not_heard_as_yes(app, simulator, api):
    api.post(
        "/api/v1/customers",
        json={"external_id": "cust-zh", "phone": "+86 139 1234 5678", "name": "王芳"},
    )
    placed = place(app, simulator, external_id="cust-zh", keys=[VALID_CODE, "不是我"])

    assert placed.call.outcome == "denied"


def test_words_typed_at_a_code_question_are_not_heard(app, simulator):
    placed = place(app, simulator, keys=["nine zero eight", VALID_CODE, "1"])

    assert 'says "nine zero eight" (only keys are heard)' in placed.pressed
    assert placed.call.outcome == "confirmed"


# ----- the language menu of inbound lines -----


def test_a_caller_whose_country_we_do_not_speak_chooses_polish_by_key(app, simulator):
    call, heard, _ = ring(app, simulator, "+33612345678", ["3", "2", "nope"])

    assert heard[:4] == LANGUAGE_MENU  # each line in its own language
    assert call.locale == "pl"
    assert any("reklamacji" in t for t in heard[4:])  # the line goes on in Polish


def test_the_language_menu_hears_the_name_of_a_language_and_repeats_on_star(app, simulator):
    call, heard, _ = ring(app, simulator, "anonymous", ["*", "italiano"])

    assert heard[:8] == LANGUAGE_MENU * 2
    assert call.locale == "it"
    assert any("reclam" in t for t in heard[8:])


def test_a_settled_country_skips_the_menu(app, simulator):
    call, heard, _ = ring(app, simulator, "+48601234567", [])

    assert LANGUAGE_MENU[0] not in heard
    assert call.locale == "pl"


def test_a_known_customer_is_greeted_in_their_own_language(app, simulator, api):
    api.post(
        "/api/v1/customers",
        json={
            "external_id": "cust-fr",
            "phone": "+33 6 12 34 56 78",
            "name": "Anna Nowak",
            "locale": "pl",
        },
    )
    call, heard, _ = ring(app, simulator, "+33612345678", [])

    assert LANGUAGE_MENU[0] not in heard
    assert call.locale == "pl"


def test_no_choice_goes_on_in_english(app, simulator):
    call, heard, _ = ring(app, simulator, "anonymous", ["", "", "", "1"])

    assert heard[:12] == LANGUAGE_MENU * 3
    assert call.locale == "en"
    assert any("complaint" in t for t in heard[12:])


def test_a_spoken_answer_sent_again_gets_the_same_answer_and_needs_the_signature(
    app,
    client,
    simulator,
    recorder,  # noqa: F811
):
    with app.app_context():
        urls = CallUrls(app)
        call = SimulatedCall.inbound(
            from_="+33612345678",
            to=COMPLAINTS,
            url=urls.inbound(),
            status_callback=urls.status(),
            script=CalleeScript(),
        )
    simulator.calls[call.sid] = call
    pending = simulator.answer(call)
    simulator.press(call, pending, "po polsku")
    said = recorder.last("/nodes/_language/input")
    before = what_changed(app)

    again = [replay(client, said) for _ in range(2)]
    forged = client.post(said.url.removeprefix(PUBLIC), data={**said.params})

    assert said.params["SpeechResult"] == "po polsku"
    assert [a.get_data(as_text=True) for a in again] == [said.body] * 2
    assert "linia reklamacji" in said.body
    assert what_changed(app) == before
    assert forged.status_code == 403


# ----- the walk -----


def test_walk_answers_with_words(app):
    result = app.test_cli_runner().invoke(
        args=["flows", "walk", "transaction_alert", "--digits", "*,123456,yes"]
    )

    assert result.exit_code == 0, result.output
    assert '  CALLEE says "yes"' in result.output.splitlines()
    assert "outcome: confirmed" in result.output

"""A complaint handled on the phone gets the 1-5 question by call: the complaints line ends a call
that files or checks a complaint with it, and keeps the answer once per call."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.callbacks.models import Satisfaction
from app.calls.service import CallUrls
from app.carriers.signatures import signature_for, signing_token
from app.complaints import references
from app.complaints.models import Complaint
from app.extensions import db
from app.flows.definition import load_flows
from tests.complaints.test_page_and_line import ring
from tests.flows.test_registered_actions import registered_actions

pytestmark = pytest.mark.usefixtures("lines", "clock")


def answers(app) -> list[tuple[str | None, int, str | None]]:
    with app.app_context():
        return [(s.flow, s.score, s.reason) for s in db.session.scalars(sa.select(Satisfaction))]


def test_a_complaint_filed_in_polish_ends_with_the_question_and_keeps_a_four(app, simulator):
    call, heard = ring(app, simulator, "+48601234567", ["1", "2", "4"], transcription="Karta")

    assert heard[-3].startswith("Dziękujemy. Numer reklamacji to")  # the reference first
    assert heard[-2].startswith("Aby usłyszeć numer ponownie, prosimy nacisnąć gwiazdkę.")
    assert "Zanim zakończymy, jak oceniają Państwo tę rozmowę?" in heard[-2]
    assert heard[-1] == "Dziękujemy za odpowiedź. Do widzenia."
    assert call.outcome == "recorded"  # the question never changes what the call did
    assert answers(app) == [("complaints_line", 4, None)]
    with app.app_context():
        kept = db.session.scalars(sa.select(Satisfaction)).one()
        assert kept.call_id == call.id
        audited = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "satisfaction.recorded")
        ).one()
        assert audited.subject_id == str(call.id) and audited.changes["score"] == 4
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 1


def test_a_status_check_in_italian_asks_why_a_two_and_keeps_the_reason(app, client, simulator):
    reference = client.post(
        "/api/v1/complaints",
        json={"phone": "+39 333 123 4567", "text": "Bonifico mai arrivato", "category": "payments"},
    ).get_json()["reference"]

    _, heard = ring(
        app, simulator, "+393331234567", ["2", references.keypad_digits(reference) + "#", "2", "1"]
    )

    assert heard[-4].startswith("Il Suo reclamo") and "ricevuto" in heard[-4]
    assert heard[-3].startswith("Per riascoltare il riferimento, prema asterisco.")
    assert "Prima di concludere, come valuta questa chiamata?" in heard[-3]
    assert heard[-2].startswith("Ci dispiace. Se la chiamata è durata troppo, prema 1.")
    assert heard[-1] == "Grazie per la Sua risposta. Arrivederci."
    assert answers(app) == [("complaints_line", 2, "too_long")]


def test_a_caller_who_filed_without_a_message_and_presses_nothing_hears_goodbye(app, simulator):
    call, heard = ring(app, simulator, "+442079460123", ["1", "6"], seconds=0)

    assert heard[-4].startswith("We did not hear a message")
    assert heard[-3].startswith("To hear the reference again, press star.")
    assert "Before we finish, how satisfied are you with this call?" in heard[-3]
    assert heard[-1] == "Thank you. Goodbye."
    assert call.outcome == "no_message"
    assert answers(app) == []


def test_a_reference_not_found_is_not_asked_about(app, simulator):
    _, heard = ring(app, simulator, "+393331234567", ["2", "222222#", "5"])

    assert heard[-1].startswith("Non troviamo nessun reclamo")
    assert answers(app) == []


def test_star_at_the_question_says_the_reference_again_and_asks_once_more(app, simulator):
    _, heard = ring(app, simulator, "+48601234567", ["1", "2", "*", "5"], transcription="Karta")

    thanks = [line for line in heard if line.startswith("Dziękujemy. Numer reklamacji to")]
    assert len(thanks) == 2 and thanks[0] == thanks[1]
    assert heard[-1] == "Dziękujemy za odpowiedź. Do widzenia."
    assert answers(app) == [("complaints_line", 5, None)]


def test_the_complaints_line_questions_hear_words_in_every_language():
    line = load_flows(actions=registered_actions())["complaints_line"]
    for name in ("satisfaction", "satisfaction_reason"):
        for words in line.node(name)["speech"].values():
            assert all(words[language] for language in ("en", "it", "pl", "zh")), name


def test_an_answer_twilio_sends_again_keeps_the_first(app, client, simulator):
    call, _ = ring(app, simulator, "+48601234567", ["1", "2", "4"], transcription="Karta")
    url = CallUrls(app).for_call(call.id).input("satisfaction", 1)
    params = {"CallSid": call.sid, "Digits": "1"}

    again = client.post(
        url.removeprefix(app.config["PUBLIC_BASE_URL"]),
        data=params,
        headers={"X-Twilio-Signature": signature_for(signing_token(app.config), url, params)},
    )
    forged = client.post(
        url.removeprefix(app.config["PUBLIC_BASE_URL"]),
        data=params,
        headers={"X-Twilio-Signature": "forged"},
    )

    assert again.status_code < 500 and forged.status_code == 403
    assert answers(app) == [("complaints_line", 4, None)]

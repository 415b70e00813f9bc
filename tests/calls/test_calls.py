"""Whole calls through the simulator: placed, answered, the flow followed, the outcome stored."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.calls.models import Call, CallTurn
from app.calls.service import CallUrls
from app.customers.models import Customer
from app.customers.service import create_customer
from app.errors import Conflict
from app.extensions import db
from tests.telephony_fixtures import VALID_CODE, place

pytestmark = pytest.mark.usefixtures("lines", "customer")


def test_a_confirmed_payment_call_runs_start_to_end_in_the_customers_language(app, simulator):
    placed = place(app, simulator, keys=[VALID_CODE, "1"])

    call = placed.call
    assert call.outcome == "confirmed"
    assert call.status.value == "completed"
    assert [event.status.value for event in call.events] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert call.answered_by == "human"
    assert call.from_number == "+14155550100"
    assert call.to_number == "+393331234567"
    assert call.duration_seconds and call.duration_seconds > 0
    assert placed.heard[0] == "Buongiorno, chiamiamo da Demo Bank per Giulia Rossi."
    assert placed.heard[1].startswith("Non Le chiederemo mai la password")
    assert " ".join(call.reference) in placed.heard[2]
    assert "249,90 €" in placed.heard[3] and "Electro Shop" in placed.heard[3]
    assert "14:05" in placed.heard[3]  # 13:05 UTC, read in the callee's zone (Rome)
    assert any(line.startswith("Grazie, è confermato") for line in placed.heard)
    # Then the satisfaction question, and no key: the call ends politely.
    assert placed.heard[-1] == "Grazie. Arrivederci."


def test_it_was_not_me_stores_denied(app, simulator):
    placed = place(app, simulator, keys=[VALID_CODE, "2"])

    assert placed.call.outcome == "denied"


def test_three_wrong_codes_end_the_call_as_verification_failed(app, simulator):
    placed = place(app, simulator, keys=["000000", "111111", "222222", "1"])

    assert placed.call.outcome == "verification_failed"
    assert placed.heard.count("Spiacenti, il codice non è corretto.") == 3
    assert placed.heard[-1].startswith("Non siamo riusciti a confermare")
    assert placed.pressed == ["keys in 6 digits"] * 3  # the fourth key was never asked for


def test_a_wrong_menu_key_is_answered_not_valid_and_asked_again(app, simulator):
    placed = place(app, simulator, keys=[VALID_CODE, "9", "1"])

    assert "Spiacenti, la scelta non è valida." in placed.heard
    assert placed.call.outcome == "confirmed"


def test_silence_at_every_question_ends_politely(app, simulator):
    placed = place(app, simulator, keys=[VALID_CODE, "", "", ""])

    assert placed.call.outcome == "no_input"
    assert placed.heard.count("Spiacenti, non abbiamo ricevuto nessun tasto.") == 3


@pytest.mark.parametrize("answer", ["busy", "no-answer"])
def test_an_unanswered_call_is_recorded_as_unreachable(app, simulator, answer):
    placed = place(app, simulator, answer=answer)

    assert placed.call.status.value == answer
    assert placed.call.outcome == "unreachable"
    assert placed.heard == []
    assert placed.statuses == ["initiated", "ringing", answer]


def test_an_answering_machine_gets_a_voicemail_without_personal_details(app, simulator):
    placed = place(app, simulator, answer="machine")

    assert placed.call.outcome == "voicemail"
    assert len(placed.heard) == 1
    voicemail = placed.heard[0]
    assert "+1 4 1 5 5 5 5 0 1 0 1" in voicemail  # the hotline, digit by digit
    for private in ("Giulia", "249", "Electro Shop", " ".join(placed.call.reference)):
        assert private not in voicemail


def test_the_code_is_never_stored_or_logged(app, simulator, capfd):
    placed = place(app, simulator, keys=[VALID_CODE, "1"])

    with app.app_context():
        turns = db.session.scalars(sa.select(CallTurn.text)).all()
        audit = db.session.scalars(sa.select(AuditEvent.changes)).all()
        variables = db.session.get_one(Call, placed.call.id).variables
    assert "******" in turns
    stored = json.dumps([turns, audit, variables])
    assert VALID_CODE not in stored
    assert VALID_CODE not in capfd.readouterr().err


def test_every_flow_in_every_language_answers_twiml_that_twilio_would_accept(app, simulator):
    # The simulator refuses malformed TwiML and verbs nested where Twilio would not take them.
    for flow in (
        "transaction_alert",
        "registration_check",
        "withdrawal_check",
        "account_change_check",
    ):
        for external_id, phone in [
            ("c-en", "+442079460123"),
            ("c-pl", "+48601234567"),
            ("c-zh", "+8613812345678"),
        ]:
            with app.app_context():
                if not db.session.scalar(sa.select(Customer.id).filter_by(external_id=external_id)):
                    create_customer(
                        db.session, actor=Actor("test"), external_id=external_id, phone=phone
                    )
                    db.session.commit()
            placed = place(
                app, simulator, flow=flow, external_id=external_id, keys=["1", VALID_CODE, "2"]
            )
            assert placed.call.outcome == "denied", (flow, external_id, placed.heard)


def test_the_caller_id_is_never_inbound_only_or_retired(app, simulator, api):
    api.delete("/api/v1/official-numbers/+14155550100")  # the only outbound line retires

    with pytest.raises(Conflict, match="no official outbound_verification number"):
        place(app, simulator)
    assert simulator.calls == {}


def test_a_complaint_by_phone_keeps_the_category_and_the_recording(app, simulator):
    from app.carriers.simulator import CalleeScript

    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_="+48601234567",
            to="+14155550102",
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=["1", "5"], recording_seconds=42),
        )
        call = db.session.scalar(sa.select(Call).filter_by(sid=simulated.sid))
        assert call.flow == "complaints_line"
        assert call.locale == "pl"  # the caller's country
        assert call.variables["category_key"] == "5"
        assert call.variables["recording_seconds"] == 42
        assert call.variables["recording_url"].endswith(simulated.sid)
        assert call.outcome == "recorded"
        assert call.status.value == "completed"


def test_a_call_to_a_line_that_is_not_ours_hears_not_in_service(app, simulator):
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_="+48601234567", to="+14155550199", inbound_url=urls.inbound()
        )
        assert [line.text for line in simulated.lines if line.who == "call"] == [
            "This number is not in service. Goodbye."
        ]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Call)) == 0

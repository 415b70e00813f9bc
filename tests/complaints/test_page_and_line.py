"""Complaints on the web page and the phone line: the same record, reference and status."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.complaints import references, texts
from app.complaints.models import Complaint, ComplaintChannel
from app.extensions import db
from app.telephony.calls import CallUrls
from app.telephony.models import Call
from app.telephony.simulator import CalleeScript

pytestmark = pytest.mark.usefixtures("lines", "clock")
COMPLAINTS_LINE = "+14155550102"


def test_every_language_has_every_word_of_the_page():
    keys = {lang: set(words) for lang, words in texts.PAGE.items()}
    assert all(k == keys["en"] for k in keys.values())
    assert all(
        set(w["categories"]) == set(texts.PAGE["en"]["categories"]) for w in texts.PAGE.values()
    )


def test_the_web_form_files_a_complaint_and_the_status_form_finds_it(client, app):
    filed = client.post(
        "/complaints",
        data={
            "lang": "pl",
            "phone": "601 234 567",  # read in the page's country (Poland)
            "category": "cards",
            "text": "<b>Karta</b> nie działa za granicą",
        },
    )

    assert filed.status_code == 201
    page = filed.get_data(as_text=True)
    reference = page.split('data-reference="')[1].split('"')[0]
    assert references.normalize(reference) == reference
    assert "Dziękujemy" in page and "&lt;b&gt;" not in page  # the form is gone, the text not echoed
    with app.app_context():
        complaint = db.session.scalars(sa.select(Complaint)).one()
        assert (complaint.channel, complaint.phone, complaint.text) == (
            ComplaintChannel.WEB,
            "+48601234567",
            "<b>Karta</b> nie działa za granicą",  # kept as typed
        )

    found = client.post(
        "/complaints/status", data={"lang": "pl", "reference": reference, "phone": "601234567"}
    )
    wrong = client.post(
        "/complaints/status", data={"lang": "pl", "reference": reference, "phone": "601234568"}
    )
    unknown = client.post(
        "/complaints/status", data={"lang": "pl", "reference": "C-2222-22", "phone": "601234567"}
    )

    assert 'data-status="new"' in found.get_data(as_text=True)
    assert "przyjęta" in found.get_data(as_text=True)
    assert wrong.status_code == unknown.status_code == 404
    assert texts.PAGE["pl"]["not_found"] in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True) == unknown.get_data(as_text=True)


def test_a_bad_web_complaint_is_refused_with_the_field_and_keeps_what_was_typed(client, app):
    response = client.post(
        "/complaints", data={"lang": "en", "phone": "+442079460123", "text": "   "}
    )

    assert response.status_code == 422
    assert 'data-field="text"' in response.get_data(as_text=True)
    assert 'value="+442079460123"' in response.get_data(as_text=True)


def ring(app, simulator, caller: str, keys: list[str], transcription: str | None = None):
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=caller,
            to=COMPLAINTS_LINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys, recording_seconds=42, transcription=transcription),
        )
        call = db.session.scalar(sa.select(Call).filter_by(sid=simulated.sid))
        db.session.expunge(call)
    return call, [line.text for line in simulated.lines if line.who == "call"]


def test_a_complaint_by_phone_is_recorded_transcribed_and_read_back(app, api, simulator):
    call, heard = ring(
        app, simulator, "+48601234567", ["1", "2"], transcription="Moja karta została zablokowana"
    )

    with app.app_context():
        complaint = db.session.scalars(sa.select(Complaint)).one()
        assert (complaint.channel, complaint.category, complaint.department) == (
            ComplaintChannel.PHONE,
            "cards",
            "cards",
        )
        assert complaint.recording_seconds == 42 and complaint.recording_url.endswith(call.sid)
        assert complaint.transcription == "Moja karta została zablokowana"
        assert complaint.call_id == call.id and complaint.locale == "pl"
        spelled = " ".join(ch for ch in complaint.reference if ch.isalnum())
    assert spelled in heard[-1] and heard[-1].startswith("Dziękujemy")  # read back, twice
    assert heard[-1].count(spelled) == 2
    assert call.outcome == "recorded"
    # The same record as the other channels: the API finds it by reference and phone.
    found = app.test_client().get(
        f"/api/v1/complaints/{complaint.reference}", query_string={"phone": "+48601234567"}
    )
    assert found.status_code == 200


def test_the_status_is_read_out_for_the_reference_keyed_on_the_keypad(app, client, simulator):
    reference = client.post(
        "/api/v1/complaints",
        json={"phone": "+39 333 123 4567", "text": "Bonifico mai arrivato", "category": "payments"},
    ).get_json()["reference"]
    keyed = references.keypad_digits(reference)

    _, heard = ring(app, simulator, "+393331234567", ["2", keyed + "#"])
    _, other_phone = ring(app, simulator, "+393337654321", ["2", keyed + "#"])
    _, wrong_ref = ring(app, simulator, "+393331234567", ["2", "222222#"])

    spelled = " ".join(ch for ch in reference if ch.isalnum())
    assert (
        spelled in heard[-1] and "ricevuto" in heard[-1] and "Ti risponderemo entro il" in heard[-1]
    )
    assert other_phone[-1] == wrong_ref[-1]  # the same answer: nothing revealed
    assert other_phone[-1].startswith("Non troviamo nessun reclamo")


def test_a_withheld_number_cannot_file_by_phone(app, simulator):
    _, heard = ring(app, simulator, "anonymous", ["1", "6"])

    assert heard[-1].startswith("We cannot see the number you are calling from")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_a_forged_transcription_webhook_is_refused(app, client, simulator):
    call, _ = ring(app, simulator, "+48601234567", ["1", "2"])

    response = client.post(
        f"/twilio/voice/calls/{call.id}/nodes/record/transcribed",
        data={"TranscriptionText": "forged", "TranscriptionStatus": "completed"},
        headers={"X-Twilio-Signature": "forged"},
    )

    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalars(sa.select(Complaint)).one().transcription is None

"""Complaints on the web page and the phone line: the same record, reference and status."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from markupsafe import escape

from app.audit.models import AuditEvent
from app.calls.models import Call
from app.calls.service import CallUrls
from app.carriers.signatures import signature_for, signing_token
from app.carriers.simulator import CalleeScript
from app.complaints import references, texts
from app.complaints.models import (
    Complaint,
    ComplaintChannel,
    ComplaintMessage,
    ComplaintNote,
    ComplaintStatus,
)
from app.complaints.policy import CATEGORIES
from app.extensions import db

pytestmark = pytest.mark.usefixtures("lines", "clock")
COMPLAINTS_LINE = "+14155550102"
UNPRINTABLE = (
    "“%(label)s” contains invisible control characters, often left by copying from another "
    "program. Please type it again."
)


def test_every_category_of_the_policy_has_its_words_on_the_form(client):
    page = client.get("/complaints?lang=zh").get_data(as_text=True)

    for item in CATEGORIES:
        assert f'<option value="{item}"' in page
    assert ">欺诈或诈骗</option>" in page


def test_the_status_form_has_a_sentence_for_every_status_a_complaint_can_have():
    from app.complaints.web import _STATUS

    assert set(_STATUS) == {status.value for status in ComplaintStatus}


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
    assert f"Reklamacja {reference} została przyjęta." in found.get_data(as_text=True)
    assert wrong.status_code == unknown.status_code == 404
    assert "Nie znaleźliśmy reklamacji" in wrong.get_data(as_text=True)
    # The same answer (only what each person typed is kept in their form).
    assert status_answer(wrong) == status_answer(unknown)
    assert 'value="601234568"' in wrong.get_data(as_text=True)


def status_answer(response) -> str:
    page = response.get_data(as_text=True)
    return page.split('id="status-answer"')[1].split("</section>")[0]


def test_a_bad_web_complaint_is_refused_with_the_field_and_keeps_what_was_typed(client, app):
    response = client.post(
        "/complaints", data={"lang": "en", "phone": "+442079460123", "text": "   "}
    )

    assert response.status_code == 422
    assert 'data-field="text"' in response.get_data(as_text=True)
    assert 'value="+442079460123"' in response.get_data(as_text=True)


def test_the_page_reads_the_phone_in_the_picked_country_and_says_what_is_wrong_in_its_language(
    client, app
):
    form = {"lang": "it", "phone": "12 34 56", "text": "La carta non funziona", "region": "IT"}

    unreadable = client.post("/complaints", data=form)
    no_text = client.post("/complaints", data={**form, "phone": "333 123 4567", "text": " "})
    british = client.post("/complaints", data={**form, "phone": "333 123 4567", "region": "GB"})

    page = unreadable.get_data(as_text=True)
    assert unreadable.status_code == 422
    assert "Lo scriva con il prefisso del paese (per esempio +39 02 1234 5678)" in page
    assert 'value="12 34 56"' in page and ">La carta non funziona</textarea>" in page
    # The error is under the phone's box, read with it, and the box takes the focus.
    assert 'aria-invalid="true" aria-describedby="phone-error" autofocus' in page
    assert page.index('id="phone-error"') < page.index('for="email"')
    assert 'id="file-answer"' not in page
    text_page = no_text.get_data(as_text=True)
    assert "Ci racconti che cosa è successo" in text_page
    assert "tell us what happened" not in text_page  # no English
    assert 'id="text" name="text" maxlength="5000" aria-invalid="true"' in text_page
    assert british.status_code == 201
    assert '<label for="file-region">Il Suo paese</label>' in page
    assert '<option value="IT" selected>Italia (+39)</option>' in page
    with app.app_context():
        assert db.session.scalars(sa.select(Complaint.phone)).all() == ["+443331234567"]


def test_the_status_form_keeps_its_inputs_and_asks_for_a_country_code_it_needs(client):
    filed = client.post(
        "/complaints",
        data={"lang": "en", "phone": "333 123 4567", "region": "IT", "text": "Card blocked"},
    ).get_data(as_text=True)
    reference = filed.split('data-reference="')[1].split('"')[0]

    found = client.post(
        "/complaints/status",
        data={"lang": "en", "reference": reference, "phone": "333 123 4567", "region": "IT"},
    )
    unreadable = client.post(
        "/complaints/status", data={"lang": "en", "reference": reference, "phone": "12 34"}
    )

    assert 'data-status="new"' in found.get_data(as_text=True)
    assert f'value="{reference}"' in found.get_data(as_text=True)
    page = unreadable.get_data(as_text=True)
    assert unreadable.status_code == 422
    assert "Please type it with its country code" in page
    assert f'value="{reference}"' in page and 'value="12 34"' in page
    assert 'action="/complaints/status#status-answer"' in page


def ring(
    app,
    simulator,
    caller: str,
    keys: list[str],
    transcription: str | None = None,
    seconds: int | list[int] = 42,
):
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=caller,
            to=COMPLAINTS_LINE,
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=keys, recording_seconds=seconds, transcription=transcription),
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
    assert spelled in heard[-4] and heard[-4].startswith("Dziękujemy")  # read back, twice
    assert heard[-4].count(spelled) == 2
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
        spelled in heard[-4] and "ricevuto" in heard[-4] and "Le risponderemo entro il" in heard[-4]
    )
    assert other_phone[-1] == wrong_ref[-1]  # the same answer: nothing revealed
    assert other_phone[-1].startswith("Non troviamo nessun reclamo")


def test_a_withheld_number_cannot_file_by_phone(app, simulator):
    # A withheld number says no country: English at the language menu, then the menu.
    _, heard = ring(app, simulator, "anonymous", ["1", "1", "6"])

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


def the_complaint(app) -> Complaint:
    with app.app_context():
        complaint = db.session.scalars(sa.select(Complaint)).one()
        db.session.expunge(complaint)
    return complaint


def test_a_long_message_is_cut_at_two_minutes_so_that_twilio_transcribes_it(app, simulator):
    # The caller would talk for 3 minutes; Twilio transcribes only recordings of 2 at most.
    ring(
        app, simulator, "+48601234567", ["1", "1"], transcription="Przelew nie doszedł", seconds=180
    )

    complaint = the_complaint(app)
    assert complaint.recording_seconds == 120
    assert complaint.transcription == "Przelew nie doszedł"


def test_a_silent_caller_is_asked_once_more_and_then_heard(app, simulator):
    call, heard = ring(
        app,
        simulator,
        "+442079460123",
        ["1", "3"],
        transcription="I am locked out",
        seconds=[0, 30],
    )

    assert any(text.startswith("We did not hear anything. After the tone") for text in heard)
    complaint = the_complaint(app)
    assert (complaint.category, complaint.recording_seconds) == ("account_access", 30)
    assert complaint.transcription == "I am locked out"
    assert heard[-4].startswith("Thank you. Your complaint reference is")
    assert call.outcome == "recorded"


def test_a_caller_who_says_nothing_twice_has_a_complaint_filed_for_us_to_call_back(app, simulator):
    call, heard = ring(app, simulator, "+393331234567", ["1", "2"], seconds=0)

    complaint = the_complaint(app)
    assert (complaint.phone, complaint.category, complaint.channel) == (
        "+393331234567",
        "cards",
        ComplaintChannel.PHONE,
    )
    assert complaint.text == texts.NO_MESSAGE_TEXT["it"]  # staff see: call them back
    assert complaint.recording_url is None and complaint.recording_seconds is None
    assert complaint.first_response_due is not None  # on the clock like any complaint
    spelled = " ".join(ch for ch in complaint.reference if ch.isalnum())
    assert heard[-4].startswith("Non abbiamo sentito un messaggio")
    assert heard[-4].count(spelled) == 2
    assert call.outcome == "no_message"
    with app.app_context():
        texted = db.session.scalars(sa.select(ComplaintMessage)).all()
    assert [(m.channel, m.to) for m in texted] == [("sms", "+393331234567")]
    assert complaint.reference in texted[0].body


@pytest.mark.parametrize(
    ("seconds", "transcription"),
    [
        (2, "Hello"),  # too short for Twilio's transcription: it reports "failed"
        (40, ""),  # "completed" with no words made out
    ],
)
def test_a_message_twilio_could_not_transcribe_asks_staff_to_listen(
    app, simulator, seconds, transcription
):
    ring(app, simulator, "+442079460123", ["1", "6"], transcription=transcription, seconds=seconds)

    complaint = the_complaint(app)
    assert complaint.recording_url and complaint.transcription is None
    with app.app_context():
        notes = db.session.scalars(sa.select(ComplaintNote)).all()
        audited = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.subject_id == complaint.reference)
        ).all()
    assert [(n.to_customer, n.text) for n in notes] == [
        (False, texts.NOT_TRANSCRIBED.format(seconds=seconds))
    ]
    assert "complaint.transcription_failed" in audited


def test_a_transcription_twilio_sends_again_changes_nothing(app, client, simulator):
    call, _ = ring(app, simulator, "+48601234567", ["1", "2"], transcription="Karta zablokowana")
    url = CallUrls(app).for_call(call.id).transcribed("record")
    params = {
        "CallSid": call.sid,
        "TranscriptionText": "something else",
        "TranscriptionStatus": "completed",
    }

    again = client.post(
        url.removeprefix(app.config["PUBLIC_BASE_URL"]),
        data=params,
        headers={"X-Twilio-Signature": signature_for(signing_token(app.config), url, params)},
    )

    assert again.status_code == 204
    assert the_complaint(app).transcription == "Karta zablokowana"


def _unprintable(app, lang: str, label: str) -> str:
    """The page's words for a field with control characters in it, in that language."""
    with app.test_request_context(), force_locale(lang):
        return str(escape(gettext(UNPRINTABLE, label=gettext(label))))


def test_a_control_character_in_the_complaint_forms_is_a_clear_error_in_the_pages_language(
    client, app
):
    filed = client.post(
        "/complaints",
        data={"lang": "zh", "phone": "+442079460123", "text": "扣款两次", "email": "a\x00@b.cn"},
    )
    status = client.post(
        "/complaints/status", data={"lang": "it", "reference": "C-\x00", "phone": "+39333"}
    )

    assert filed.status_code == status.status_code == 422
    page = filed.get_data(as_text=True)
    assert _unprintable(app, "zh", "Your email (optional)") in page
    assert 'data-field="email"' in page
    assert _unprintable(app, "it", "Complaint reference") in status.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_a_transcription_keeps_its_line_breaks_and_drops_other_controls(app, simulator):
    ring(app, simulator, "+48601234567", ["1", "2"], transcription="Karta\x00 zablokowana.\nProszę")

    with app.app_context():
        complaint = db.session.scalars(sa.select(Complaint)).one()
        assert complaint.transcription == "Karta zablokowana.\nProszę"

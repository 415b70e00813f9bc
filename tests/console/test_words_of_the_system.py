"""What the system says about a refusal, a waiting callback and why we call, in the reader's
language: an Italian agent or supervisor reads Italian (choices by their labels), while what is
kept stays in English and programs are answered in their own language."""

from __future__ import annotations

import re
import uuid

import pytest

from app.callbacks import rules
from app.callbacks.models import Callback, CallbackStatus
from app.carriers.simulator import CalleeScript
from app.extensions import db
from tests.console.conftest import sign_in
from tests.console.test_desk import Recorder, flagged_payment, ringing
from tests.console.test_desk_words import shown, speaks

pytestmark = pytest.mark.usefixtures("accounts", "lines", "customer", "clock")
CUSTOMER_PHONE = "+393331234567"
#: The English an Italian page must not show: a reason, a refusal or a kept value as written.
ENGLISH = re.compile(
    r"this customer's median|first payment from|new device|new beneficiary|the next retry"
    r"|one of|available, away|hang up the call first"
)


def test_an_italian_agent_reads_why_we_call_and_why_the_desk_refused_in_italian(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    speaks(app, "agent", "it")
    desk = Recorder(sign_in(app, "agent"))

    answered = shown(desk.post("/console/desk/answer", entry_id=entry_id))
    on_call = shown(desk.post("/console/desk/presence", presence="away"))
    unknown = shown(desk.post("/console/desk/presence", presence="asleep"))

    # The flagged payment's reasons, in the table of the matter.
    assert re.search(r"importo pari a \d+ volte la mediana di questo cliente", answered)
    assert "primo pagamento da PL" in answered
    assert "nuovo dispositivo" in answered and "nuovo beneficiario" in answered
    assert "Non modificato: prima chiuda la chiamata" in on_call
    assert "Non modificato: presence: uno tra Disponibile, Assente" in unknown
    for page in (answered, on_call, unknown):
        assert not ENGLISH.search(page), ENGLISH.search(page)


def test_an_italian_supervisor_reads_what_a_callback_waits_for_and_why_in_italian(
    app, api, simulator, clock, dispatcher
):
    callback_id = flagged_payment(api)
    simulator.expect(CUSTOMER_PHONE, CalleeScript(answer="no-answer"))
    with app.app_context():
        assert dispatcher().dispatch() == 1
        callback = db.session.get_one(Callback, uuid.UUID(callback_id))
        # Kept as the API shows it, in English.
        assert (callback.status, callback.waiting_for) == (CallbackStatus.QUEUED, "the next retry")
    speaks(app, "supervisor", "it")
    supervisor = sign_in(app, "supervisor")

    listed = shown(supervisor.get("/console/callbacks"))
    page = shown(supervisor.get(f"/console/callbacks/{callback_id}"))

    assert "In attesa di: il prossimo tentativo" in listed
    assert "in attesa di: il prossimo tentativo" in page
    assert re.search(r"importo pari a \d+ volte la mediana di questo cliente", page)
    assert "primo pagamento da PL" in page
    for text in (listed, page):
        assert not ENGLISH.search(text), ENGLISH.search(text)


def test_every_reason_a_callback_waits_has_words_and_an_unknown_one_shows_as_written(app):
    from app.console.labels import kept_text

    with app.test_request_context("/"):
        from flask_babel import force_locale

        with force_locale("it"):
            hours = kept_text(rules.CALLING_HOURS.format(start="09:00", end="20:00"))
            paused = kept_text(rules.CAMPAIGN_PAUSED)
            unknown = kept_text("campaign: Spring savings")

    assert hours == "l'orario di chiamata (09:00-20:00, ora del cliente)"
    assert paused == "la ripresa della sua campagna"
    assert unknown == "campaign: Spring savings"


def test_an_italian_supervisor_is_refused_in_italian_and_a_program_in_its_own_language(app, api):
    speaks(app, "supervisor", "it")
    supervisor = sign_in(app, "supervisor")

    refused = shown(
        supervisor.post(
            "/console/do-not-call",
            data={"phone": "non è un numero", "csrf_token": supervisor.csrf},
            follow_redirects=True,
        )
    )
    english = api.post("/api/v1/customers", json={"external_id": "c-x", "phone": "abc"})
    italian = api.post(
        "/api/v1/customers",
        json={"external_id": "c-x", "phone": "abc"},
        headers={"Accept-Language": "it"},
    )

    assert "phone: un numero di telefono contiene solo cifre, spazi e + ( ) - . /" in refused
    assert english.status_code == italian.status_code == 422
    assert english.get_json()["error"]["message"] == (
        "phone: a phone number has only digits, spaces and + ( ) - . /"
    )
    assert italian.get_json()["error"] == {
        "code": "invalid_phone",
        "field": "phone",
        "message": "phone: un numero di telefono contiene solo cifre, spazi e + ( ) - . /",
    }

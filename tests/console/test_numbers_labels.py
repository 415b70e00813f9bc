"""Official numbers in each language: the console asks for the label in every language we serve,
the check answers in the caller's, and a number is retired only after a confirmation."""

from __future__ import annotations

import html

from app.audit.models import AuditEvent
from app.extensions import db
from app.numbers.models import OfficialNumber
from tests.console.conftest import sign_in

LABELS = {
    "label": "Demo Bank verification calls",
    "label_it": "Chiamate di verifica di Demo Bank",
    "label_pl": "Połączenia weryfikacyjne Demo Bank",
    "label_zh": "Demo Bank 验证电话",
}


def _add(client, **fields):
    return client.post(
        "/console/numbers",
        data={
            "csrf_token": client.csrf,
            "phone": "+390212345678",
            "purpose": "outbound_verification",
            **LABELS,
            **fields,
        },
        follow_redirects=True,
    )


def test_a_number_needs_its_label_in_every_language_we_serve(app, accounts):
    supervisor = sign_in(app, "supervisor")

    response = _add(supervisor, label_pl="")

    assert "Not saved: labels.pl: must not be blank" in html.unescape(
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert db.session.query(OfficialNumber).count() == 0


def test_the_check_tells_each_caller_the_label_in_their_language(app, accounts, client):
    supervisor = sign_in(app, "supervisor")
    _add(supervisor)

    italian = client.get("/api/v1/lookup?number=%2B390212345678&lang=it")
    chinese = client.get("/check?number=%2B390212345678&lang=zh")

    assert italian.get_json()["label"] == "Chiamate di verifica di Demo Bank"
    assert "Chiamate di verifica di Demo Bank" in italian.get_json()["message"]
    assert "Demo Bank 验证电话" in html.unescape(chinese.get_data(as_text=True))


def test_labels_can_be_changed_and_the_change_is_audited(app, accounts):
    supervisor = sign_in(app, "supervisor")
    _add(supervisor)

    form = supervisor.get("/console/numbers?edit=%2B390212345678").get_data(as_text=True)
    response = supervisor.post(
        "/console/numbers",
        data={
            "csrf_token": supervisor.csrf,
            "relabel": "+390212345678",
            **LABELS,
            "label_it": "Verifiche di Demo Bank",
        },
        follow_redirects=True,
    )

    assert 'value="Chiamate di verifica di Demo Bank"' in form
    assert "The labels of +39 02 1234 5678 are saved." in response.get_data(as_text=True)
    with app.app_context():
        number = db.session.query(OfficialNumber).one()
        assert number.label_in("it") == "Verifiche di Demo Bank"
        event = db.session.query(AuditEvent).filter_by(action="official_number.relabelled").one()
        assert event.changes["labels"][1]["it"] == "Verifiche di Demo Bank"


def test_retire_asks_for_a_confirmation_first(app, accounts):
    supervisor = sign_in(app, "supervisor")
    _add(supervisor)

    asked = supervisor.post(
        "/console/numbers", data={"csrf_token": supervisor.csrf, "retire": "+390212345678"}
    )
    with app.app_context():
        still = db.session.query(OfficialNumber).one().retired_at
    confirmed = supervisor.post(
        "/console/numbers",
        data={"csrf_token": supervisor.csrf, "retire": "+390212345678", "confirm": "1"},
        follow_redirects=True,
    )

    assert asked.status_code == 200
    assert "Retire +39 02 1234 5678?" in asked.get_data(as_text=True)
    assert still is None
    assert "+39 02 1234 5678 is retired" in confirmed.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(OfficialNumber).one().retired_at is not None

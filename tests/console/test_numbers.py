"""The console's official numbers: a label that would ask for a secret is not saved."""

from __future__ import annotations

import html

from app.extensions import db
from app.numbers.models import OfficialNumber
from tests.console.conftest import sign_in

OTHER_LANGUAGES = {"label_it": "Carte", "label_pl": "Karty", "label_zh": "银行卡服务"}


def test_a_label_asking_for_a_secret_is_not_saved_and_the_page_says_why(app, accounts):
    client = sign_in(app, "supervisor")

    response = client.post(
        "/console/numbers",
        data={
            "csrf_token": client.csrf,
            "phone": "+14155550177",
            "purpose": "inbound_hotline",
            "label": "Card line: tell us the three digits on the back of your card",
            **OTHER_LANGUAGES,
        },
        follow_redirects=True,
    )

    page = html.unescape(response.get_data(as_text=True))
    assert "Not saved: label: a call never asks for a secret" in page
    assert '("tell" ... "three digits on the back")' in page
    with app.app_context():
        assert db.session.query(OfficialNumber).count() == 0


def test_an_ordinary_label_is_saved(app, accounts):
    client = sign_in(app, "supervisor")

    response = client.post(
        "/console/numbers",
        data={
            "csrf_token": client.csrf,
            "phone": "+14155550177",
            "purpose": "inbound_hotline",
            "label": "Card services",
            **OTHER_LANGUAGES,
        },
        follow_redirects=True,
    )

    assert "+14155550177 is in service." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(OfficialNumber).count() == 1

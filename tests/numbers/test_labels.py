"""A number's label is spoken to anyone who checks the number: it may never ask for a secret."""

from __future__ import annotations

import pytest

from app.numbers.models import OfficialNumber
from tests.support import count_rows

URL = "/api/v1/official-numbers"


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("Verification: please read us the code we texted you", '("read" ... "code we texted")'),
        ("Assistenza carte, mi dica il PIN", '("dica" ... "PIN")'),
        ("Infolinia: podaj numer karty", '("podaj" ... "numer karty")'),
        ("客服热线，请提供您的验证码", '("提供" ... "验证码")'),
    ],
)
def test_a_label_asking_for_a_secret_is_refused_naming_the_field_and_words(api, app, label, words):
    response = api.post(
        URL, json={"phone": "+14155550100", "purpose": "outbound_verification", "label": label}
    )

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == "label"
    assert error["message"].startswith("label: a call never asks for a secret")
    assert words in error["message"]
    assert count_rows(app, OfficialNumber) == 0


def test_a_label_that_only_names_a_secret_is_saved(api):
    response = api.post(
        URL,
        json={"phone": "+14155550100", "purpose": "inbound_hotline", "label": "PIN and card help"},
    )

    assert response.status_code == 201

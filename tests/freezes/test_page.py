"""The public page /freeze: a person who lost their phone freezes the account in their language;
a wrong date says exactly what an unknown number says; tries are limited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.freezes.models import FreezeChannel, FreezeRequest
from tests.freezes.conftest import BIRTH_DATE, E164, SERVICE_LINE, register
from tests.freezes.test_lines import ring

pytestmark = pytest.mark.usefixtures("lines", "clock")


def freezes(app) -> list[FreezeRequest]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(FreezeRequest)))
        db.session.expunge_all()
        return rows


def answer(page: str) -> str:
    """The page's answer, without the echo of what was typed."""
    return page.split('id="freeze-answer"')[1].split("</section>")[0]


def test_the_home_and_check_pages_link_to_the_freeze_page(client):
    for path in ("/?lang=it", "/check?lang=it"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/freeze?lang=it"' in page


@pytest.mark.parametrize(
    ("lang", "phone", "words"),
    [
        ("pl", "601 234 567", "Prośba została przyjęta"),
        ("it", "333 123 4567", "La Sua richiesta è registrata"),
        ("en", "+44 20 7946 0123", "Your request is registered"),
    ],
)
def test_a_person_freezes_the_account_on_the_page(client, api, app, lang, phone, words):
    register(api, lang)

    response = client.post("/freeze", data={"lang": lang, "phone": phone, "birth_date": BIRTH_DATE})

    assert response.status_code == 201
    assert words in response.get_data(as_text=True)
    [freeze] = freezes(app)
    assert freeze.channel is FreezeChannel.WEB


def test_a_wrong_date_answers_like_an_unknown_number(client, api, app):
    register(api, "it")

    wrong = client.post(
        "/freeze", data={"lang": "it", "phone": "333 123 4567", "birth_date": "1990-01-01"}
    )
    stranger = client.post(
        "/freeze", data={"lang": "it", "phone": "333 999 9999", "birth_date": BIRTH_DATE}
    )

    assert wrong.status_code == stranger.status_code == 200
    assert answer(wrong.get_data(as_text=True)) == answer(stranger.get_data(as_text=True))
    assert "Non siamo riusciti" in answer(wrong.get_data(as_text=True))
    assert freezes(app) == []


def test_tries_are_limited_per_number_and_then_even_the_right_date_is_refused(client, api, app):
    register(api, "it")
    for _ in range(5):
        client.post(
            "/freeze", data={"lang": "it", "phone": "333 123 4567", "birth_date": "1990-01-01"}
        )

    late = client.post(
        "/freeze", data={"lang": "it", "phone": "+39 333 123 4567", "birth_date": BIRTH_DATE}
    )

    assert late.status_code == 429
    assert 0 < int(late.headers["Retry-After"]) <= 3600  # when to try again, as the API says
    assert freezes(app) == []


@pytest.mark.usefixtures("service_line")
def test_tries_in_every_spelling_and_on_the_phone_line_count_against_one_number(
    client, api, app, simulator, queue
):
    register(api, "it")
    spellings = [
        {"lang": "it", "phone": "+39 333 123 4567"},
        {"lang": "it", "phone": "00393331234567"},
        {"lang": "en", "region": "IT", "phone": "3331234567"},
        {"lang": "pl", "region": "IT", "phone": "(333) 123-4567"},
    ]
    for address, form in enumerate(spellings):  # from different addresses: only the number counts
        wrong = client.post(
            "/freeze",
            data={**form, "birth_date": "1990-01-01"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{address + 1}"},
        )
        assert wrong.status_code == 200
    ring(app, simulator, caller=E164["it"], to=SERVICE_LINE, keys=["9", "01011990"])

    late = client.post(
        "/freeze",
        data={"lang": "it", "phone": "333 123 4567", "birth_date": BIRTH_DATE},
        environ_base={"REMOTE_ADDR": "192.0.2.99"},
    )

    assert late.status_code == 429
    assert freezes(app) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"phone": "abc", "birth_date": BIRTH_DATE}, "phone"),
        ({"phone": "333 123 4567", "birth_date": "30/04/1980"}, "birth-date"),
        ({"phone": "333 123 4567", "birth_date": "1980-04-30\x07"}, "birth-date"),
    ],
)
def test_bad_input_names_the_field(client, form, field):
    response = client.post("/freeze", data={"lang": "it", **form})

    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)


def test_an_unknown_number_costs_the_same_work_as_a_wrong_date(app, api):
    """How long the answer takes must not tell a customer's number from a stranger's: both a
    wrong date and an unknown number compare a keyed hash and count a try."""
    from datetime import date

    from app.freezes.service import match_caller

    register(api, "it")
    with app.app_context():
        keyring = app.extensions["verification_keyring"]

        class Counting:
            digests = 0
            current = keyring.current

            def digest(self, key_id, text):  # type: ignore[no-untyped-def]
                Counting.digests += 1
                return keyring.digest(key_id, text)

        def work(phone: str) -> tuple[int, int]:
            Counting.digests, counted = 0, []
            found = match_caller(
                db.session(),
                phone=phone,
                birth_date=date(1990, 1, 1),
                keyring=Counting(),
                too_many_for=lambda customer_id: counted.append(customer_id) or False,
            )
            assert found is None
            return Counting.digests > 0, len(counted)

        assert work(E164["it"]) == work("+393339999999") == (True, 1)

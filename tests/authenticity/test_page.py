"""The public page, in four languages: the same answers as the API, without JavaScript."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape

from app.authenticity.models import ASKED_FOR, ReportChannel, ScamReport
from app.extensions import db
from tests.support import count_rows
from tests.telephony_fixtures import place

pytestmark = pytest.mark.usefixtures("lines")
UNPRINTABLE = (
    "“%(label)s” contains invisible control characters, often left by copying from another "
    "program. Please type it again."
)


def test_every_thing_a_scam_call_may_ask_for_has_its_words_on_the_form(client):
    page = client.get("/check?lang=pl").get_data(as_text=True)

    for item in ASKED_FOR:
        assert f'value="{item}"' in page
    assert "> dane karty</label>" in page and "> PIN</label>" in page


@pytest.mark.parametrize(
    ("lang", "title", "answer", "never"),
    [
        ("en", "Is this call really from Demo Bank?", "is one of our numbers", "We will never ask"),
        (
            "it",
            "Questa chiamata viene davvero da Demo Bank?",
            "è un nostro numero",
            "Non Le chiederemo mai",
        ),
        (
            "pl",
            "Czy to połączenie naprawdę jest od Demo Bank?",
            "to nasz numer",
            "Nigdy nie poprosimy",
        ),
        ("zh", "这通电话真的来自Demo Bank吗？", "是我们的号码", "我们绝不会向您索要密码"),
    ],
)
def test_the_page_checks_a_number_in_each_language(client, lang, title, answer, never):
    empty = client.get(f"/check?lang={lang}")
    checked = client.get("/check", query_string={"lang": lang, "number": "+1 415 555 0100"})

    assert empty.status_code == 200 and title in empty.get_data(as_text=True)
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and answer in page
    assert f'<html lang="{lang}">' in page
    assert never in page


def test_a_local_number_is_read_in_the_pages_country_and_nonsense_is_a_clear_error(client):
    italian = client.get("/check", query_string={"lang": "it", "number": "06 1234 5678"})
    nonsense = client.get("/check", query_string={"lang": "it", "number": "chiamami"})

    assert "+390612345678" in italian.get_data(as_text=True)
    assert nonsense.status_code == 422
    assert "Non sembra un numero di telefono" in nonsense.get_data(as_text=True)


def test_the_reference_form_answers_yes_or_no(client, app, simulator, customer, clock):
    placed = place(app, simulator, keys=["", "", ""])
    clock.set(placed.call.created_at)

    yes = client.post(
        "/check/reference",
        data={"lang": "en", "reference": placed.call.reference, "phone": "+39 333 123 4567"},
    )
    no = client.post(
        "/check/reference",
        data={"lang": "en", "reference": placed.call.reference, "phone": "+39 333 765 4321"},
    )
    bad = client.post("/check/reference", data={"lang": "en", "reference": "12", "phone": "+1"})

    assert 'data-called="true"' in yes.get_data(as_text=True)
    assert 'data-called="false"' in no.get_data(as_text=True)
    assert bad.status_code == 422 and "The reference has 6 digits" in bad.get_data(as_text=True)


def test_the_report_form_files_a_web_report(client, app):
    response = client.post(
        "/check/report",
        data={
            "lang": "pl",
            "number": "+1 415 555 0100",
            "called_at": "2026-11-23T09:15",
            "asked_for": ["pin", "card_details", "bogus"],
            "description": "Podawali się za bank",
        },
    )

    assert response.status_code == 200
    assert "Dziękujemy" in response.get_data(as_text=True)
    with app.app_context():
        report = db.session.query(ScamReport).one()
        assert (report.channel, report.locale, report.number_official) == (
            ReportChannel.WEB,
            "pl",
            True,
        )
        assert report.asked_for == ["card_details", "pin"]


def test_a_report_without_a_number_files_nothing(client, app):
    response = client.post("/check/report", data={"lang": "en", "number": ""})

    assert response.status_code == 422
    assert count_rows(app, ScamReport) == 0


@pytest.mark.parametrize(
    ("number", "status", "words"),
    [
        ("+14155550100", "calls_you", "We may call you from it"),
        ("+14155550101", "never_calls", "we never make calls from it"),
        ("+14155550199", "retired", "no longer calls anyone"),
        ("+390612345678", "not_ours", "This is not one of our numbers"),
    ],
)
def test_the_page_answers_each_kind_of_number(client, api, number, status, words):
    api.post(
        "/api/v1/official-numbers",
        json={"phone": "+1 415 555 0199", "purpose": "outbound_verification", "label": "Old"},
    )
    api.delete("/api/v1/official-numbers/+14155550199")

    page = client.get("/check", query_string={"lang": "en", "number": number}).get_data(
        as_text=True
    )

    assert f'data-status="{status}"' in page
    assert words in page


def _unprintable(app, lang: str, label: str) -> str:
    """The page's words for a field with control characters in it, in that language."""
    with app.test_request_context(), force_locale(lang):
        return str(escape(gettext(UNPRINTABLE, label=gettext(label))))


def test_a_control_character_in_a_form_is_a_clear_error_in_the_pages_language(client, app):
    number = client.get("/check", query_string={"lang": "it", "number": "+39 06\x00"})
    reference = client.post(
        "/check/reference", data={"lang": "zh", "reference": "482197", "phone": "\x1b+39"}
    )
    report = client.post(
        "/check/report",
        data={"lang": "pl", "number": "+44 20 7946 0000", "description": "Dzwonili\x00"},
    )

    assert number.status_code == reference.status_code == report.status_code == 422
    assert _unprintable(app, "it", "The number that called you") in number.get_data(as_text=True)
    assert _unprintable(app, "zh", "Your phone number") in reference.get_data(as_text=True)
    assert _unprintable(app, "pl", "What happened (optional)") in report.get_data(as_text=True)
    assert "Pole „Co się stało (opcjonalnie)” zawiera" in report.get_data(as_text=True)
    assert count_rows(app, ScamReport) == 0


def test_a_reports_description_keeps_its_line_breaks(client, app):
    description = "They said they were the bank.\nThey asked for my PIN."
    response = client.post(
        "/check/report",
        data={"lang": "en", "number": "+44 20 7946 0000", "description": description},
    )

    assert response.status_code == 200
    with app.app_context():
        assert db.session.query(ScamReport).one().description == description

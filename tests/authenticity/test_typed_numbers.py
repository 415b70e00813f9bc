"""Numbers as people type them, on every door: read in the person's country and in every country
of our numbers; "not ours" only for a valid number that is none of ours, "unreadable" otherwise."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.authenticity.models import ScamReport
from app.extensions import db
from tests.authenticity.test_line import ring_the_line
from tests.telephony_fixtures import place

pytestmark = pytest.mark.usefixtures("lines", "clock")
ROME = "+390612345678"
PARIS_MOBILE = "+33612345678"


def lookup(client, number, headers=None, **params):
    response = client.get(
        "/api/v1/lookup", query_string={"number": number, **params}, headers=headers or {}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def official(api, phone, label):
    response = api.post(
        "/api/v1/official-numbers",
        json={"phone": phone, "purpose": "outbound_verification", "label": label},
    )
    assert response.status_code == 201, response.get_json()


@pytest.fixture
def rome(api):
    official(api, ROME, "Rome office")


@pytest.fixture
def paris(api):
    official(api, PARIS_MOBILE, "Paris mobile")


# ----- the API -----


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("(415) 555-0100", "+14155550100"),
        ("415 555 0100", "+14155550100"),
        ("06 1234 5678", ROME),
    ],
)
def test_our_numbers_typed_as_the_phone_shows_them_are_ours_in_english(client, rome, typed, number):
    answer = lookup(client, typed, headers={"Accept-Language": "en-GB"})  # no region given

    assert (answer["status"], answer["official"], answer["number"]) == ("calls_you", True, number)
    assert "is one of our numbers" in answer["message"]


def test_a_number_of_two_countries_one_of_them_ours_is_unreadable_never_not_ours(
    client, rome, paris
):
    answer = lookup(client, "06 12 34 56 78", lang="en")
    chosen = lookup(client, "06 12 34 56 78", lang="en", region="FR")  # France is still a guess

    for each in (answer, chosen):
        assert (each["status"], each["official"], each["calls_from_this_number"]) == (
            "unreadable",
            False,
            False,
        )
        assert (each["label"], each["purpose"], each["active_from"]) == (None, None, None)
        assert "We could not read this number" in each["message"]
        assert "not one of our numbers" not in each["message"]
    assert answer["number"] == "0612345678"  # as typed: it is not settled
    assert "+44 121 234 5678" in answer["message"]  # an example in the person's country
    assert "+33 1 23 45 67 89" in chosen["message"]
    # With its country code it is settled.
    assert lookup(client, "+33 6 12 34 56 78")["status"] == "calls_you"


@pytest.mark.parametrize("typed", ["12 34", "+39 12", "555 0100"])
def test_what_reads_as_no_number_is_unreadable_in_every_language(client, typed):
    answers = {lang: lookup(client, typed, lang=lang) for lang in ("en", "it", "pl", "zh")}

    assert {a["status"] for a in answers.values()} == {"unreadable"}
    assert "country code" in answers["en"]["message"]
    assert "prefisso del paese" in answers["it"]["message"]
    assert "numerem kierunkowym kraju" in answers["pl"]["message"]
    assert "国家区号" in answers["zh"]["message"]


def test_a_valid_number_that_is_none_of_ours_is_not_ours(client, rome):
    foreign = lookup(client, "+49 30 12345678")
    in_germany = lookup(client, "0152 12345678", region="DE", lang="en")
    # A London number is also a valid Milan number: neither is ours, so it is not ours either way.
    london = lookup(client, "020 7946 0000", lang="en")

    assert (foreign["status"], foreign["number"]) == ("not_ours", "+493012345678")
    assert (in_germany["status"], in_germany["number"]) == ("not_ours", "+4915212345678")
    assert (london["status"], london["official"]) == ("not_ours", False)
    assert "This is not one of our numbers" in london["message"]


def test_the_chosen_country_wins_over_the_languages_guess(client):
    # (415) 555-0100 is a number in China too: in Chinese, without a country, it may be either.
    guessed = lookup(client, "(415) 555-0100", lang="zh")
    chosen = lookup(client, "(415) 555-0100", lang="zh", region="US")

    assert guessed["status"] == "unreadable"
    assert "+86 10 1234 5678" in guessed["message"]  # the example is Chinese
    assert (chosen["status"], chosen["number"]) == ("calls_you", "+14155550100")
    assert "是我们的号码" in chosen["message"]


def test_a_country_that_does_not_exist_is_a_422_naming_the_region(client):
    response = client.get("/api/v1/lookup", query_string={"number": "0612345678", "region": "XX"})

    assert response.status_code == 422
    assert "region" in str(response.get_json()["error"])


def test_the_browsers_country_reads_a_number_typed_without_its_code(client):
    sydney = lookup(client, "02 9374 4000", headers={"Accept-Language": "en-AU,en;q=0.8"})
    from_britain = lookup(client, "02 9374 4000", headers={"Accept-Language": "en-GB"})

    assert (sydney["status"], sydney["number"]) == ("not_ours", "+61293744000")
    assert from_britain["status"] == "unreadable"


def test_lookups_of_one_number_count_together_however_it_is_typed(app, client, rome):
    app.config["RATE_LIMITS"] = {"lookup:number": "2/hour"}
    first = client.get("/api/v1/lookup", query_string={"number": "06 1234 5678", "lang": "it"})
    second = client.get("/api/v1/lookup", query_string={"number": "+39 06 1234 5678"})
    third = client.get("/api/v1/lookup", query_string={"number": "0039 0612345678"})

    assert [r.status_code for r in (first, second, third)] == [200, 200, 429]


# ----- one's own number: the reference check and the reports -----


def call_check(client, reference, phone, **extra):
    return client.post(
        "/api/v1/call-checks", json={"reference": reference, "phone": phone, **extra}
    )


def test_the_chosen_country_wins_over_the_language_for_ones_own_number(
    client, app, simulator, customer, clock
):
    placed = place(app, simulator, keys=["", "", ""])  # to +39 333 123 4567
    clock.set(placed.call.created_at)
    reference = placed.call.reference

    italy = call_check(client, reference, "333 123 4567", region="IT", lang="en").get_json()
    # 333 123 4567 is a valid British number too: in English, without a country, it is that one.
    britain = call_check(client, reference, "333 123 4567", lang="en").get_json()

    assert (italy["called"], britain["called"]) == (True, False)


def test_ones_own_number_that_cannot_be_read_is_a_422_asking_for_the_country_code(client):
    response = call_check(client, "123456", "12 34", lang="it")
    report = client.post(
        "/api/v1/reports", json={"number": "+39 06 1234 5678", "reporter_phone": "555 0100"}
    )

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["field"], error["code"]) == ("phone", "unreadable_phone")
    assert "prefisso del paese" in error["message"]
    assert report.status_code == 422
    assert report.get_json()["error"]["field"] == "reporter_phone"
    assert "country code" in report.get_json()["error"]["message"]


def reports(app) -> list[tuple[str | None, bool, str | None]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(ScamReport).order_by(ScamReport.created_at)).all()
        return [(r.reported_number, r.number_official, r.reporter_phone) for r in rows]


def test_a_reported_number_is_read_like_a_looked_up_one(client, app, clock, rome, paris):
    clock.advance(seconds=1)
    ours = client.post(
        "/api/v1/reports",
        json={"number": "(415) 555-0100", "reporter_phone": "333 123 4567", "region": "IT"},
    )
    clock.advance(seconds=1)
    # Rome's number or a French mobile, both ours: kept as typed, and flagged as ours.
    either = client.post("/api/v1/reports", json={"number": "06 12 34 56 78"})
    clock.advance(seconds=1)
    nobodys = client.post("/api/v1/reports", json={"number": "+49 30 12345678"})

    assert [r.status_code for r in (ours, either, nobodys)] == [201, 201, 201]
    assert reports(app) == [
        ("+14155550100", True, "+393331234567"),
        ("0612345678", True, None),
        ("+493012345678", False, None),
    ]


# ----- the page -----


def check(client, number, headers=None, **params):
    return client.get(
        "/check", query_string={"number": number, **params}, headers=headers or {}
    ).get_data(as_text=True)


def selected_country(page: str, select_id: str) -> str:
    select = page.split(f'<select id="{select_id}"')[1].split("</select>")[0]
    return re.search(r'<option value="([A-Z]{2})" selected>', select).group(1)


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("(415) 555-0100", "+1 415-555-0100"),
        ("415 555 0100", "+1 415-555-0100"),
        ("06 1234 5678", "+39 06 1234 5678"),
    ],
)
def test_the_english_page_answers_ours_for_our_numbers_typed_nationally(
    client, rome, typed, read_as
):
    page = check(client, typed, lang="en")

    assert 'data-status="calls_you"' in page
    assert f'<strong class="typed">{typed}</strong>' in page  # shown back as typed
    assert f"read as {read_as}" in page
    assert f'value="{typed}"' in page  # and kept in the box


def test_the_page_says_it_could_not_read_an_ambiguous_number_where_the_person_looks(
    client, rome, paris
):
    page = check(client, "06 12 34 56 78", lang="pl")

    assert 'data-status="unreadable"' in page
    assert "Nie udało nam się odczytać tego numeru" in page
    assert "To nie jest nasz numer" not in page
    assert 'value="06 12 34 56 78"' in page
    # The answer is right under its form, which sends the person there; it takes the focus.
    assert 'action="/check#number-answer"' in page
    assert '<div id="number-answer" class="slot" tabindex="-1" autofocus>' in page
    assert page.index('id="number-answer"') < page.index('id="reference-title"')


def test_the_page_lets_the_person_pick_the_country_in_their_language(client):
    english = check(client, "0152 12345678", lang="en", region="DE")
    default = client.get("/check?lang=it").get_data(as_text=True)
    american = client.get("/check", headers={"Accept-Language": "en-US"}).get_data(as_text=True)

    assert 'data-status="not_ours"' in english and "read as +49 1521 2345678" in english
    assert selected_country(english, "number-region") == "DE"  # kept after the check
    assert selected_country(english, "report-region") == "DE"
    assert '<label for="number-region">Your country</label>' in english
    assert selected_country(default, "number-region") == "IT"
    assert '<option value="IT" selected>Italia (+39)</option>' in default
    assert '<label for="number-region">Il Suo paese</label>' in default
    assert selected_country(american, "number-region") == "US"


def test_the_reference_form_reads_in_the_picked_country_and_keeps_its_inputs(
    client, app, simulator, customer, clock
):
    placed = place(app, simulator, keys=["", "", ""])
    clock.set(placed.call.created_at)
    form = {"lang": "en", "reference": placed.call.reference, "phone": "333 123 4567"}

    yes = client.post("/check/reference", data={**form, "region": "IT"}).get_data(as_text=True)
    unreadable = client.post("/check/reference", data={**form, "phone": "12 34"})

    assert 'data-called="true"' in yes
    assert f'value="{placed.call.reference}"' in yes and 'value="333 123 4567"' in yes
    assert selected_country(yes, "phone-region") == "IT"
    page = unreadable.get_data(as_text=True)
    assert unreadable.status_code == 422
    assert "We could not read this phone number. Please type it with its country code" in page
    assert 'value="12 34"' in page and f'value="{placed.call.reference}"' in page
    # The error is at its field, read with it, and the field takes the focus.
    assert (
        'id="phone" name="phone" autocomplete="tel" value="12 34" aria-invalid="true" '
        'aria-describedby="phone-error" autofocus required>'
    ) in page
    error = page.split('<p class="error field-error" id="phone-error" data-field="phone">')[1]
    assert error.startswith("We could not read this phone number.")
    assert 'id="reference-answer"' not in page


def test_the_report_form_keeps_its_inputs_after_an_error_and_confirms_by_itself(client, app, rome):
    form = {
        "lang": "it",
        "number": "06 1234 5678",
        "called_at": "not a time",
        "asked_for": ["pin", "move_money"],
        "description": "Dicevano di essere la banca",
    }

    refused = client.post("/check/report", data=form)
    filed = client.post("/check/report", data={**form, "called_at": "2026-11-23T09:15"})

    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Controlli data e ora" in page
    assert 'id="called-at" name="called_at" value="not a time" aria-invalid="true"' in page
    assert page.index('id="called-at-error"') < page.index("<fieldset>")  # under its field
    assert 'value="06 1234 5678"' in page and 'value="not a time"' in page
    assert 'value="pin" checked' in page and 'value="move_money" checked' in page
    assert 'value="sms_code" checked' not in page
    assert ">Dicevano di essere la banca</textarea>" in page
    done = filed.get_data(as_text=True)
    assert filed.status_code == 200 and "Grazie" in done
    assert '<div id="report-answer" class="slot" tabindex="-1" autofocus>' in done
    assert 'action="/check/report#report-answer"' in done
    assert reports(app) == [(ROME, True, None)]


# ----- the phone line -----


def test_the_line_reads_one_of_our_numbers_keyed_as_the_callers_phone_shows_it(app, simulator):
    _, heard = ring_the_line(app, simulator, "+447911123456", ["4155550100#", "2"])

    assert any("is ours: Verification calls" in text for text in heard), heard


def test_the_line_asks_again_for_a_number_of_two_countries_then_reads_it(
    app, simulator, rome, paris
):
    _, heard = ring_the_line(
        app, simulator, "+447911123456", ["0612345678#", "0033612345678#", "2"]
    )

    could_not = [t for t in heard if t.startswith("Sorry, we could not read the number")]
    assert len(could_not) == 1 and "starting with 0 0" in could_not[0]
    assert not any("is not one of ours" in text for text in heard)
    assert any("is ours: Paris mobile" in text for text in heard), heard


def test_the_line_reports_an_unsettled_number_flagged_as_possibly_ours(app, simulator, rome, paris):
    # The caller keys a number of two countries, then gives up on it and reports the call.
    ring_the_line(app, simulator, "+447911123456", ["0612345678#", "#", "1", "4"])

    assert reports(app) == [("0612345678", True, "+447911123456")]


def test_the_page_says_when_to_try_again_as_the_api_does(app, client, rome):
    app.config["RATE_LIMITS"] = {"lookup:number": "1/hour"}
    first = client.get("/check", query_string={"number": "+39 06 1234 5678", "lang": "it"})
    second = client.get("/check", query_string={"number": "06 1234 5678", "lang": "it"})

    assert (first.status_code, second.status_code) == (200, 429)
    assert "Retry-After" not in first.headers
    assert 0 < int(second.headers["Retry-After"]) <= 3600
    assert "text/html" in second.headers["Content-Type"]  # a page, in the reader's words

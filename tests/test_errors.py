"""Errors: a person's browser gets a page in their language with a way back; programs get JSON."""

from __future__ import annotations

import logging

import pytest

from app.errors import RateLimited

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def page_only(app):
    if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("no data is read: once, on SQLite, is enough")
    return app


def browse(app, path: str, language: str = "en", method: str = "get"):
    headers = {"Accept": BROWSER, "Accept-Language": language}
    return getattr(app.test_client(), method)(path, headers=headers)


@pytest.mark.parametrize(
    ("language", "lang", "heading", "home"),
    [
        ("en-GB,en;q=0.9", "en", "We cannot find that page", "Go to our home page"),
        ("it-IT,it;q=0.9", "it", "Non troviamo questa pagina", "Vada alla nostra pagina iniziale"),
        ("zh-CN,zh;q=0.9", "zh", "找不到该页面", "前往我们的首页"),
    ],
)
def test_a_mistyped_address_is_a_page_in_the_readers_language_with_a_way_back(
    page_only, language, lang, heading, home
):
    response = browse(page_only, "/chek", language)

    page = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert f'<html lang="{lang}">' in page and f"<h1>{heading}</h1>" in page
    assert f'<a href="/?lang={lang}">{home}</a>' in page
    assert f'href="/check?lang={lang}"' in page  # the call check, for a worried customer
    assert '<main id="main">' in page and 'rel="icon"' in page
    assert '"error"' not in page and "requested URL" not in page  # no JSON, no Werkzeug words
    assert "Accept" in response.headers["Vary"]  # caches keep the page apart from the JSON


def test_the_lang_parameter_picks_an_error_pages_language(page_only):
    page = browse(page_only, "/nowhere?lang=pl").get_data(as_text=True)

    assert '<html lang="pl">' in page and "Nie możemy znaleźć tej strony" in page


def test_a_wrong_method_is_a_page_that_still_names_the_allowed_methods(page_only):
    response = browse(page_only, "/", "it", method="post")

    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "Questa pagina non può essere usata in questo modo" in response.get_data(as_text=True)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/nothing-here", {"Accept": BROWSER}),  # the API: always JSON
        ("/twilio/voice/nothing-here", {"Accept": BROWSER}),  # Twilio's webhooks too
        ("/chek", {}),  # no Accept header (curl, scripts)
        ("/chek", {"Accept": "application/json"}),
        ("/chek", {"Accept": "*/*"}),
    ],
)
def test_programs_keep_the_json_error_shape(page_only, path, headers):
    response = page_only.test_client().get(path, headers=headers)

    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "not_found"
    assert set(response.get_json()["error"]) == {"code", "message", "field"}


def test_too_many_requests_and_our_own_faults_are_pages_for_people(page_only, caplog):
    page_only.config["PROPAGATE_EXCEPTIONS"] = False

    def limited() -> str:
        raise RateLimited("too many lookups from your address", retry_after=30)

    def broken() -> str:
        raise RuntimeError("a bug")

    page_only.add_url_rule("/limited", view_func=limited)
    page_only.add_url_rule("/broken", view_func=broken)

    slow = browse(page_only, "/limited", "pl")
    fault = browse(page_only, "/broken", "zh")
    fault_for_a_program = page_only.test_client().get("/broken")

    assert slow.status_code == 429 and slow.headers["Retry-After"] == "30"
    assert "Zbyt wiele prób z tego miejsca" in slow.get_data(as_text=True)
    assert "too many lookups" not in slow.get_data(as_text=True)  # the program's words stay out
    assert fault.status_code == 500 and "我们这边出了问题" in fault.get_data(as_text=True)
    assert "a bug" not in fault.get_data(as_text=True)
    assert fault_for_a_program.get_json()["error"]["code"] == "internal_error"
    assert any(
        record.levelno == logging.ERROR and record.exc_info for record in caplog.records
    )  # the fault is logged with its traceback, for us


def test_a_form_too_large_to_read_is_a_page_for_a_person_and_json_for_a_program(page_only):
    body = {"lang": "pl", "text": "x" * (3 * 1024 * 1024)}  # a form that cannot be read...
    headers = {"Accept": BROWSER, "Accept-Language": "it-IT,it"}  # ...so the browser's language

    person = page_only.test_client().post("/complaints", data=body, headers=headers)
    program = page_only.test_client().post("/complaints", data=body)

    assert person.status_code == 413 and person.mimetype == "text/html"
    assert "Troppi dati da inviare in una volta" in person.get_data(as_text=True)
    assert program.status_code == 413 and program.get_json()["error"]["code"] == "too_large"

"""The home page: what a worried customer reads first, in their language."""

from __future__ import annotations

import pytest

from tests.conftest import make_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def page_only(app):
    if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("the page reads no data: once, on SQLite, is enough")
    return app


@pytest.mark.parametrize(
    ("lang", "never", "how"),
    [
        (
            "en",
            "We will never ask you for your password, your PIN, your card details",
            "How we call you",
        ),
        (
            "it",
            "Non Le chiederemo mai la password, il PIN, i dati della carta",
            "Come si svolgono le nostre chiamate",
        ),
        ("pl", "Nigdy nie poprosimy o hasło, PIN, dane karty", "Jak do Państwa dzwonimy"),
        ("zh", "我们绝不会向您索要密码、PIN码、银行卡信息或短信验证码", "我们如何给您打电话"),
    ],
)
def test_the_home_page_tells_a_customer_how_we_call_in_their_language(page_only, lang, never, how):
    page = page_only.test_client().get(f"/?lang={lang}").get_data(as_text=True)

    assert f'<html lang="{lang}">' in page
    assert never in page and how in page
    # Where to go next: check a call, check a number, complaints; in the same language.
    assert f'href="/check?lang={lang}#reference-title"' in page
    assert f'href="/check?lang={lang}#number-title"' in page
    assert f'href="/complaints?lang={lang}"' in page
    assert '<main id="main">' in page
    assert 'rel="icon" href="/static/favicon.svg"' in page
    # Nothing for developers on a customer's page.
    assert "/healthz" not in page and "openapi" not in page and "/simulator" not in page


def test_the_browsers_language_picks_the_home_pages(page_only):
    page = page_only.test_client().get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9"})

    assert '<html lang="pl">' in page.get_data(as_text=True)


def test_the_home_page_shows_developer_links_only_in_development(database_url):
    if "postgresql" in database_url:
        pytest.skip("the page reads no data: once, on SQLite, is enough")
    development = make_app(database_url, APP_ENV="development").test_client()
    production_like = make_app(database_url, APP_ENV="testing").test_client()

    shown = development.get("/?lang=zh").get_data(as_text=True)
    hidden = production_like.get("/?lang=zh").get_data(as_text=True)

    block = shown.split('data-testid="developers"')[1].split("</aside>")[0]
    assert 'href="/healthz"' in block and 'href="/api/v1/openapi.json"' in block
    assert 'href="/simulator/phone"' in block
    assert '<aside class="developers" lang="en"' in shown  # in English, and said so
    assert 'data-testid="developers"' not in hidden and "/healthz" not in hidden

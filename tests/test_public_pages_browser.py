"""Every public page a customer sees, in a real browser, in English and another language: axe finds
nothing critical or serious, errors sit at their field, and the screenshots are there to look at."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import check_accessibility, screenshots

pytestmark = pytest.mark.browser


@pytest.fixture
def served_once(app, served):
    if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("the pages are looked at without reading data: once, on SQLite, is enough")
    return served


def _look(page, tmp_path, name: str) -> None:
    check_accessibility(page, name)
    assert page.locator("main").count() == 1
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon.svg"
    page.screenshot(path=str(screenshots(tmp_path) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("lang", "heading"),
    [
        ("en", "how to be sure it is really us"),
        ("zh", "如何确认确实是我们"),
        ("pl", "jak upewnić się"),
    ],
)
def test_the_home_page(browser, served_once, tmp_path, lang, heading):
    page = browser.new_page(locale=lang, viewport={"width": 900, "height": 900})
    page.goto(f"{served_once}/")

    assert page.locator("html").get_attribute("lang") == lang
    assert heading in page.locator("h1").inner_text()
    _look(page, tmp_path, f"public-home-{lang}")
    page.get_by_role(
        "link", name={"en": "Check a number", "zh": "核实号码", "pl": "Sprawdź numer"}[lang]
    ).click()
    assert page.url.endswith(f"/check?lang={lang}#number-title")


@pytest.mark.parametrize(
    ("lang", "label", "button", "error"),
    [
        (
            "en",
            "The number that called you",
            "Check the number",
            "does not look like a phone number",
        ),
        (
            "it",
            "Il numero che Le ha telefonato",
            "Verifica il numero",
            "Non sembra un numero di telefono",
        ),
    ],
)
def test_the_check_page_and_an_error_at_its_field(
    browser, served_once, tmp_path, lang, label, button, error
):
    page = browser.new_page(locale=lang, viewport={"width": 420, "height": 800})
    page.goto(f"{served_once}/check")
    _look(page, tmp_path, f"public-check-{lang}")

    page.get_by_label(label).first.fill("call me")
    page.get_by_role("button", name=button).click()

    field = page.locator("#number")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "number"  # the person is taken there
    described = field.get_attribute("aria-describedby").split()
    assert "number-error" in described
    assert error in page.locator("#number-error").inner_text()
    box = page.locator("#number-error").bounding_box()
    assert box is not None and 0 <= box["y"] < 800  # in view on a phone's screen
    _look(page, tmp_path, f"public-check-error-{lang}")


@pytest.mark.parametrize(
    ("lang", "phone", "button", "error"),
    [
        ("en", "Your phone number", "Send the complaint", "Please tell us what happened"),
        ("pl", "Numer telefonu", "Wyślij reklamację", "Prosimy opisać, co się stało"),
    ],
)
def test_the_complaints_page_and_an_error_at_its_field(
    browser, served_once, tmp_path, lang, phone, button, error
):
    page = browser.new_page(locale=lang, viewport={"width": 900, "height": 900})
    page.goto(f"{served_once}/complaints")
    _look(page, tmp_path, f"public-complaints-{lang}")

    page.get_by_label(phone).first.fill("+44 20 7946 0123")
    page.get_by_role("button", name=button).click()

    text = page.locator("#text")
    assert text.get_attribute("aria-invalid") == "true"
    assert text.get_attribute("aria-describedby") == "text-error"
    assert error in page.locator("#text-error").inner_text()
    assert page.locator("#phone").input_value() == "+44 20 7946 0123"  # kept
    _look(page, tmp_path, f"public-complaints-error-{lang}")


@pytest.mark.parametrize(
    ("lang", "heading", "home"),
    [
        ("en", "We cannot find that page", "Go to our home page"),
        ("zh", "找不到该页面", "前往我们的首页"),
    ],
)
def test_an_error_page(browser, served_once, tmp_path, lang, heading, home):
    page = browser.new_page(locale=lang, viewport={"width": 900, "height": 700})
    response = page.goto(f"{served_once}/chek-a-call")

    assert response is not None and response.status == 404
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").inner_text() == heading
    _look(page, tmp_path, f"public-error-404-{lang}")
    page.get_by_role("link", name=home).click()
    assert page.locator("main h1").count() == 1 and page.url.endswith(f"/?lang={lang}")

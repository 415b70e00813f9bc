"""The sign-in page in a real browser, in two languages, with axe."""

from __future__ import annotations

import pytest

from tests.browser_fixtures import check_accessibility, screenshots


@pytest.mark.parametrize(
    ("lang", "heading"), [("en", "Sign in to the"), ("it", "Accedi alla console")]
)
def test_the_sign_in_page_is_readable_and_accessible(
    app, browser, served, tmp_path, lang, heading
) -> None:
    if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("the page reads no data: once, on SQLite, is enough")
    page = browser.new_page(locale=lang)
    page.goto(f"{served}/console/login")
    assert page.locator("html").get_attribute("lang") == lang
    assert heading in page.locator("h1").inner_text()
    check_accessibility(page, f"sign-in ({lang})")
    page.screenshot(path=str(screenshots(tmp_path) / f"sign-in-{lang}.png"), full_page=True)

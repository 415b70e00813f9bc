"""The desk (ringing, then with the caller) and the wall in a real browser, in English and in
Italian: every page passes axe (no critical or serious violation) and shows people's words, never
a value the system keeps. Screenshots go to SCREENSHOTS_DIR (or the test's tmp dir)."""

from __future__ import annotations

import pytest

from tests.agents.test_call_with_an_agent import an_agent, matter, route
from tests.agents.test_progressive import on_virtual_hold
from tests.browser_fixtures import check_accessibility, screenshots
from tests.console.conftest import sign_in_in_a_browser
from tests.console.test_desk import flagged_payment, ringing
from tests.console.test_desk_words import RAW, speaks

__all__ = ["matter"]  # the customer's open callback, a fixture

pytestmark = [
    pytest.mark.usefixtures("accounts", "lines", "customer", "clock"),
    pytest.mark.browser,
]
#: What each language calls what the test looks for and clicks.
WORDS = {
    "en": {
        "ringing": "A caller is ringing",
        "skill": "Fraud",
        "language": "Italian",
        "answer": "Answer",
        "say": "What you say",
        "say_button": "Say",
        "verified": "Verified by app code at",
        "wall": "The wall",
        "monitor": "Monitor",
        "listening": "You are listening in",
        "on_a_call": "On a call",
    },
    "it": {
        "ringing": "Chiamata in arrivo",
        "skill": "Frodi",
        "language": "Italiano",
        "answer": "Rispondi",
        "say": "Cosa dire",
        "say_button": "Di'",
        "verified": "Verificato con codice dell'app alle",
        "wall": "Monitor",
        "monitor": "Ascolta",
        "listening": "Sta ascoltando",
        "on_a_call": "In chiamata",
    },
}


def signed_in(browser, served, role: str, app):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    sign_in_in_a_browser(page, app, served, f"{role}@bank.example")
    return page


def visible(page) -> str:
    return page.locator("main").inner_text()


@pytest.mark.parametrize("lang", ["en", "it"])
def test_the_desk_and_the_wall_read_well_in_two_languages(
    browser, served, app, api, simulator, clock, dispatcher, tmp_path, lang
):
    words = WORDS[lang]
    shots = screenshots(tmp_path)
    ringing(app, api, simulator, dispatcher)
    speaks(app, "agent", lang)
    speaks(app, "supervisor", lang)
    desk = signed_in(browser, served, "agent", app)

    # Ringing: the caller's language and team, in the agent's words.
    desk.goto(f"{served}/console/desk")
    desk.get_by_test_id("offer").wait_for()
    assert desk.locator("html").get_attribute("lang") == lang
    assert words["ringing"] in visible(desk)
    assert desk.get_by_test_id("offer-skill").text_content() == words["skill"]
    assert desk.get_by_test_id("offer-language").text_content() == words["language"]
    check_accessibility(desk, f"the desk ringing ({lang})")
    desk.screenshot(path=str(shots / f"desk-ringing-{lang}.png"), full_page=True)
    assert not RAW.search(visible(desk)), RAW.search(visible(desk))

    # With the caller: the screen pop, the agent talks, the line's log names people.
    desk.get_by_role("button", name=words["answer"], exact=True).click()
    desk.get_by_test_id("pop").wait_for()
    assert desk.get_by_test_id("verification").text_content().startswith(words["verified"])
    desk.get_by_label(words["say"]).fill("Buongiorno, sono Anna della banca.")
    desk.get_by_role("button", name=words["say_button"], exact=True).click()
    desk.get_by_test_id("line-log").filter(has_text="Buongiorno, sono Anna").wait_for()
    check_accessibility(desk, f"the desk with a caller ({lang})")
    desk.screenshot(path=str(shots / f"desk-connected-{lang}.png"), full_page=True)
    assert not RAW.search(visible(desk)), RAW.search(visible(desk))

    # The wall: the live call, the supervisor listens in, the agents by presence.
    wall = signed_in(browser, served, "supervisor", app)
    wall.goto(f"{served}/console/wall")
    wall.get_by_role("heading", name=words["wall"], exact=True).wait_for()
    assert words["on_a_call"] in wall.get_by_test_id("agents").text_content()
    wall.get_by_role("button", name=words["monitor"]).first.click()
    wall.get_by_role("status").filter(has_text=words["listening"]).wait_for()
    check_accessibility(wall, f"the wall ({lang})")
    wall.screenshot(path=str(shots / f"wall-{lang}.png"), full_page=True)
    assert not RAW.search(visible(wall)), RAW.search(visible(wall))


def test_in_chinese_the_desk_says_we_call_the_customer_and_the_wall_shows_it(
    browser, served, app, api, tmp_path
):
    """An agent's "call now": their desk says we are calling the customer; the wall shows our
    call for them. Both in Simplified Chinese, both accessible."""
    shots = screenshots(tmp_path)
    matter_id = flagged_payment(api)
    speaks(app, "agent", "zh")
    speaks(app, "supervisor", "zh")
    desk = signed_in(browser, served, "agent", app)
    desk.goto(f"{served}/console/callbacks/{matter_id}")
    desk.get_by_test_id("call-now").click()
    desk.get_by_test_id("call-now-confirm").click()  # "call now" asks first

    desk.get_by_test_id("calling").wait_for()
    assert "正在呼叫客户" in desk.get_by_test_id("calling").text_content()
    assert "我的工作台" in visible(desk) and "暂无" in visible(desk)  # no team yet
    check_accessibility(desk, "the desk calling the customer (zh)")
    desk.screenshot(path=str(shots / "desk-calling-zh.png"), full_page=True)

    wall = signed_in(browser, served, "supervisor", app)
    wall.goto(f"{served}/console/wall")
    calls_back = wall.get_by_test_id("call-backs")
    calls_back.filter(has_text="正在为Agent呼叫客户").wait_for()
    check_accessibility(wall, "the wall with our call for an agent (zh)")
    wall.screenshot(path=str(shots / "wall-calling-zh.png"), full_page=True)
    assert not RAW.search(visible(wall)) and not RAW.search(visible(desk))


def test_the_wall_shows_the_agent_held_for_a_call_back_in_polish(
    browser, served, app, clock, dispatcher, simulator, matter, tmp_path
):
    an_agent(app, "Anna Bianchi")
    on_virtual_hold(app, clock, dispatcher, simulator)
    route(app)  # their turn: Anna is held for them, and we call them back
    speaks(app, "supervisor", "pl")
    wall = signed_in(browser, served, "supervisor", app)

    wall.goto(f"{served}/console/wall")

    wall.get_by_test_id("call-backs").filter(
        has_text="Oddzwaniamy do klienta dla: Anna Bianchi"
    ).wait_for()
    assert "Zarezerwowany na oddzwonienie" in wall.get_by_test_id("agents").text_content()
    assert "Oddzwaniamy (Anna Bianchi)" in wall.get_by_test_id("waiting").text_content()
    check_accessibility(wall, "the wall with an agent held for a call back (pl)")
    wall.screenshot(path=str(screenshots(tmp_path) / "wall-held-pl.png"), full_page=True)
    assert not RAW.search(visible(wall))

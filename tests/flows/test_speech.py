"""Spoken answers: which choice a caller said, and the definition check of menus' `speech`."""

from __future__ import annotations

import pytest
import yaml

from app.flows.definition import FLOWS_DIRECTORY, load_common_words, load_flows
from app.flows.speech import heard_choice, hints, normalized
from tests.flows.test_definition import SHIPPED, problems_of, prompts  # noqa: F401
from tests.flows.test_registered_actions import registered_actions

WORDS = load_common_words()
YES_NO = {"1": WORDS["yes"], "2": WORDS["no"], "0": WORDS["agent"]}


@pytest.fixture
def alert() -> dict:
    return yaml.safe_load((FLOWS_DIRECTORY / "transaction_alert.yaml").read_text())


def test_case_accents_and_punctuation_do_not_matter():
    assert normalized("  Sì!  Dwójka, ŁÓDŹ. ") == "si dwojka lodz"
    assert normalized("是的。") == "是的"


@pytest.mark.parametrize(
    ("said", "locale", "key"),
    [
        ("Yes.", "en", "1"),
        ("It wasn't me", "en", "2"),
        ("two", "en", "2"),
        ("SI", "it", "1"),
        ("non ero io", "it", "2"),
        ("uno", "it", "1"),
        ("Tak!", "pl", "1"),
        ("jeden", "pl", "1"),
        ("konsultanta proszę", "pl", "0"),
        ("是的", "zh", "1"),
        ("不是", "zh", "2"),  # not also heard as 是 (yes)
        ("一", "zh", "1"),
        ("人工", "zh", "0"),
        ("没错", "zh", "1"),
        ("不", "zh", "2"),
        ("不对，不是我", "zh", "2"),
        ("我要找真人", "zh", "0"),
    ],
)
def test_a_word_or_a_spoken_digit_chooses_its_key(said, locale, key):
    assert heard_choice(said, ["1", "2", "0"], YES_NO, locale) == key


@pytest.mark.parametrize("said", ["banana", "yes no", "", "?!"])
def test_no_match_or_two_matches_is_no_choice(said):
    assert heard_choice(said, ["1", "2", "0"], YES_NO, "en") is None


def test_words_of_another_language_are_not_heard():
    assert heard_choice("tak", ["1", "2"], YES_NO, "en") is None


def test_hints_list_the_words_of_the_callers_language():
    assert hints(["1", "2"], YES_NO, "pl").split(", ")[:2] == ["tak", "zgadza się"]
    assert "jeden" in hints(["1", "2"], YES_NO, "pl")


def test_every_shipped_menu_hears_words_in_every_language():
    flows = load_flows(actions=registered_actions())
    menus = [
        (flow.name, name, node)
        for flow in flows.values()
        if flow.name in SHIPPED
        for name, node in flow.nodes.items()
        if node["type"] == "gather" and "choices" in node
    ]
    assert menus
    for flow, name, node in menus:
        assert "speech" in node, (flow, name)
        for words in node["speech"].values():
            assert all(words[language] for language in ("en", "it", "pl", "zh")), (flow, name)


def test_a_menu_without_speech_stays_valid(alert, prompts):  # noqa: F811
    del alert["nodes"]["ask_confirm"]["speech"]

    assert problems_of(alert, prompts) == []


def test_speech_on_a_code_question_is_refused(alert, prompts):  # noqa: F811
    alert["nodes"]["verify"]["speech"] = {"1": "@yes"}

    problems = problems_of(alert, prompts)

    assert any("node verify: speech is only for menus" in p for p in problems), problems


def test_speech_on_a_number_question_is_refused(alert, prompts):  # noqa: F811
    node = alert["nodes"]["ask_confirm"]
    del node["choices"]
    node.update(digits=4, next="confirmed")

    problems = problems_of(alert, prompts)

    assert any("codes and numbers stay keypad-only" in p for p in problems), problems


@pytest.mark.parametrize(
    ("speech", "words"),
    [
        ({"7": "@yes"}, "'7' is not one of the menu's keys"),
        ({"1": "@maybe"}, "'@maybe' is not a shared word list"),
        ({"1": {"en": ["yes"]}}, "speech 1: missing the 'it' words"),
        ({"1": {"en": "yes", "it": "sì", "pl": "tak", "zh": "是", "fr": "oui"}}, "unknown lang"),
    ],
)
def test_bad_speech_is_refused_naming_the_problem(alert, prompts, speech, words):  # noqa: F811
    alert["nodes"]["ask_confirm"]["speech"] = speech

    problems = problems_of(alert, prompts)

    assert any(words in p for p in problems), problems


def test_no_node_may_take_the_language_menus_name(alert, prompts):  # noqa: F811
    alert["nodes"]["_language"] = {"type": "hangup"}

    assert any("_language" in p for p in problems_of(alert, prompts))

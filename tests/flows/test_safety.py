"""The safety check: asks for a secret are refused in every language, our own wording is not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.flows.prompts import LANGUAGES, NEVER_ASK, SAFE_FALLBACK
from app.flows.safety import SAFETY_DIRECTORY, SafetyRulesError, load_rules, refusals

CORPUS = yaml.safe_load((Path(__file__).parent / "safety_corpus.yaml").read_text("utf-8"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_corpus_is_refused_and_passed_exactly_in_every_language(language):
    refuse, allow = CORPUS[language]["refuse"], CORPUS[language]["pass"]
    assert len(refuse) + len(allow) >= 60

    caught = [text for text in refuse if refusals(text)]
    wrongly = [text for text in allow if refusals(text)]
    flagged = len(caught) + len(wrongly)
    precision = len(caught) / flagged if flagged else 1.0
    recall = len(caught) / len(refuse)
    print(
        f"\nsafety corpus [{language}]: {len(refuse)} asks, {len(allow)} passes; "
        f"precision {precision:.1%}, recall {recall:.1%}"
    )

    assert [text for text in refuse if text not in caught] == [], "asks that were let through"
    assert wrongly == [], "our own wording or near misses that were refused"


def test_a_refusal_names_the_secret_and_the_words_as_written():
    (refusal,) = refusals("Please, READ me the code we texted you.")

    assert refusal.secret == "a code sent to them"
    assert refusal.ask == "READ"
    assert refusal.words == "code we texted"
    assert refusal.describe() == 'asks for a code sent to them ("READ" ... "code we texted")'


@pytest.mark.parametrize(
    "text",
    [
        "ＴＥＬＬ ＭＥ ＹＯＵＲ ＰＩＮ",  # full-width letters
        "Podaj HASLO",  # no diacritics
        "PODAJ HASŁO",
        "Mi dica la PASSWORD, perché è urgente",
        "請告訴我您的簡訊驗證碼",  # traditional characters
        "Tell\u00a0me\n your   P.I.N. now",
        "Read me the co\u0301de we texted",  # a combining accent
    ],
)
def test_case_accents_width_spacing_and_script_do_not_hide_an_ask(text):
    assert refusals(text), text


def test_the_promise_and_the_safe_fallback_pass_in_every_language():
    for language in LANGUAGES:
        assert refusals(NEVER_ASK[language]) == (), language
        assert refusals(SAFE_FALLBACK[language]) == (), language


@pytest.mark.parametrize(
    "text",
    [
        "We will never ask for your PIN. Now read me the code we texted you.",
        "We will never ask for your PIN, so tell me the code we texted you.",
        "Non le chiederemo mai il PIN; ora però mi dica il codice arrivato per SMS.",
        "Nigdy nie prosimy o PIN, ale teraz podaj kod z SMS-a.",
        "我们绝不会索要密码，但请告诉我短信验证码。",
    ],
)
def test_a_negation_elsewhere_in_the_text_whitelists_nothing(text):
    assert refusals(text), text


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    for path in SAFETY_DIRECTORY.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_the_shipped_rules_load(rules_copy):
    rules = load_rules(rules_copy)

    assert [language.language for language in rules.languages] == list(LANGUAGES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["asks"].update(speak=["tell (me"]), "en.yaml: asks: speak: 'tell (me' is not"),
        (lambda d: d["asks"].update(shout=["tell"]), "en.yaml: asks must map kinds of ask"),
        (lambda d: d["secrets"]["pin"].pop("name"), "en.yaml: secrets: pin: needs a name"),
        (lambda d: d.update(language="it"), "en.yaml: language must be 'en'"),
        (lambda d: d.update(colour="red"), "en.yaml: unknown keys ['colour']"),
        (lambda d: d["secrets"]["pin"].update(asks=["sing"]), "secrets: pin: asks must list"),
    ],
)
def test_a_broken_rules_file_is_refused_naming_the_entry(rules_copy, change, message):
    path = rules_copy / "en.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")

    with pytest.raises(SafetyRulesError) as error:
        load_rules(rules_copy)

    assert message in str(error.value)


def test_rules_missing_a_language_are_refused(rules_copy):
    (rules_copy / "pl.yaml").unlink()

    with pytest.raises(SafetyRulesError, match="missing the rules of pl"):
        load_rules(rules_copy)


def test_traditional_forms_must_map_to_simplified_forms_of_the_same_length(rules_copy):
    (rules_copy / "zh-variants.yaml").write_text("variants:\n  密碼: 密\n", "utf-8")

    with pytest.raises(SafetyRulesError, match=r"zh-variants\.yaml: variants must map"):
        load_rules(rules_copy)

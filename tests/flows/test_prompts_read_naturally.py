"""What we say and text to people reads naturally in each language, whoever listens.

We do not know the listener's gender, and Polish names change with their grammatical case
("do Ala" is wrong, "do Ali" right, and we cannot decline a name we do not know). So the prompts
(call_flows/*.yaml, the engine's own texts) and the texts we send (SMS, the number checker's
answers) are written in forms that need neither: impersonal or passive Polish ("zostało założone
przez Państwa"), a name only after a colon ("przeznaczona dla: {name}"), Italian with "Lei" and no
adjective or participle that agrees with the listener.

These checks are short lists, not a grammar: each catches a mistake we made once or can make
easily. A sentence they refuse is rewritten; a word they miss is added here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.authenticity import texts as authenticity_texts
from app.callbacks import messages as callback_messages
from app.complaints import texts as complaint_texts
from app.flows import prompts as engine_prompts
from app.fraud import messages as fraud_messages

FLOWS = Path(__file__).resolve().parents[2] / "call_flows"
TEXT_MODULES = (
    engine_prompts,
    authenticity_texts,
    callback_messages,
    complaint_texts,
    fraud_messages,
)

#: Placeholders filled with a proper name (a person's, a company's or a merchant's): Polish
#: declines them after these prepositions and titles, and we cannot.
NAMES = ("name", "company", "merchant", "beneficiary")
PL_CASE_WORDS = [
    *("do", "dla", "od", "z", "ze", "u", "o", "przez", "w", "we", "na", "za", "po", "przy"),
    *("bez", "ku", "Pan", "Pani", "Pana", "Panu", "Panią", "Panem", "Panie"),
    *("Państwa", "Państwu", "Państwem"),
]
PL_NAME_AFTER_CASE_WORD = re.compile(
    r"(?<!\w)(?:" + "|".join(PL_CASE_WORDS) + r")\s+\{(?:" + "|".join(NAMES) + r")\}"
)
#: Second-person past and conditional forms that carry a gender (założyłeś, założyłaś,
#: zrobiłbyś, zrobiłabyś, zrobiliście, zrobiłyście), and "Państwo" with a past-tense verb in -li
#: (the masculine-personal plural: "Państwo zlecili", "Dodzwonili się Państwo"). A passive or
#: impersonal form says the same for anyone: "czy płatność została wykonana przez Państwa?".
PL_GENDERED = re.compile(
    r"\w+(?:łeś|łaś|łbyś|łabyś|liście|łyście)\b"
    r"|\b\w+li\s+(?:się\s+)?Państwo\b"
    r"|\bPaństwo\s+(?:się\s+)?\w+li\b"
    r"|\b(?:pewien|pewna|pewny|pewni|zadowolony|zadowolona|zadowoleni|gotowy|gotowa|gotowi"
    r"|przekonany|przekonana|przekonani|poinformowany|poinformowana|poinformowani"
    r"|zalogowany|zalogowana|zalogowani)\b",
    re.IGNORECASE,
)
#: Italian adjectives and participles that, in our texts, could only describe the listener:
#: "è sicuro/a?", "quanto è soddisfatto/a?", "è stato/a contattato/a", "se è certo/a". Neutral:
#: "Ha effettuato Lei...?", "come valuta...?", "se ha la certezza".
IT_GENDERED = re.compile(
    r"\b(?:sicur[oa]|soddisfatt[oa]|content[oa]|convint[oa]|interessat[oa]|benvenut[oa]|pront[oa]"
    r"|stat[oa] contattat[oa]|è cert[oa])\b",
    re.IGNORECASE,
)
#: The courtesy pronoun "La" (capital L', the listener) before a participle, which then agrees
#: with the listener's gender: "il numero che L'ha chiamata". Neutral: "il numero che Le ha
#: telefonato".
IT_COURTESY_AGREEMENT = re.compile(r"\bL'(?:ha|hanno|abbiamo|avevamo)\s+\w+t[oaie]\b")
#: Mandarin addresses the listener with the polite 您, never 你.
ZH_INFORMAL = re.compile("你")
#: Mandarin says each thing with one word everywhere (the calls, the texts, the pages and the
#: console), so a caller who heard "编号" on the phone finds "编号" in the text and on the page:
#: the word we dropped, and the one we say instead.
ZH_ONE_WORD = {
    "参考号": "编号 (a reference)",
    "提现": "取款 (a withdrawal)",
    "卡片背面": "银行卡背面 (the back of the card)",
    "工作人员": "客服 (the person a customer speaks to)",
    "客服专员": "坐席 (an agent, in the console)",
    "进入了您的账户": "盗用了您的账户 (someone is in your account)",
}
ZH_DROPPED_WORD = re.compile("|".join(ZH_ONE_WORD))
#: The code from our app is a 验证码; a bare 代码 is program code to a Chinese ear (a country's
#: or a currency's code, in the console's API messages, stays 代码).
ZH_BARE_CODE = re.compile(r"(?<!国家)(?<!ISO 4217 )代码")


def _texts(value: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """Every (where, language, text) in a YAML document or a module's dictionaries."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("it", "pl", "zh") and isinstance(item, str):
                yield where, key, item
            else:
                yield from _texts(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _texts(item, f"{where}[{index}]")


def all_texts() -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for path in sorted(FLOWS.glob("*.yaml")):
        found += _texts(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    for module in TEXT_MODULES:
        for name, value in vars(module).items():
            if name.isupper():
                found += _texts(value, f"{module.__name__}.{name}")
    return found


def offending(language: str, *patterns: re.Pattern[str]) -> list[str]:
    return [
        f"{where}: {match.group(0)!r} in {text!r}"
        for where, lang, text in all_texts()
        if lang == language
        for pattern in patterns
        for match in pattern.finditer(text)
    ]


def test_the_texts_are_found():
    found = all_texts()
    assert {lang for _, lang, _ in found} == {"it", "pl", "zh"}
    assert len(found) > 300  # every flow's prompts, and the SMS and page answers
    assert any(where.startswith("app.fraud.messages") for where, _, _ in found)


def test_polish_never_declines_a_name():
    assert offending("pl", PL_NAME_AFTER_CASE_WORD) == []


def test_polish_never_assumes_the_listeners_gender():
    assert offending("pl", PL_GENDERED) == []


def test_italian_never_assumes_the_listeners_gender():
    assert offending("it", IT_GENDERED, IT_COURTESY_AGREEMENT) == []


def test_mandarin_is_polite():
    assert offending("zh", ZH_INFORMAL) == []


def test_mandarin_says_each_thing_with_one_word():
    assert offending("zh", ZH_DROPPED_WORD, ZH_BARE_CODE) == []


@pytest.mark.parametrize(
    ("language", "pattern", "text"),
    [
        ("pl", PL_NAME_AFTER_CASE_WORD, "Dzień dobry, tu {company}, dzwonimy do {name}."),
        ("pl", PL_NAME_AFTER_CASE_WORD, "Płatność dla {merchant}."),
        ("pl", PL_GENDERED, "Jeśli to Ty założyłeś to konto, naciśnij 1."),
        ("pl", PL_GENDERED, "Czy założyłaś to konto?"),
        ("pl", PL_GENDERED, "Jeśli to Państwo zlecili tę zmianę, prosimy nacisnąć 1."),
        ("pl", PL_GENDERED, "Dodzwonili się Państwo do obsługi klienta."),
        ("pl", PL_GENDERED, "Czy są Państwo pewni?"),
        ("it", IT_GENDERED, "Quanto è soddisfatto di questa chiamata?"),
        ("it", IT_GENDERED, "È sicura di voler continuare?"),
        ("it", IT_COURTESY_AGREEMENT, "Digiti il numero che L'ha chiamata."),
        ("zh", ZH_INFORMAL, "你好，请按1。"),
        ("zh", ZH_DROPPED_WORD, "本次通话的参考号是{reference}。"),
        ("zh", ZH_BARE_CODE, "请输入应用中显示的一次性代码。"),
    ],
)
def test_the_checks_catch_the_mistakes_they_are_for(language, pattern, text):
    assert pattern.search(text), text


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (PL_NAME_AFTER_CASE_WORD, "Tu {company}. Ta rozmowa jest przeznaczona dla: {name}."),
        (PL_GENDERED, "Czy to konto zostało założone przez Państwa?"),
        (PL_GENDERED, "Jeśli nie chcą Państwo takich połączeń, prosimy nacisnąć 9."),
        (PL_GENDERED, "Nie udało się potwierdzić tożsamości."),
        (IT_GENDERED, "Se ha fatto Lei questo pagamento, prema 1."),
        (IT_COURTESY_AGREEMENT, "Se non l'ha chiesta Lei, prema 2."),  # l': the change, not Lei
        (ZH_DROPPED_WORD, "本次通话的编号是{reference}。"),
        (ZH_BARE_CODE, "data.country：请使用两个字母的国家代码"),
    ],
)
def test_the_checks_pass_the_neutral_forms(pattern, text):
    assert not pattern.search(text), text

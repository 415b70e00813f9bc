"""The gettext catalogs: every text a page or the console shows is translated into each language,
and what the app reads (.mo) is what the translators wrote (.po)."""

from __future__ import annotations

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.flows.test_prompts_read_naturally import (
    IT_COURTESY_AGREEMENT,
    IT_GENDERED,
    PL_GENDERED,
    ZH_BARE_CODE,
    ZH_DROPPED_WORD,
    ZH_INFORMAL,
)

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
LANGUAGES = ("it", "pl", "zh")

# Words that can only address the reader informally. A bank speaks formally to customers and in
# its staff tools: Italian with "Lei", Polish with "Państwo" or impersonal forms, Chinese with 您.
# Imperatives are not listed: short button labels ("Salva", "Zapisz") use them in either register.
INFORMAL = {
    "it": re.compile(r"\b(tu|ti|te|tuo|tua|tuoi|tue|hai|puoi|vuoi|devi|stai)\b", re.IGNORECASE),
    "pl": re.compile(
        r"\b(ty|cię|ciebie|tobie|tobą|twój|twoja|twoje|twojego|twojej|twojemu|twoim|twoich|twoją"
        r"|twoi|twoimi|masz|możesz|chcesz|jesteś|musisz|wiesz)\b",
        re.IGNORECASE,
    ),
    "zh": re.compile("你"),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")

# The reader's gender is as unknown on the pages and in the console as on a call: the same lists
# the call prompts are checked with (tests/flows/test_prompts_read_naturally.py) apply here.
GENDERED = {
    "it": (IT_GENDERED, IT_COURTESY_AGREEMENT),
    "pl": (PL_GENDERED,),
    "zh": (ZH_INFORMAL,),
}
# Phrases where a listed word describes a thing, not the reader. They are removed before the
# check; every entry is a whole phrase, so the same word said of the reader is still caught.
NOT_ABOUT_THE_READER = {
    "it": (
        "luogo sicuro",  # "a safe place" (keep the recovery codes somewhere safe)
        "chiamata di benvenuto",  # "a welcome call", the call's name
    ),
    "pl": (),
    "zh": (),
}


def _extracted(tmp_path: Path) -> set[object]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
         str(ROOT / "babel.cfg"), "-k", "lazy_gettext", "-k", "_l", "--no-location", "-o",
         str(pot), "app"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def informal_texts(catalog: Catalog, language: str) -> dict[str, str]:
    """Each text whose translation addresses the reader informally, with the word that does."""
    found = {}
    for message in catalog:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        for string in strings:
            word = INFORMAL[language].search(PLACEHOLDER.sub("", string or ""))
            if message.id and word:
                found[str(message.id)] = word.group()
    return found


def gendered_texts(catalog: Catalog, language: str) -> dict[str, str]:
    """Each text whose translation assumes the reader's gender, with the words that do."""
    found = {}
    for message in catalog:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        for string in strings:
            text = PLACEHOLDER.sub("", string or "")
            for phrase in NOT_ABOUT_THE_READER[language]:
                text = text.replace(phrase, "")
            words = [m.group() for p in GENDERED[language] for m in p.finditer(text)]
            if message.id and words:
                found[str(message.id)] = ", ".join(words)
    return found


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[object]:
    return _extracted(tmp_path_factory.mktemp("pot"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated(language: str, extracted: set[object]) -> None:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {
        message.id
        for message in catalog
        if message.id
        and (
            all(message.string)
            if isinstance(message.string, (list, tuple))
            else bool(message.string)
        )
        and not message.fuzzy
    }
    missing = sorted(str(text) for text in extracted - translated)
    assert not missing, (
        f"{len(missing)} texts have no {language} translation (scripts/translations update, "
        f"then fill them in): {missing[:20]}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_current(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        written = {m.id: m.string for m in read_po(handle, locale=language) if m.id and m.string}
    with (folder / "messages.mo").open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(BytesIO(handle.read())) if m.id}
    assert compiled == written, "run scripts/translations compile and commit the .mo files"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_addresses_the_reader_formally(language: str) -> None:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        informal = informal_texts(read_po(handle, locale=language), language)
    assert not informal, (
        f"{len(informal)} {language} texts address the reader informally (text: word): "
        f"{dict(list(informal.items())[:10])}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_assumes_the_readers_gender(language: str) -> None:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        gendered = gendered_texts(read_po(handle, locale=language), language)
    assert not gendered, (
        f"{len(gendered)} {language} texts assume the reader's gender (text: words): "
        f"{dict(list(gendered.items())[:10])}"
    )


# Polish "Pan/Pani" written with a slash reads as a form to fill in, not as speech: the catalog
# says "Państwo" (or an impersonal form) instead, as the call prompts do.
BOTH_GENDERS_WITH_A_SLASH = re.compile(r"\bPan\w*\s*/\s*Pani\w*\b|\bPani\w*\s*/\s*Pan\w*\b")


def test_polish_never_names_both_genders_with_a_slash() -> None:
    with (TRANSLATIONS / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="pl")
    slashed = {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and BOTH_GENDERS_WITH_A_SLASH.search(str(message.string or ""))
    }
    assert not slashed, f"{len(slashed)} Polish texts say Pan/Pani: {list(slashed.items())[:5]}"
    assert BOTH_GENDERS_WITH_A_SLASH.search("dzwoni do Pana/Pani")  # the check can fail
    assert BOTH_GENDERS_WITH_A_SLASH.search("z Panem / Panią")


@pytest.mark.parametrize(
    ("language", "translation"),
    [
        ("pl", "Jeśli nie spodziewali się Państwo tej wiadomości, proszę poinformować kierownika."),
        ("pl", "Jest Pan/Pani zalogowany i gotowy do pracy."),
        ("pl", "Czy na pewno? Jest Pan pewien?"),
        ("pl", "Zapisałeś zmiany."),
        ("pl", "Jest Pani zalogowana."),
        ("it", "È pronto a ricevere chiamate."),
        ("it", "Benvenuto nella console."),
        ("it", "È sicuro di voler eliminare la bozza?"),
        ("it", "Proceda solo se è certa di chi lo sta chiedendo."),
        ("it", "Il numero che L'ha chiamata."),
        ("zh", "你的设置"),
    ],
)
def test_the_gender_check_catches_what_it_is_for(language: str, translation: str) -> None:
    catalog = Catalog(locale=language)
    catalog.add("Some text", translation)
    assert gendered_texts(catalog, language), translation


@pytest.mark.parametrize(
    ("language", "translation"),
    [
        ("pl", "Jeśli ta wiadomość jest nieoczekiwana, prosimy poinformować kierownika zmiany."),
        ("pl", "Zalogowano kodem odzyskiwania."),
        ("it", "Li conservi in un luogo sicuro, lontano dal telefono."),
        ("it", "nuova registrazione: chiamata di benvenuto e verifica"),
        ("it", "Il numero che Le ha telefonato"),
        ("it", "Proceda solo se ha la certezza di chi lo sta chiedendo."),
    ],
)
def test_the_gender_check_passes_neutral_forms(language: str, translation: str) -> None:
    catalog = Catalog(locale=language)
    catalog.add("Some text", translation)
    assert not gendered_texts(catalog, language), translation


def test_chinese_says_each_thing_with_one_word() -> None:
    # The words the calls use: 编号, 验证码, 取款, 坐席 in the console; and one word for a
    # callback (回电) and for the do-not-call list (免打扰名单).
    with (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh")
    other_words = re.compile(r"回拨|免呼叫|勿呼叫|勿扰名单")
    found = {
        message.id: message.string
        for message in catalog
        if message.id
        and isinstance(message.string, str)
        and (
            ZH_DROPPED_WORD.search(message.string)
            or ZH_BARE_CODE.search(message.string)
            or other_words.search(message.string)
        )
    }
    assert found == {}

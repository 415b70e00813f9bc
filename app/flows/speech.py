"""Spoken answers to a menu: the words each choice accepts, and which choice a caller said.

Twilio's <Gather input="dtmf speech"> posts what it heard as `SpeechResult`. A choice is heard
when its words (or the spoken digit of its key) are in what the caller said; a word that matches
no choice, or two, is no answer at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from app.flows.prompts import LANGUAGES

#: The spoken digits of each language: a caller may say "one" rather than press 1.
SPOKEN_DIGITS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "0": ("zero",),
        "1": ("one",),
        "2": ("two",),
        "3": ("three",),
        "4": ("four",),
        "5": ("five",),
        "6": ("six",),
        "7": ("seven",),
        "8": ("eight",),
        "9": ("nine",),
    },
    "it": {
        "0": ("zero",),
        "1": ("uno", "una"),
        "2": ("due",),
        "3": ("tre",),
        "4": ("quattro",),
        "5": ("cinque",),
        "6": ("sei",),
        "7": ("sette",),
        "8": ("otto",),
        "9": ("nove",),
    },
    "pl": {
        "0": ("zero",),
        "1": ("jeden", "jedynka", "jedna"),
        "2": ("dwa", "dwojka"),
        "3": ("trzy", "trojka"),
        "4": ("cztery", "czworka"),
        "5": ("piec", "piatka"),
        "6": ("szesc", "szostka"),
        "7": ("siedem", "siodemka"),
        "8": ("osiem", "osemka"),
        "9": ("dziewiec", "dziewiatka"),
    },
    "zh": {
        "0": ("零",),
        "1": ("一", "幺"),
        "2": ("二", "两"),
        "3": ("三",),
        "4": ("四",),
        "5": ("五",),
        "6": ("六",),
        "7": ("七",),
        "8": ("八",),
        "9": ("九",),
    },
}

#: How a choice's words are written in a flow: each language's words, resolved.
Words = dict[str, dict[str, list[str]]]


def normalized(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces ("Sì!" -> "si", "Dwójka." ->
    "dwojka"); Chinese characters stay as they are."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    kept = kept.replace("ł", "l")  # Polish ł has no decomposition
    kept = "".join(c if c.isalnum() else " " for c in kept)
    return " ".join(kept.split())


def _take(phrase: str, heard: str) -> str | None:
    """`heard` with the phrase blanked out where it was said, or None if it was not said."""
    phrase = normalized(phrase)
    if not phrase:
        return None
    if any(_is_cjk(c) for c in phrase):
        pattern = r"\s*".join(re.escape(c) for c in phrase)
    else:
        pattern = rf"(?<!\w){re.escape(phrase)}(?!\w)"
    blanked, found = re.subn(pattern, " | ", heard)
    return blanked if found else None


def _is_cjk(character: str) -> bool:
    return "\u3400" <= character <= "\u9fff"


def choice_words(
    keys: Iterable[str], words: Mapping[str, Mapping[str, list[str]]], locale: str
) -> dict[str, list[str]]:
    """Each key's words in this language: its own (if any) and its spoken digit."""
    spoken = SPOKEN_DIGITS.get(locale, SPOKEN_DIGITS["en"])
    return {key: [*words.get(key, {}).get(locale, []), key, *spoken.get(key, ())] for key in keys}


def heard_choice(
    speech: str, keys: Iterable[str], words: Mapping[str, Mapping[str, list[str]]], locale: str
) -> str | None:
    """The one key whose words the caller said; None when none, or more than one, matched."""
    heard = normalized(speech)
    if not heard:
        return None
    # Longest words first, each taken out of what was heard once matched: "不是" (no) is not
    # also heard as "是" (yes), nor "thirty" as "three".
    phrases = sorted(
        ((normalized(p), key) for key, ps in choice_words(keys, words, locale).items() for p in ps),
        key=lambda item: -len(item[0]),
    )
    matched = set()
    for phrase, key in phrases:
        rest = _take(phrase, heard)
        if rest is not None:
            matched.add(key)
            heard = rest
    return matched.pop() if len(matched) == 1 else None


def hints(keys: Iterable[str], words: Mapping[str, Mapping[str, list[str]]], locale: str) -> str:
    """Twilio's `hints` for a menu: the words it should expect, comma-separated."""
    seen: list[str] = []
    for phrases in choice_words(keys, words, locale).values():
        for phrase in phrases:
            if phrase not in seen and not phrase.isdigit():
                seen.append(phrase.replace(",", " "))
    return ", ".join(seen)


def word_list_problems(value: object) -> list[str]:
    """A choice's words: each language (en, it, pl, zh) to a word or a list of words."""
    if not isinstance(value, dict):
        return [f"words map each language ({', '.join(LANGUAGES)}) to a word or a list of words"]
    problems = []
    for language in LANGUAGES:
        words = value.get(language)
        if isinstance(words, str):
            words = [words]
        if not isinstance(words, list) or not words:
            problems.append(f"missing the {language!r} words")
        elif not all(isinstance(w, str) and normalized(w) for w in words):
            problems.append(f"the {language!r} words must be non-empty texts")
    extra = set(value) - set(LANGUAGES)
    if extra:
        problems.append(f"unknown languages {sorted(extra)}")
    return problems


def as_lists(value: Mapping[str, object]) -> dict[str, list[str]]:
    """A checked word list with every language's words as a list."""
    return {
        language: [str(w) for w in (words if isinstance(words, list) else [words])]
        for language, words in value.items()
    }

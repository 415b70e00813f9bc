"""The safety check: does a text ask the listener for a secret, in any of our languages?

A sentence is refused when an *ask* (tell, read out, type, confirm, "can you", "mi dica", "podaj",
"请告诉"...) governs a *secret* (a password, a PIN, card details, a code sent to the person, online
banking login details). The words of each language live in call_flows/safety/<language>.yaml,
where a reviewer can read them; this module only applies them:

1. the text is normalized (NFKC, case, accents, full-width forms, traditional Chinese) and cut
   into sentences, and sentences into clauses (commas, colons, and words like "and", "but");
2. each secret is governed by the ask nearest to it: first in its own clause (before it, then
   after it), then in its sentence; so "the code we texted you: read it to me" is refused and
   "we will never ask for your PIN, press 1" is not;
3. an ask is cancelled by a negation just before it ("we will never ask", "non le chiederemo
   mai", "nigdy nie poprosimy", "我们绝不会索要") or by a warning about others ("if anyone asks"),
   and only within its clause: a negation far away whitelists nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SAFETY_DIRECTORY = Path(__file__).resolve().parent.parent.parent / "call_flows" / "safety"
RULE_LANGUAGES = ("en", "it", "pl", "zh")

# Kinds of ask: what the listener is asked to do with the secret.
ASK_KINDS = {
    "speak": "say or hand it over (tell, give, provide, send us)",
    "read": "read it out (read, repeat, spell, forward)",
    "type": "type it (type, enter, key in, press)",
    "confirm": "confirm or verify it",
    "weak": "a bare 'please' or question, only right next to the secret ('your PIN, please')",
}
_RULE_KEYS = {
    "language",
    "reach",
    "asks",
    "not_asks",
    "negations",
    "not_negations",
    "negations_after",
    "negation_exceptions",
    "others",
    "others_through",
    "clause_words",
    "fillers",
    "pronouns",
    "infinitives",
    "app",
    "not_secrets",
    "secrets",
}
_SECRET_KEYS = {"name", "words", "together", "within", "asks", "typed_from_app"}
_REACH_KEYS = {"negation": 6, "others": 10, "chain": 4, "after": 3}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
# Sentences end at ! ? ; and their CJK forms, and at a full stop before a space: not at "249.90"
# nor inside "P.I.N."; a line break is only a space (folded texts, a purpose typed on two lines).
_SENTENCE_END = re.compile(r"[!?;。！？；…]+|\.(?=\s|$|[^\x00-\x7f])")
_CLAUSE_MARK = re.compile(r"[,:()\"«»“”„—–]|\s-\s")
# Letters that Unicode does not decompose into a base letter and an accent.
# "è" stays apart from "e" (Italian "is" and "and"): it becomes "e'", as Italians type it.
_LETTERS = str.maketrans(
    {"è": "e'", "È": "e'", "ł": "l", "Ł": "l", "ø": "o", "đ": "d", "ß": "ss", "’": "'", "‘": "'"}
)


class SafetyRulesError(ValueError):
    """A rules file under call_flows/safety/ that cannot be used; names the file and the entry."""


@dataclass(frozen=True)
class Refusal:
    """One ask for a secret found in a text: which secret, and the words that ask for it."""

    secret: str  # "a PIN", in the words of the rules file
    ask: str  # the asking words as written in the text: "Read me"
    words: str  # the secret's words as written: "the code we texted"
    language: str  # the rules (language) that recognized it

    def describe(self) -> str:
        return f'asks for {self.secret} ("{self.ask}" ... "{self.words}")'


@dataclass(frozen=True)
class _Secret:
    key: str
    name: str
    words: re.Pattern[str] | None
    together: tuple[re.Pattern[str], ...]
    within: int
    asks: frozenset[str]
    typed_from_app: bool


@dataclass(frozen=True)
class LanguageRules:
    """The compiled rules of one language file."""

    language: str
    asks: dict[str, re.Pattern[str]]
    not_asks: re.Pattern[str] | None
    negations: re.Pattern[str] | None
    not_negations: re.Pattern[str] | None
    negations_after: re.Pattern[str] | None
    negation_exceptions: re.Pattern[str] | None
    others: re.Pattern[str] | None
    others_through: re.Pattern[str] | None
    clause_words: re.Pattern[str] | None
    fillers: frozenset[str]
    pronouns: re.Pattern[str] | None
    infinitives: re.Pattern[str] | None
    app: re.Pattern[str] | None
    not_secrets: re.Pattern[str] | None
    secrets: tuple[_Secret, ...]
    reach: dict[str, int] = field(default_factory=dict)


# ----- normalizing -----


@functools.lru_cache(maxsize=8192)
def _fold(char: str) -> str:
    text = unicodedata.normalize("NFKC", char).translate(_LETTERS).casefold()
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).translate(_LETTERS)


def normalize(text: str, variants: dict[str, str] | None = None) -> tuple[str, list[int]]:
    """The text as the rules see it, and for each of its characters the index in the original."""
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        folded = _fold(char)
        if variants:
            folded = "".join(variants.get(c, c) for c in folded)
        for piece in folded:
            if piece.isspace():
                if not out or out[-1] == " ":
                    continue
                piece = " "
            out.append(piece)
            where.append(index)
    return "".join(out), where


def _fold_pattern(pattern: str) -> str:
    # Accents and case go from the patterns as from the text, so "hasło" in a file finds "HASLO".
    return "".join(_fold(c) if c.isalpha() else c for c in pattern)


# ----- loading -----


def _entries(path: Path, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SafetyRulesError(f"{path.name}: {key} must be a list of words or patterns")
    return value


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern: "a|b(c|d)" -> ["a", "b(c|d)"]."""
    parts, depth, start, index, in_class = [], 0, 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    return [*parts, pattern[start:]]


def _whole_words(pattern: str) -> str:
    # A Latin word matches whole words only: "pin" is not in "spinning".
    left = r"(?<![a-z0-9])" if re.match(r"[a-z0-9\\(\[]", pattern) else ""
    right = r"(?![a-z0-9])" if re.search(r"[a-z0-9)?*+\]]$", pattern) else ""
    return f"{left}(?:{pattern}){right}"


def _compile(path: Path, key: str, entries: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for entry in entries:
        pattern = _fold_pattern(entry.strip())
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SafetyRulesError(
                f"{path.name}: {key}: {entry!r} is not a pattern: {exc}"
            ) from None
        parts += _alternatives(pattern)
    if not parts:
        return None
    # Longer alternatives first, so that "never, ever" wins over "never" and "不要" over "不".
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(_whole_words(part) for part in parts))


def load_language(path: Path) -> LanguageRules:
    """Read and check one rules file; raise SafetyRulesError naming what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SafetyRulesError(f"{path.name}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise SafetyRulesError(f"{path.name}: must be a mapping")
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise SafetyRulesError(f"{path.name}: unknown keys {sorted(unknown)}")
    if data.get("language") != path.stem:
        raise SafetyRulesError(f"{path.name}: language must be {path.stem!r}")
    reach = dict(_REACH_KEYS)
    for key, value in (data.get("reach") or {}).items():
        if key not in _REACH_KEYS or not isinstance(value, int) or not 1 <= value <= 40:
            raise SafetyRulesError(
                f"{path.name}: reach: {key} must be one of {list(_REACH_KEYS)} "
                "with a number of words from 1 to 40"
            )
        reach[key] = value
    asks = data.get("asks")
    if not isinstance(asks, dict) or not asks or set(asks) - set(ASK_KINDS):
        raise SafetyRulesError(
            f"{path.name}: asks must map kinds of ask ({', '.join(ASK_KINDS)}) to lists of words"
        )
    compiled_asks = {}
    for kind, entries in asks.items():
        compiled = _compile(path, f"asks: {kind}", _entries(path, f"asks: {kind}", entries))
        if compiled is not None:
            compiled_asks[kind] = compiled
    secrets = data.get("secrets")
    if not isinstance(secrets, dict) or not secrets:
        raise SafetyRulesError(f"{path.name}: secrets must map each secret to its words")
    compiled_secrets = []
    for key, spec in secrets.items():
        where = f"secrets: {key}"
        if not isinstance(spec, dict) or set(spec) - _SECRET_KEYS:
            raise SafetyRulesError(f"{path.name}: {where}: keys are {sorted(_SECRET_KEYS)}")
        if not isinstance(spec.get("name"), str):
            raise SafetyRulesError(f"{path.name}: {where}: needs a name ('a PIN')")
        together = spec.get("together") or []
        if not isinstance(together, list) or len(together) not in (0, 2):
            raise SafetyRulesError(f"{path.name}: {where}: together takes two lists of words")
        lists = tuple(
            _compile(path, f"{where}: together", _entries(path, f"{where}: together", words))
            for words in together
        )
        words = _compile(path, where, _entries(path, f"{where}: words", spec.get("words")))
        if words is None and not lists:
            raise SafetyRulesError(f"{path.name}: {where}: needs words or together")
        kinds = spec.get("asks", [k for k in ASK_KINDS])
        if not isinstance(kinds, list) or set(kinds) - set(ASK_KINDS):
            raise SafetyRulesError(f"{path.name}: {where}: asks must list kinds of ask")
        within = spec.get("within", 8)
        if not isinstance(within, int) or not 1 <= within <= 40:
            raise SafetyRulesError(f"{path.name}: {where}: within must be 1 to 40 words")
        compiled_secrets.append(
            _Secret(
                key=key,
                name=spec["name"],
                words=words,
                together=tuple(p for p in lists if p is not None),
                within=within,
                asks=frozenset(kinds),
                typed_from_app=bool(spec.get("typed_from_app", False)),
            )
        )

    def pattern(key: str) -> re.Pattern[str] | None:
        return _compile(path, key, _entries(path, key, data.get(key)))

    return LanguageRules(
        language=path.stem,
        asks=compiled_asks,
        not_asks=pattern("not_asks"),
        negations=pattern("negations"),
        not_negations=pattern("not_negations"),
        negations_after=pattern("negations_after"),
        negation_exceptions=pattern("negation_exceptions"),
        others=pattern("others"),
        others_through=pattern("others_through"),
        clause_words=pattern("clause_words"),
        fillers=frozenset(_fold_pattern(w) for w in _entries(path, "fillers", data.get("fillers"))),
        pronouns=pattern("pronouns"),
        infinitives=pattern("infinitives"),
        app=pattern("app"),
        not_secrets=pattern("not_secrets"),
        secrets=tuple(compiled_secrets),
        reach=reach,
    )


def _variants(directory: Path) -> dict[str, str]:
    """Traditional Chinese characters and their simplified forms (zh-variants.yaml)."""
    path = directory / "zh-variants.yaml"
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SafetyRulesError(f"{path.name}: cannot be read: {exc}") from None
    pairs = data.get("variants") if isinstance(data, dict) else None
    if not isinstance(pairs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) == len(v) for k, v in pairs.items()
    ):
        raise SafetyRulesError(
            f"{path.name}: variants must map words to simplified words of the same length"
        )
    return {a: b for k, v in pairs.items() for a, b in zip(k, v, strict=True)}


@dataclass(frozen=True)
class SafetyRules:
    """The rules of every language, applied together to any text."""

    languages: tuple[LanguageRules, ...]
    variants: dict[str, str]

    def refusals(self, text: str) -> list[Refusal]:
        """Every ask for a secret in the text, by any language's rules; empty means it is safe."""
        folded, where = normalize(text, self.variants)
        found: list[Refusal] = []
        for rules in self.languages:
            before: _Reading | None = None  # the last sentence naming a secret, if recent
            since = 0
            for start, end in _sentences(folded):
                reading = _read_sentence(rules, folded, start, end)
                pairs = reading.refused()
                if before is not None and since <= 2 and not reading.secrets:
                    # "We sent you six digits. Thanks. Read them to me.": an ask pointing back.
                    pairs += reading.refused_back(before)
                for ask, secret, span in _most_specific(pairs):
                    refusal = Refusal(
                        secret=secret.name,
                        ask=_original(text, where, ask.start, ask.end),
                        words=_original(text, where, *span),
                        language=rules.language,
                    )
                    # One refusal per ask and kind of secret is enough to say what is wrong,
                    # and one per words when several languages' rules see the same ("PIN?").
                    if not any(
                        (r.secret, r.ask, r.language)
                        == (refusal.secret, refusal.ask, rules.language)
                        or (r.ask, r.words) == (refusal.ask, refusal.words)
                        for r in found
                    ):
                        found.append(refusal)
                since += 1
                if reading.secrets:
                    before, since = reading, 1
        return found


def load_rules(directory: Path = SAFETY_DIRECTORY) -> SafetyRules:
    """Every language's rules from the directory; SafetyRulesError if any file is unusable."""
    missing = [lang for lang in RULE_LANGUAGES if not (directory / f"{lang}.yaml").exists()]
    if missing:
        raise SafetyRulesError(f"{directory}: missing the rules of {', '.join(missing)}")
    return SafetyRules(
        languages=tuple(load_language(directory / f"{lang}.yaml") for lang in RULE_LANGUAGES),
        variants=_variants(directory),
    )


@functools.cache
def rules() -> SafetyRules:
    """The shipped rules, read once; the app calls this at start so a broken file stops it."""
    return load_rules()


@functools.lru_cache(maxsize=4096)
def refusals(text: str) -> tuple[Refusal, ...]:
    """Every ask for a secret in a text, by the shipped rules (prompts repeat: kept per text)."""
    return tuple(rules().refusals(text))


def refused_words(text: str) -> str:
    """The refusals of a text in one line for a person ('' when there are none)."""
    return "; ".join(r.describe() for r in refusals(text))


# ----- matching -----


@dataclass
class _Ask:
    kind: str
    start: int
    end: int
    negated: bool = False


def _original(text: str, where: list[int], start: int, end: int) -> str:
    if start >= end or not where:
        return ""
    return text[where[start] : where[end - 1] + 1].strip()


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for mark in _SENTENCE_END.finditer(text):
        spans.append((start, mark.start()))
        start = mark.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _finditer(
    pattern: re.Pattern[str] | None, text: str, start: int, end: int
) -> list[re.Match[str]]:
    return list(pattern.finditer(text, start, end)) if pattern is not None else []


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < b[1] and b[0] < a[1] for b in spans)


class _Sentence:
    """Token and clause positions of one sentence, for measuring distances."""

    def __init__(self, rules: LanguageRules, text: str, start: int, end: int) -> None:
        self.text, self.start, self.end = text, start, end
        self.tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, start, end)]
        marks = [m.start() for m in _CLAUSE_MARK.finditer(text, start, end)]
        words = [m for m in _finditer(rules.clause_words, text, start, end)]
        self.breaks = sorted(marks + [m.start() for m in words])
        # A warning runs through "and" ("if anyone calls and asks for your PIN"), not "so".
        self.punctuation = sorted(
            marks + [m.start() for m in words if not _fullmatch(rules.others_through, m.group())]
        )

    def token_index(self, position: int) -> int:
        """How many tokens start before this position."""
        return sum(1 for s, _ in self.tokens if s < position)

    def words_outside(self, span: tuple[int, int]) -> list[str]:
        return self.words_between(self.start, span[0]) + self.words_between(span[1], self.end)

    def words_between(self, left_end: int, right_start: int) -> list[str]:
        return [self.text[s:e] for s, e in self.tokens if s >= left_end and e <= right_start]

    def clause(self, position: int, *, punctuation_only: bool = False) -> int:
        marks = self.punctuation if punctuation_only else self.breaks
        return sum(1 for m in marks if m < position)


_Pair = tuple[_Ask, _Secret, tuple[int, int]]


@dataclass
class _Reading:
    """One sentence read by one language's rules: its asks, and each secret with its ask."""

    rules: LanguageRules
    sentence: _Sentence
    asks: list[_Ask]
    secrets: list[tuple[_Secret, tuple[int, int], _Ask | None]]
    has_app: bool

    def allowed(self, ask: _Ask, secret: _Secret, has_app: bool) -> bool:
        if ask.negated or ask.kind not in secret.asks:
            return True
        # "Type the one-time code shown in our app on your keypad" is the verify node itself.
        return secret.typed_from_app and ask.kind == "type" and has_app

    def refused(self) -> list[_Pair]:
        return [
            (ask, secret, span)
            for secret, span, ask in self.secrets
            if ask is not None and not self.allowed(ask, secret, self.has_app)
        ]

    def refused_back(self, before: _Reading) -> list[_Pair]:
        """Asks of this sentence that point back at the unasked secrets of the one before."""
        pointing = [ask for ask in self.asks if not ask.negated and self._points_back(ask)]
        pointing.sort(key=lambda ask: ask.kind == "weak")
        has_app = self.has_app or before.has_app
        return [
            (ask, secret, span)
            for ask in pointing[:1]
            for secret, span, governing in before.secrets
            if governing is None and not self.allowed(ask, secret, has_app)
        ]

    def _points_back(self, ask: _Ask) -> bool:
        sentence, rules = self.sentence, self.rules
        words = sentence.words_between(sentence.start, ask.start)[-2:]
        words += sentence.words_between(ask.start, ask.end)  # "read it", "dimmelo"
        words += sentence.words_between(ask.end, sentence.end)[:2]
        if any(_fullmatch(rules.pronouns, word) for word in words):
            return True
        # An ask with no object of its own: "Read out.", "…请直接告诉我。", "报一下。"
        return all(word in rules.fillers for word in sentence.words_between(ask.end, sentence.end))


def _fullmatch(pattern: re.Pattern[str] | None, word: str) -> bool:
    return pattern is not None and pattern.fullmatch(word) is not None


def _most_specific(pairs: list[_Pair]) -> list[_Pair]:
    """Drop a secret found inside a longer one ("code" inside "the code we texted")."""
    return [
        pair
        for pair in pairs
        if not any(
            other is not pair
            and other[2][0] <= pair[2][0]
            and pair[2][1] <= other[2][1]
            and (other[2] != pair[2] or pairs.index(other) < pairs.index(pair))
            for other in pairs
        )
    ]


def _read_sentence(rules: LanguageRules, text: str, start: int, end: int) -> _Reading:
    sentence = _Sentence(rules, text, start, end)
    asks = _find_asks(rules, sentence)
    negations = [m.end() for m in _finditer(rules.negations, text, start, end)]
    secrets = [
        (secret, span)
        for secret, span in _find_secrets(rules, sentence)
        if not _denied(sentence, asks, negations, span)
    ]
    _apply_negations(rules, sentence, asks)
    if text[end : end + 1] == "?" and any(
        all(word in rules.fillers for word in sentence.words_outside(span)) for _, span in secrets
    ):
        asks.append(_Ask("weak", end, end + 1))  # "Your PIN?", "And the code we texted?"
    return _Reading(
        rules=rules,
        sentence=sentence,
        asks=asks,
        secrets=[
            (secret, span, _governing_ask(rules, sentence, asks, span)) for secret, span in secrets
        ],
        has_app=bool(_finditer(rules.app, text, start, end)),
    )


def _denied(
    sentence: _Sentence, asks: list[_Ask], negations: list[int], span: tuple[int, int]
) -> bool:
    """A secret named to be excluded: "type the code from our app, not a code from a text"."""
    return any(
        position <= span[0]
        and len(sentence.words_between(position, span[0])) <= 2
        and not any(position <= ask.start < span[0] for ask in asks)
        for position in negations
    )


def _find_secrets(
    rules: LanguageRules, sentence: _Sentence
) -> list[tuple[_Secret, tuple[int, int]]]:
    text, start, end = sentence.text, sentence.start, sentence.end
    excluded = [m.span() for m in _finditer(rules.not_secrets, text, start, end)]
    negations = [m.start() for m in _finditer(rules.negations, text, start, end)]
    found = []
    for secret in rules.secrets:
        for match in _finditer(secret.words, text, start, end):
            if not _overlaps(match.span(), excluded):
                found.append((secret, match.span()))
        if len(secret.together) == 2:
            heads = [
                m
                for m in secret.together[0].finditer(text, start, end)
                if not _overlaps(m.span(), excluded)
            ]
            marks = [
                m
                for m in secret.together[1].finditer(text, start, end)
                if not _overlaps(m.span(), excluded)
            ]
            for head in heads:
                near = [
                    m
                    for m in marks
                    if not _overlaps(m.span(), [head.span()])
                    and abs(sentence.token_index(m.start()) - sentence.token_index(head.start()))
                    <= secret.within
                    # "the code of our app, not the one we texted" pairs nothing across "not"
                    and not any(
                        min(head.start(), m.start()) < n < max(head.end(), m.end())
                        for n in negations
                    )
                ]
                if near:
                    mark = min(near, key=lambda m: abs(m.start() - head.start()))
                    found.append(
                        (secret, (min(head.start(), mark.start()), max(head.end(), mark.end())))
                    )
    return found


def _find_asks(rules: LanguageRules, sentence: _Sentence) -> list[_Ask]:
    text, start, end = sentence.text, sentence.start, sentence.end
    excluded = [m.span() for m in _finditer(rules.not_asks, text, start, end)]
    found: list[_Ask] = []
    for kind, pattern in rules.asks.items():
        for match in pattern.finditer(text, start, end):
            if not _overlaps(match.span(), excluded):
                found.append(_Ask(kind, match.start(), match.end()))
    # Where two asks overlap ("can you tell" and "tell"), the longer one stands.
    found.sort(key=lambda a: (a.start, -(a.end - a.start)))
    kept: list[_Ask] = []
    for ask in found:
        if kept and ask.start < kept[-1].end:
            continue
        kept.append(ask)
    return kept


def _apply_negations(rules: LanguageRules, sentence: _Sentence, asks: list[_Ask]) -> None:
    text, start, end = sentence.text, sentence.start, sentence.end
    cancelled = [m.span() for m in _finditer(rules.not_negations, text, start, end)]
    scopes: list[tuple[int, int, int, bool]] = []  # from, end of the negation, reach, warning
    for match in _finditer(rules.negations, text, start, end):
        if not _overlaps(match.span(), cancelled):
            scopes.append((match.end(), match.end(), rules.reach["negation"], False))
    for match in _finditer(rules.others, text, start, end):
        if not _overlaps(match.span(), cancelled):
            # From its start: "se le chiedono il PIN" holds its own ask.
            scopes.append((match.start(), match.end(), rules.reach["others"], True))
    for position, end_of_match, reach, punctuation_only in scopes:
        clause = sentence.clause(end_of_match, punctuation_only=punctuation_only)
        # "We will never, under any circumstances, ask": a negation that ends its clause
        # carries over the parenthesis that follows it.
        clauses = {clause}
        if sentence.words_between(sentence.start, position)[1:] and not sentence.words_between(
            position, _clause_end(sentence, position, punctuation_only)
        ):
            clauses |= {clause + 1, clause + 2}  # but "No, tell me your PIN" is no negation
        first = sentence.token_index(position)
        previous: _Ask | None = None
        for ask in asks:
            if ask.start < position:
                continue
            inside = ask.start < end_of_match
            if not inside and (
                sentence.clause(ask.start, punctuation_only=punctuation_only) not in clauses
            ):
                break
            if previous is None:
                if sentence.token_index(ask.start) - first > reach:
                    break
            elif (
                sentence.token_index(ask.start) - sentence.token_index(previous.end)
                > rules.reach["chain"]
            ):
                break  # "never ask you to tell us" is one negated ask; a later one is not
            ask.negated = True
            previous = ask
    # "never ask you to tell us your PIN or to read out a code": an ask in the infinitive depends
    # on the ask before it, negated or not; "don't hang up and read me the code" has none.
    for index, ask in enumerate(asks):
        if index and not ask.negated:
            words = sentence.words_between(asks[index - 1].end, ask.start)
            if words and _fullmatch(rules.infinitives, words[-1]):
                ask.negated = asks[index - 1].negated
    for match in _finditer(rules.negations_after, text, start, end):
        for ask in asks:  # "tell no one", "give it to nobody"
            if (
                ask.end <= match.start()
                and sentence.clause(ask.start) == sentence.clause(match.start())
                and sentence.token_index(match.start()) - sentence.token_index(ask.end)
                <= rules.reach["after"]
            ):
                ask.negated = True
    # "never give your PIN to anyone but us" asks for it after all.
    for match in _finditer(rules.negation_exceptions, text, start, end):
        for ask in asks:
            if ask.end <= match.start():
                ask.negated = False


def _clause_end(sentence: _Sentence, position: int, punctuation_only: bool) -> int:
    marks = sentence.punctuation if punctuation_only else sentence.breaks
    return next((m for m in marks if m >= position), sentence.end)


def _governing_ask(
    rules: LanguageRules, sentence: _Sentence, asks: list[_Ask], span: tuple[int, int]
) -> _Ask | None:
    """The ask that a secret is the object of: the nearest, in its clause first."""
    clause = sentence.clause(span[0])
    strong = [a for a in asks if a.kind != "weak"]
    before = [a for a in strong if a.end <= span[0]]
    after = [a for a in strong if a.start >= span[1]]
    for group in (
        [a for a in reversed(before) if sentence.clause(a.start) == clause],
        [a for a in after if sentence.clause(a.start) == clause],
    ):
        if group:
            return group[0]
    # A bare "please" or "what is" counts only right next to the secret.
    for ask in asks:
        if ask.kind != "weak":
            continue
        gap = (
            sentence.words_between(ask.end, span[0])
            if ask.end <= span[0]
            else sentence.words_between(span[1], ask.start)
            if ask.start >= span[1]
            else ["-"]
        )
        if all(word in rules.fillers for word in gap):
            return ask
    if before:
        return before[-1]
    return after[0] if after else None

"""Flow files: loading them from call_flows/ and checking that they are safe to run."""

from __future__ import annotations

import string
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.flows.ports import QUEUE_PRIORITIES, QUEUE_SKILLS, ActionRegistry
from app.flows.prompts import LANGUAGES
from app.flows.safety import Refusal, refusals
from app.flows.speech import Words, as_lists, word_list_problems
from app.outcomes import Outcome

FLOWS_DIRECTORY = Path(__file__).resolve().parent.parent.parent / "call_flows"
TITLE_MAX = 60  # a flow's title fits a table cell
COMMON_PROMPTS_FILE = "_prompts.yaml"

# Prompts the engine itself speaks; _prompts.yaml must define each in every language.
ENGINE_PROMPTS = (
    "not_valid",
    "no_input",
    "wrong_code",
    "locked",
    "voicemail",
    "goodbye",
    "not_in_service",
    # The queue for people: the waiting room, the offer of a call back, and its answer.
    "queue_position",
    "queue_waiting",
    "queue_hold_offer",
    "queue_callback_taken",
    # After a reference at the end of a call: "to hear it again, press star".
    "hear_again",
    # An inbound caller whose number does not tell their language: one line in each language.
    "language_menu",
)
# Word lists the engine itself listens for (the language menu); _prompts.yaml defines each.
ENGINE_WORDS = ("english", "italian", "polish", "chinese")
#: The language menu's node, which the engine puts before an inbound flow's start.
LANGUAGE_MENU = "_language"
#: Variables that hold a reference the caller may need to write down: they can hear it again.
REFERENCE_VARIABLES = {"reference", "report_reference", "complaint_reference"}

# Node types, the fields each requires, and the fields naming other nodes.
NODE_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "say": {"required": ("prompt", "next"), "links": ("next",)},
    "never_ask": {"required": ("next",), "links": ("next",)},
    "gather": {"required": ("prompt", "fallback"), "links": ("next", "fallback", "on_empty")},
    "verify": {
        "required": ("prompt", "on_success", "on_failure"),
        "links": ("on_success", "on_failure"),
    },
    "branch": {"required": ("variable", "cases", "default"), "links": ("default",)},
    # Twilio calls a record's action only when something was recorded: a silent caller goes on
    # with the next verb, which the engine makes a redirect to `on_silence`.
    "record": {"required": ("prompt", "next", "on_silence"), "links": ("next", "on_silence")},
    "transfer": {"required": ("prompt", "to", "next"), "links": ("next",)},
    "outcome": {"required": ("value", "next"), "links": ("next",)},
    "action": {"required": ("action", "default"), "links": ("default",)},
    # A person takes the call: the caller waits in the queue, then talks to an agent; `next`
    # after that conversation, `unavailable` when nobody can be reached.
    "queue": {
        "required": ("skill", "prompt", "next", "unavailable"),
        "links": ("next", "unavailable"),
    },
    "hangup": {"required": (), "links": ()},
}
# Nodes that run without waiting for the caller: a loop made only of these never ends.
IMMEDIATE = {"say", "never_ask", "branch", "outcome", "action"}
VARIABLES = {
    "name",
    "company",
    "reference",
    "amount",
    "merchant",
    "time",
    "callback_number",
    "country",
    "device",
    "beneficiary",
    # The "is this call from us?" line:
    "checked_number",
    "number_label",
    "since",
    "until",
    "report_reference",
    # The complaints line:
    "complaint_reference",
    "complaint_status",
    "due",
    "reply_by",
    # Campaigns:
    "campaign",
    # The queue for people: the caller's place in line.
    "position",
    # The hotline's "call me at": the time offered, in the caller's words.
    "call_back_at",
}
#: Twilio transcribes a <Record> only when the recording lasts at most two minutes.
TRANSCRIBE_MAX_SECONDS = 120
#: A record node's default and largest max_seconds (Twilio's maxLength; its own default is 3600).
RECORD_DEFAULT_SECONDS = 120
RECORD_MAX_SECONDS = 3600
#: What a caller on an inbound line may hear only after typing a right code: who the customer
#: is and what the matter is. Anyone can ring our lines showing a customer's number.
PRIVATE_VARIABLES = {
    "name",
    "amount",
    "merchant",
    "time",
    "country",
    "device",
    "beneficiary",
    "campaign",
}
#: The call variable a successful verify node sets; nothing else may write it.
VERIFIED = "verified"
#: When that verify node accepted the code (ISO time), for the agent who takes the call.
VERIFIED_AT = "verified_at"
#: A queue node's default wait before the caller is offered a call back, and the largest.
OFFER_CALLBACK_AFTER_MINUTES = 3
OFFER_CALLBACK_AFTER_MAX = 60
OPTIONAL_FIELDS = {
    "gather": (
        "digits",
        "min_digits",
        "max_digits",
        "choices",
        "save_as",
        "timeout",
        "retries",
        "reprompt",
        "on_empty",
        "speech",
        "private",
    ),
    "verify": ("timeout", "tries", "min_digits", "max_digits"),
    "branch": (),
    "record": ("max_seconds", "transcribe"),
    "say": (),
    "never_ask": (),
    "transfer": (),
    "outcome": (),
    "action": ("cases",),
    "queue": ("priority", "offer_callback_after", "unverified"),
    "hangup": ("prompt",),
}


class FlowError(ValueError):
    """A flow file that must not run; the message names the file and the node."""


@dataclass(frozen=True)
class Flow:
    name: str
    version: int
    direction: str
    description: str
    start: str
    nodes: dict[str, dict[str, Any]]
    stub: str | None = None
    prompts: dict[str, dict[str, str]] = field(default_factory=dict)
    # Where a caller who rings us back joins this (outbound) flow: after the greeting.
    resume_at: str | None = None
    # Offered for supervisors' campaigns (an outbound flow that asks no security question).
    campaign: bool = False
    # A short human title in each language, for the console ({"en": "...", "it": ...}).
    title: dict[str, str] = field(default_factory=dict)
    # The shared word lists of _prompts.yaml (`words:`), by name, each language a list.
    words: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def title_in(self, locale: str) -> str:
        """The flow's title in this language, else in English, else its name."""
        return self.title.get(locale) or self.title.get("en") or self.name

    def node(self, name: str) -> dict[str, Any]:
        return self.nodes[name]

    def prompt(self, reference: Any) -> dict[str, str]:
        """A node's prompt by language, resolving '@name' references to common prompts."""
        if isinstance(reference, str) and reference.startswith("@"):
            return self.prompts[reference[1:]]
        return reference


def load_common_prompts(directory: Path = FLOWS_DIRECTORY) -> dict[str, dict[str, str]]:
    path = directory / COMMON_PROMPTS_FILE
    data = _read_yaml(path)
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, dict):
        raise FlowError(f"{path.name}: needs a 'prompts' mapping")
    problems = []
    for key, prompt in prompts.items():
        problems += [f"{path.name}: prompt {key}: {p}" for p in _prompt_problems(prompt)]
    for key in ENGINE_PROMPTS:
        if key not in prompts:
            problems.append(f"{path.name}: the engine needs a prompt named {key!r}")
    if problems:
        raise FlowError("\n".join(problems))
    return prompts


def load_common_words(directory: Path = FLOWS_DIRECTORY) -> dict[str, dict[str, list[str]]]:
    """The shared word lists of _prompts.yaml (`words:`), that menus' `speech` refer to."""
    path = directory / COMMON_PROMPTS_FILE
    data = _read_yaml(path)
    words = data.get("words", {}) if isinstance(data, dict) else {}
    if not isinstance(words, dict):
        raise FlowError(f"{path.name}: 'words' must map names to word lists")
    problems = []
    for key, value in words.items():
        problems += [f"{path.name}: words {key}: {p}" for p in word_list_problems(value)]
    for key in ENGINE_WORDS:
        if key not in words:
            problems.append(f"{path.name}: the engine needs a word list named {key!r}")
    if problems:
        raise FlowError("\n".join(problems))
    return {key: as_lists(value) for key, value in words.items()}


def load_flow(
    path: Path,
    prompts: dict[str, dict[str, str]] | None = None,
    *,
    actions: ActionRegistry,
    words: dict[str, dict[str, list[str]]] | None = None,
) -> Flow:
    """Read and check one flow file against the registered actions; raise FlowError listing every
    problem found."""
    if prompts is None:
        prompts = load_common_prompts(path.parent)
    if words is None:
        words = load_common_words(path.parent)
    data = _read_yaml(path)
    problems = check(data, prompts, expected_name=path.stem, actions=actions, words=words)
    if problems:
        raise FlowError("\n".join(f"{path.name}: {problem}" for problem in problems))
    return Flow(
        name=data["name"],
        version=data["version"],
        direction=data["direction"],
        description=data.get("description", ""),
        start=data["start"],
        nodes={name: _with_speech(node, words) for name, node in data["nodes"].items()},
        stub=data.get("stub"),
        prompts=prompts,
        resume_at=data.get("resume_at"),
        campaign=data.get("campaign", False),
        title=dict(data.get("title") or {}),
        words=words,
    )


def _with_speech(node: dict[str, Any], words: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """A checked node with its `speech` resolved: each key to its words in each language."""
    if "speech" not in node:
        return node
    resolved: Words = {}
    for key, value in node["speech"].items():
        if isinstance(value, str):  # "@yes": a shared word list
            resolved[str(key)] = words[value[1:]]
        else:
            resolved[str(key)] = as_lists(value)
    return {**node, "speech": resolved}


def load_flows(directory: Path = FLOWS_DIRECTORY, *, actions: ActionRegistry) -> dict[str, Flow]:
    """Every flow in the directory, or FlowError naming all the problems of all the files.

    `actions` are the app's registered flow actions: a flow naming any other fails here.
    """
    prompts = load_common_prompts(directory)
    words = load_common_words(directory)
    flows, problems = {}, []
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        try:
            flows[path.stem] = load_flow(path, prompts, actions=actions, words=words)
        except FlowError as exc:
            problems.append(str(exc))
    if problems:
        raise FlowError("\n".join(problems))
    return flows


def spoken_refusals(flow: Flow, values: dict[str, Any]) -> list[tuple[str, str, Refusal]]:
    """What the flow's prompts that speak these values would ask for: (node, language, refusal)."""
    from app.flows.variables import render

    found = []
    for name, node in flow.nodes.items():
        for key in ("prompt", "reprompt"):
            if key not in node:
                continue
            for language, template in flow.prompt(node[key]).items():
                used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
                if not used & set(values):
                    continue
                text = render(template, language, values, time_zone=None)
                found += [(name, language, refusal) for refusal in refusals(text)]
    return found


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(f"{path.name}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise FlowError(f"{path.name}: cannot be read: {exc.strerror}") from None


def check(
    data: Any,
    prompts: dict[str, dict[str, str]],
    *,
    expected_name: str,
    actions: ActionRegistry,
    words: dict[str, dict[str, list[str]]] | None = None,
) -> list[str]:
    """Every problem of a flow's data; an empty list means it may run with these actions.

    `words`: the shared word lists menus' `speech` may name (by default, call_flows/'s own).
    """
    if words is None:
        words = load_common_words()
    if not isinstance(data, dict):
        return ["the file must be a mapping with name, version, direction, start and nodes"]
    problems: list[str] = []
    for key in ("name", "version", "direction", "start", "nodes"):
        if key not in data:
            problems.append(f"missing {key!r}")
    if problems:
        return problems
    if data["name"] != expected_name:
        problems.append(f"name {data['name']!r} must match the file name {expected_name!r}")
    if not isinstance(data["version"], int) or isinstance(data["version"], bool):
        problems.append("version must be a whole number")
    if data["direction"] not in ("inbound", "outbound"):
        problems.append("direction must be inbound or outbound")
    known = {"name", "version", "direction", "start", "nodes", "description", "stub", "resume_at"}
    known |= {"campaign", "title"}
    unknown = set(data) - known
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    problems += _title_problems(data.get("title"))
    if "campaign" in data and not isinstance(data["campaign"], bool):
        problems.append("campaign must be true or false")
    elif data.get("campaign") and data["direction"] != "outbound":
        problems.append("campaign: only an outbound flow can be a campaign's")
    nodes = data["nodes"]
    if not isinstance(nodes, dict) or not nodes:
        return [*problems, "nodes must be a non-empty mapping"]
    if LANGUAGE_MENU in nodes:
        problems.append(f"no node may be named {LANGUAGE_MENU!r}: the engine's language menu is")
    if data["start"] not in nodes:
        problems.append(f"start node {data['start']!r} does not exist")
    if "resume_at" in data and data["resume_at"] not in nodes:
        problems.append(f"resume_at node {data['resume_at']!r} does not exist")
    edges: dict[str, list[str]] = {}
    for name, node in nodes.items():
        node_problems, links = _check_node(node, nodes, prompts, actions, words)
        problems += [f"node {name}: {p}" for p in node_problems]
        edges[name] = links
    if problems:
        return problems
    problems += _check_graph(data["start"], nodes, edges, outbound=data["direction"] == "outbound")
    problems += _check_unverified(
        data["start"], nodes, edges, prompts, actions, inbound=data["direction"] == "inbound"
    )
    return problems


def _title_problems(title: Any) -> list[str]:
    """A flow's title: a short text in each language the prompts speak (or none at all)."""
    if title is None:
        return []
    if not isinstance(title, dict):
        return [f"title must be a mapping of {', '.join(LANGUAGES)} to a short text"]
    problems = []
    for language in LANGUAGES:
        text = title.get(language)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"title: needs a text in {language!r}")
        elif len(text) > TITLE_MAX:
            problems.append(f"title.{language}: at most {TITLE_MAX} characters")
    unknown = sorted(set(title) - set(LANGUAGES))
    if unknown:
        problems.append(f"title: unknown languages {unknown}")
    return problems


def _check_node(
    node: Any,
    nodes: dict[str, Any],
    prompts: dict[str, dict[str, str]],
    actions: ActionRegistry,
    words: dict[str, dict[str, list[str]]],
) -> tuple[list[str], list[str]]:
    if not isinstance(node, dict) or node.get("type") not in NODE_TYPES:
        return [f"type must be one of {', '.join(NODE_TYPES)}"], []
    kind = node["type"]
    if "speech" in node and not (kind == "gather" and "choices" in node):
        # A code or a number is typed: said aloud, anyone nearby would hear it.
        return [
            "speech is only for menus (a gather with choices); codes and numbers stay keypad-only"
        ], []
    spec = NODE_TYPES[kind]
    problems = [f"{kind} needs {key!r}" for key in spec["required"] if key not in node]
    allowed = {"type", *spec["required"], *spec["links"], *OPTIONAL_FIELDS[kind]}
    if set(node) - allowed:
        problems.append(f"unknown keys {sorted(set(node) - allowed)}")
    if problems:
        return problems, []
    links = [node[key] for key in spec["links"] if key in node]
    if kind == "gather":
        ranged = "min_digits" in node or "max_digits" in node
        if ("choices" in node) + ("digits" in node) + ranged != 1:
            problems.append(
                "gather needs one of choices (a menu), digits (a number of keys) or "
                "min_digits and max_digits (a number of any length, ended by #)"
            )
        if ranged:
            low, high = node.get("min_digits"), node.get("max_digits")
            if "next" not in node:
                problems.append("gather with min_digits and max_digits needs 'next'")
            if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 20):
                problems.append(
                    "min_digits and max_digits must be whole numbers, 1 <= min <= max <= 20"
                )
        if "choices" in node:
            choices = node["choices"]
            if not isinstance(choices, dict) or not choices:
                problems.append("choices must map keys to nodes")
            else:
                bad = [k for k in choices if str(k) not in set("0123456789*#")]
                if bad:
                    problems.append(f"choices must be single keys, not {bad}")
                links += [str(v) for v in choices.values()]
                if "speech" in node:
                    problems += _speech_problems(node["speech"], choices, words)
        if "digits" in node:
            if "next" not in node:
                problems.append("gather with digits needs 'next'")
            if not isinstance(node["digits"], int) or not 1 <= node["digits"] <= 20:
                problems.append("digits must be a number of keys from 1 to 20")
        if node.get("save_as") in (VERIFIED, VERIFIED_AT):
            problems.append(f"save_as may not be {node['save_as']!r}: only a right code sets it")
        if not isinstance(node.get("private", False), bool):
            problems.append("private must be true or false")
        for key, low, high in (("timeout", 1, 30), ("retries", 0, 5)):
            if key in node and (not isinstance(node[key], int) or not low <= node[key] <= high):
                problems.append(f"{key} must be a whole number from {low} to {high}")
    if kind == "verify":
        tries = node.get("tries", 3)
        if not isinstance(tries, int) or not 1 <= tries <= 3:
            problems.append("tries must be 1 to 3 (codes are attempt-limited)")
    if kind == "record":
        problems += _record_problems(node)
    if kind == "branch":
        if not isinstance(node["cases"], dict) or not node["cases"]:
            problems.append("cases must map values to nodes")
        else:
            links += [str(v) for v in node["cases"].values()]
    if kind == "action":
        registered = actions.get(node["action"])
        if registered is None:
            problems.append(
                f"action {node['action']!r} is not registered; the app's actions are "
                f"{', '.join(sorted(actions)) or 'none'}"
            )
        else:
            results = registered.results
            cases = node.get("cases", {})
            if not isinstance(cases, dict):
                problems.append("cases must map the action's results to nodes")
            else:
                bad = sorted(set(map(str, cases)) - set(results))
                if bad:
                    problems.append(
                        f"{node['action']} answers only {', '.join(results)}, not {bad}"
                    )
                links += [str(v) for v in cases.values()]
    if kind == "queue":
        problems += _queue_problems(node)
    if kind == "outcome" and node["value"] not in set(Outcome):
        problems.append(f"value must be one of {', '.join(sorted(Outcome))}")
    for key in ("prompt", "reprompt"):
        if key in node:
            prompt = node[key]
            if isinstance(prompt, str) and prompt.startswith("@"):
                if prompt[1:] not in prompts:
                    problems.append(f"{key} refers to an unknown common prompt {prompt!r}")
                continue
            problems += [f"{key}: {p}" for p in _prompt_problems(prompt)]
    for link in links:
        if link not in nodes:
            problems.append(f"refers to a node that does not exist: {link!r}")
    return problems, links


def _speech_problems(
    speech: Any, choices: dict[Any, Any], words: dict[str, dict[str, list[str]]]
) -> list[str]:
    """A menu's `speech`: its keys to words in each language, or to a shared list ("@yes")."""
    if not isinstance(speech, dict) or not speech:
        return ["speech must map the menu's keys to words, or to a shared list like '@yes'"]
    problems = []
    keys = {str(k) for k in choices}
    for key, value in speech.items():
        if str(key) not in keys:
            problems.append(f"speech: {key!r} is not one of the menu's keys")
        elif isinstance(value, str):
            if not value.startswith("@") or value[1:] not in words:
                problems.append(
                    f"speech {key}: {value!r} is not a shared word list; the lists are "
                    f"{', '.join('@' + w for w in sorted(words)) or 'none'}"
                )
        else:
            problems += [f"speech {key}: {p}" for p in word_list_problems(value)]
    return problems


def _queue_problems(node: dict[str, Any]) -> list[str]:
    problems = []
    if node["skill"] not in QUEUE_SKILLS:
        problems.append(f"skill must be one of {', '.join(QUEUE_SKILLS)}")
    if node.get("priority", "medium") not in QUEUE_PRIORITIES:
        problems.append(f"priority must be one of {', '.join(QUEUE_PRIORITIES)}")
    minutes = node.get("offer_callback_after", OFFER_CALLBACK_AFTER_MINUTES)
    whole = isinstance(minutes, int) and not isinstance(minutes, bool)
    if not whole or not 1 <= minutes <= OFFER_CALLBACK_AFTER_MAX:
        problems.append(
            f"offer_callback_after must be whole minutes from 1 to {OFFER_CALLBACK_AFTER_MAX}"
        )
    if not isinstance(node.get("unverified", False), bool):
        problems.append("unverified must be true or false")
    return problems


def _record_problems(node: dict[str, Any]) -> list[str]:
    seconds = node.get("max_seconds", RECORD_DEFAULT_SECONDS)
    transcribe = node.get("transcribe", False)
    if not isinstance(transcribe, bool):
        return ["transcribe must be true or false"]
    whole = isinstance(seconds, int) and not isinstance(seconds, bool)
    if not whole or not 2 <= seconds <= RECORD_MAX_SECONDS:
        return [f"max_seconds must be a whole number from 2 to {RECORD_MAX_SECONDS}"]
    if transcribe and seconds > TRANSCRIBE_MAX_SECONDS:
        return [
            f"max_seconds {seconds} with transcribe: Twilio transcribes only recordings of "
            f"{TRANSCRIBE_MAX_SECONDS} seconds or less, so a longer message would never be "
            f"transcribed; use max_seconds {TRANSCRIBE_MAX_SECONDS} or less"
        ]
    return []


def _prompt_problems(prompt: Any) -> list[str]:
    if not isinstance(prompt, dict):
        return ["a prompt maps each language (en, it, pl, zh) to a text"]
    problems = []
    for language in LANGUAGES:
        text = prompt.get(language)
        if not isinstance(text, str) or not text.strip():
            problems.append(f"missing the {language!r} text")
            continue
        for refusal in refusals(text):
            problems.append(
                f"the {language!r} text {refusal.describe()}: a call never asks for a secret"
            )
        for _, name, _, _ in string.Formatter().parse(text):
            if name is not None and name not in VARIABLES:
                problems.append(f"the {language!r} text uses an unknown variable {{{name}}}")
    extra = set(prompt) - set(LANGUAGES)
    if extra:
        problems.append(f"unknown languages {sorted(extra)}")
    return problems


def _check_graph(
    start: str, nodes: dict[str, Any], edges: dict[str, list[str]], *, outbound: bool
) -> list[str]:
    problems = []
    reachable = _reach(start, edges)
    for name in nodes:
        if name not in reachable:
            problems.append(f"node {name}: cannot be reached from the start")
    # Every reachable node must have a way to a hangup.
    reverse: dict[str, list[str]] = {name: [] for name in nodes}
    for name, links in edges.items():
        for link in links:
            reverse[link].append(name)
    ends = [name for name, node in nodes.items() if node["type"] == "hangup"]
    can_end: set[str] = set()
    for end in ends:
        can_end |= _reach(end, reverse)
    for name in sorted(reachable - can_end):
        problems.append(f"node {name}: no path from here ever ends the call")

    # A loop of nodes that never wait for the caller would spin forever. A queue node waits only
    # when someone can take the call: its `unavailable` link goes on at once.
    def at_once(name: str) -> list[str]:
        if nodes[name]["type"] == "queue":
            return [nodes[name]["unavailable"]]
        return edges[name] if nodes[name]["type"] in IMMEDIATE else []

    goes_on = IMMEDIATE | {"queue"}
    immediate = {
        n: [m for m in at_once(n) if nodes[m]["type"] in goes_on]
        for n in nodes
        if nodes[n]["type"] in goes_on
    }
    for name in immediate:
        if name in _reach_excluding_self(name, immediate):
            problems.append(f"node {name}: is in a loop that never waits for the caller")
            break
    if outbound and not _says_never_ask_first(start, nodes):
        problems.append(
            "an outbound flow must say early (before asking anything) that we never ask for "
            "a password or PIN: add a never_ask node"
        )
    return problems


def _check_unverified(
    start: str,
    nodes: dict[str, Any],
    edges: dict[str, list[str]],
    prompts: dict[str, dict[str, str]],
    actions: ActionRegistry,
    *,
    inbound: bool,
) -> list[str]:
    """Before a right code: no customer's matter on an inbound line, no taking a callback, and
    no queue for a person that does not say the caller is unverified."""
    # Every node a caller reaches from the start without a verify node's on_success.
    unverified = _reach(
        start,
        {
            name: [nodes[name]["on_failure"]] if nodes[name]["type"] == "verify" else links
            for name, links in edges.items()
        },
    )
    problems = []
    for name in sorted(unverified):
        node = nodes[name]
        if node["type"] == "action" and actions[node["action"]].after_verify:
            problems.append(
                f"node {name}: {node['action']} can be reached without a right code: "
                "put a verify node before it"
            )
        if node["type"] == "queue" and node.get("unverified") is not True:
            # The agent would take the caller for the customer: they must see that nobody typed
            # a right code, so the flow says so.
            problems.append(
                f"node {name}: a caller can reach this queue without a right code: put a verify "
                "node before it, or say unverified: true (the agent is told)"
            )
        if not inbound:
            continue  # we placed the call, to the customer's own number
        for key in ("prompt", "reprompt"):
            if key not in node:
                continue
            prompt = node[key]
            if isinstance(prompt, str) and prompt.startswith("@"):
                prompt = prompts[prompt[1:]]
            spoken = {
                field
                for text in prompt.values()
                for _, field, _, _ in string.Formatter().parse(text)
                if field
            }
            for variable in sorted(spoken & PRIVATE_VARIABLES):
                problems.append(
                    f"node {name}: speaks {{{variable}}} to a caller who has not typed a right "
                    "code yet (anyone can show a customer's number): put a verify node before it"
                )
    return problems


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for link in edges.get(queue.popleft(), []):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return seen


def _reach_excluding_self(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    queue = deque(edges.get(start, []))
    while queue:
        name = queue.popleft()
        if name not in seen:
            seen.add(name)
            queue.extend(edges.get(name, []))
    return seen


def _says_never_ask_first(start: str, nodes: dict[str, Any]) -> bool:
    """A never_ask node comes before the first node that waits for the caller."""
    name, seen = start, set()
    while name not in seen:
        seen.add(name)
        node = nodes[name]
        if node["type"] == "never_ask":
            return True
        if node["type"] not in {"say", "outcome"}:
            return False
        name = node["next"]
    return False

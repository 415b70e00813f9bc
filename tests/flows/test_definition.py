"""`flows check`: the shipped flows pass; unsafe or broken flows are refused, naming the problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from app.flows.definition import FLOWS_DIRECTORY, check, load_common_prompts, load_flows
from app.flows.prompts import LANGUAGES, NEVER_ASK, forbidden_asks
from tests.flows.test_registered_actions import registered_actions
from tests.test_translations import INFORMAL

SHIPPED = {
    "feedback_call",
    "transaction_alert",
    "registration_check",
    "withdrawal_check",
    "account_change_check",
    "verify_caller_line",
    "complaints_line",
    "campaign_notice",
    "service_line",
    "agent_callback",
}


@pytest.fixture(scope="module")
def prompts():
    return load_common_prompts()


@pytest.fixture
def alert() -> dict:
    return yaml.safe_load((FLOWS_DIRECTORY / "transaction_alert.yaml").read_text())


def problems_of(data, prompts, name="transaction_alert"):
    return check(data, prompts, expected_name=name, actions=registered_actions())


def _spoken(data: object, language: str) -> list[str]:
    """Every text a flow file holds for one language, wherever it sits (prompts and titles)."""
    if isinstance(data, dict):
        own = [data[language]] if isinstance(data.get(language), str) else []
        return own + [text for value in data.values() for text in _spoken(value, language)]
    if isinstance(data, list):
        return [text for value in data for text in _spoken(value, language)]
    return []


@pytest.mark.parametrize("language", sorted(INFORMAL))
def test_every_prompt_addresses_the_caller_formally(language):
    texts = [NEVER_ASK[language]]
    for path in sorted(FLOWS_DIRECTORY.glob("*.yaml")):
        texts += _spoken(yaml.safe_load(path.read_text()), language)

    informal = [(text, word.group()) for text in texts if (word := INFORMAL[language].search(text))]

    assert len(texts) > 20
    assert not informal, informal[:5]


def test_every_shipped_flow_passes_the_check():
    flows = load_flows(actions=registered_actions())

    assert set(flows) == SHIPPED
    assert {name for name, flow in flows.items() if flow.direction == "outbound"} == {
        "transaction_alert",
        "registration_check",
        "withdrawal_check",
        "account_change_check",
        "campaign_notice",
        "agent_callback",
        "feedback_call",
    }
    # A stub says so, in the file, with the issue that completes it.
    assert all("#" in flow.stub for flow in flows.values() if flow.stub)


def test_flows_check_command_passes_on_the_shipped_flows(client, app):
    result = app.test_cli_runner().invoke(args=["flows", "check"])

    assert result.exit_code == 0, result.output
    assert "10 flows OK" in result.output


@pytest.mark.parametrize(
    ("language", "text", "words"),
    [
        ("en", "Please tell us your password.", '("tell" ... "password")'),
        ("en", "The code we texted you: read it to me.", '("read it" ... "code we texted")'),
        ("it", "Ci dica il codice che le abbiamo inviato per SMS.", '("dica" ... "codice che'),
        ("pl", "Podaj kod, który otrzymałeś w wiadomości SMS.", '("Podaj" ... "kod, który'),
        ("zh", "请告诉我您手机上收到的验证码。", '("告诉" ... "收到的验证码")'),
    ],
)
def test_a_prompt_asking_for_a_secret_is_refused_naming_the_node_language_and_words(
    alert, prompts, language, text, words
):
    alert["nodes"]["explain"]["prompt"][language] = text

    problems = problems_of(alert, prompts)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"node explain: prompt: the '{language}' text asks for ")
    assert words in problems[0]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Please tell us your password."),
        ("en", "Type your PIN now."),
        ("en", "Read me the card number."),
        ("en", "Enter the three digits of the CVV."),
        ("en", "Type the SMS code we sent you."),
        ("it", "Digita la password del conto."),
        ("it", "Dimmi la password."),
        ("it", "Inserisci il codice ricevuto via SMS."),
        ("it", "Qual è il numero della carta?"),
        ("pl", "Podaj hasło do bankowości."),
        ("pl", "Wpisz kod z SMS."),
        ("pl", "Podaj numer karty."),
        ("zh", "请告诉我们您的密码。"),
        ("zh", "请输入短信验证码。"),
        ("zh", "请提供您的卡号。"),
    ],
)
def test_a_prompt_asking_for_a_secret_fails_in_any_language(alert, prompts, language, text):
    alert["nodes"]["explain"]["prompt"][language] = text

    problems = problems_of(alert, prompts)

    assert any(f"'{language}' text asks for" in p and "explain" in p for p in problems), problems


def test_the_promise_names_every_secret_and_still_passes_the_check():
    # It names them to say we never ask: the check reads the negation, so it passes.
    for language in LANGUAGES:
        assert forbidden_asks(NEVER_ASK[language]) == [], language


def test_ordinary_prompts_are_not_mistaken_for_asks():
    for text in [
        "Type the one-time code shown in our app, on your keypad.",
        "Richiamaci al numero indicato sul nostro sito o sulla tua carta.",
        "Oddzwoń na numer podany na naszej stronie lub na karcie.",
        "请拨打我们官网或您卡片背面的号码回电。",
        "Keep in mind: spinning up a new account takes a minute.",
    ]:
        assert forbidden_asks(text) == [], text


def test_flows_check_names_the_file_node_language_and_words(app, tmp_path):
    for path in FLOWS_DIRECTORY.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    alert = yaml.safe_load((tmp_path / "transaction_alert.yaml").read_text(encoding="utf-8"))
    alert["nodes"]["explain"]["prompt"]["it"] = "Ci dica il codice che le abbiamo inviato per SMS."
    (tmp_path / "transaction_alert.yaml").write_text(
        yaml.safe_dump(alert, allow_unicode=True), encoding="utf-8"
    )

    result = app.test_cli_runner().invoke(args=["flows", "check", "--directory", str(tmp_path)])

    assert result.exit_code == 1
    assert (
        "transaction_alert.yaml: node explain: prompt: the 'it' text asks for un codice inviato "
        'alla persona ("dica" ... "codice che le abbiamo inviato"): a call never asks for a secret'
    ) in result.output


def test_a_prompt_missing_a_language_fails(alert, prompts):
    del alert["nodes"]["explain"]["prompt"]["pl"]

    assert "node explain: prompt: missing the 'pl' text" in problems_of(alert, prompts)


def test_a_reference_to_a_missing_node_fails(alert, prompts):
    alert["nodes"]["ask_confirm"]["choices"]["2"] = "nowhere"

    assert "node ask_confirm: refers to a node that does not exist: 'nowhere'" in problems_of(
        alert, prompts
    )


def test_an_unreachable_node_fails(alert, prompts):
    alert["nodes"]["orphan"] = {"type": "hangup"}

    assert "node orphan: cannot be reached from the start" in problems_of(alert, prompts)


def test_a_path_that_never_ends_fails(alert, prompts):
    # After a wrong code the caller is sent back to the menu forever: no hangup is reachable.
    alert["nodes"]["verify"]["on_failure"] = "ask_confirm"
    alert["nodes"]["ask_confirm"]["fallback"] = "ask_confirm"
    alert["nodes"]["ask_confirm"]["choices"] = {"1": "ask_confirm"}
    alert["nodes"]["ask_confirm"].pop("speech")

    problems = problems_of(alert, prompts)

    assert any("no path from here ever ends the call" in p for p in problems), problems


def test_a_loop_that_never_waits_for_the_caller_fails(alert, prompts):
    alert["nodes"]["reference"]["next"] = "hello"

    problems = problems_of(alert, prompts)

    assert any("loop that never waits" in p for p in problems), problems


def test_an_outbound_flow_must_say_it_never_asks_for_secrets_before_asking_anything(alert, prompts):
    alert["nodes"]["hello"]["next"] = "reference"
    del alert["nodes"]["never_ask"]

    problems = problems_of(alert, prompts)

    assert any("never ask for a password or PIN" in p for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["nodes"]["explain"].update(type="shout"), "type must be one of"),
        (lambda d: d["nodes"]["explain"].pop("next"), "say needs 'next'"),
        (lambda d: d["nodes"]["explain"].update(colour="red"), "unknown keys ['colour']"),
        (lambda d: d.update(version="one"), "version must be a whole number"),
        (lambda d: d.update(name="other"), "must match the file name"),
        (lambda d: d.update(start="nope"), "start node 'nope' does not exist"),
        (lambda d: d["nodes"]["verify"].update(tries=9), "tries must be 1 to 3"),
        (lambda d: d["nodes"]["confirmed"].update(value="happy"), "value must be one of"),
        (
            lambda d: d["nodes"]["explain"]["prompt"].update(en="Pay {fee} now"),
            "unknown variable {fee}",
        ),
        (lambda d: d["nodes"]["hello"].update(prompt="@nothing"), "unknown common prompt"),
    ],
)
def test_schema_errors_are_named(alert, prompts, change, expected):
    data = copy.deepcopy(alert)
    change(data)

    problems = problems_of(data, prompts)

    assert any(expected in p for p in problems), problems


def test_flows_check_fails_on_a_directory_with_a_bad_flow(tmp_path: Path, app):
    for path in FLOWS_DIRECTORY.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    bad = (
        (tmp_path / "transaction_alert.yaml")
        .read_text()
        .replace("Se ha fatto Lei questo pagamento", "Dimmi la tua password. Se ha fatto Lei")
    )
    (tmp_path / "transaction_alert.yaml").write_text(bad)

    result = app.test_cli_runner().invoke(args=["flows", "check", "--directory", str(tmp_path)])

    assert result.exit_code == 1
    assert (
        "transaction_alert.yaml: node ask_confirm: prompt: the 'it' text asks for una password "
        '("Dimmi" ... "password")' in result.output
    )


@pytest.fixture
def complaints_line() -> dict:
    return yaml.safe_load((FLOWS_DIRECTORY / "complaints_line.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Twilio transcribes only recordings of two minutes or less: 180 s would never be.
        (
            lambda node: node.update(max_seconds=180),
            "Twilio transcribes only recordings of 120 seconds or less",
        ),
        # A silent caller must go somewhere: after <Record> Twilio goes on with the next verb.
        (lambda node: node.pop("on_silence"), "record needs 'on_silence'"),
        (lambda node: node.update(max_seconds=1), "max_seconds must be a whole number"),
        (lambda node: node.update(transcribe="yes"), "transcribe must be true or false"),
    ],
)
def test_a_record_node_twilio_would_not_transcribe_or_that_drops_silence_fails(
    complaints_line, prompts, change, expected
):
    data = copy.deepcopy(complaints_line)
    change(data["nodes"]["record"])

    problems = problems_of(data, prompts, name="complaints_line")

    assert any(expected in p for p in problems), problems


def test_a_long_record_node_is_allowed_without_transcription(complaints_line, prompts):
    data = copy.deepcopy(complaints_line)
    data["nodes"]["record"].update(max_seconds=600, transcribe=False)

    assert problems_of(data, prompts, name="complaints_line") == []


@pytest.fixture
def line() -> dict:
    return yaml.safe_load((FLOWS_DIRECTORY / "verify_caller_line.yaml").read_text())


def test_an_inbound_line_may_not_speak_a_matter_before_a_right_code(line, prompts):
    # The old line: "we have been trying to reach you about {amount}", before any code.
    line["nodes"]["pending"]["prompt"]["it"] = "Ti cerchiamo per un pagamento di {amount}."
    line["nodes"]["not_called"]["prompt"]["en"] = "Hello {name}, we have not called you."

    problems = problems_of(line, prompts, "verify_caller_line")

    assert any("node pending: speaks {amount} to a caller who has not typed" in p for p in problems)
    assert any("node not_called: speaks {name}" in p for p in problems), problems


def test_an_inbound_line_may_not_take_a_callback_before_a_right_code(line, prompts):
    # The old line: pressing 1 took the callback first, and asked for the code after.
    line["nodes"]["continue"] = {
        "type": "action",
        "action": "continue_callback",
        "default": "verify",
    }
    line["nodes"]["verify"]["on_success"] = "unavailable"
    line["nodes"]["confirm_later"]["choices"]["2"] = "unavailable"  # "go on now" took it too
    del line["nodes"]["take_callback"]

    problems = problems_of(line, prompts, "verify_caller_line")

    assert any(
        "node continue: continue_callback can be reached without a right code" in p
        for p in problems
    ), problems


def test_after_a_right_code_the_matter_may_be_said(line, prompts):
    line["nodes"]["take_callback"] = {
        "type": "say",
        "next": "unavailable",
        "prompt": {language: "{amount} {name}" for language in LANGUAGES},
    }

    assert problems_of(line, prompts, "verify_caller_line") == []


def test_no_flow_may_mark_a_caller_verified_but_a_right_code(line, prompts):
    line["nodes"]["pending"]["save_as"] = "verified"

    problems = problems_of(line, prompts, "verify_caller_line")

    assert "node pending: save_as may not be 'verified': only a right code sets it" in problems


def test_no_flow_may_set_the_time_of_verification_but_a_right_code(line, prompts):
    line["nodes"]["pending"]["save_as"] = "verified_at"

    problems = problems_of(line, prompts, "verify_caller_line")

    assert "node pending: save_as may not be 'verified_at': only a right code sets it" in problems


# ----- the queue node: a person takes the call -----


def test_an_outbound_flow_may_not_queue_a_caller_for_a_person_before_a_right_code(alert, prompts):
    # "Press 0" offered before the code: the agent would take an unverified caller for the customer.
    alert["nodes"]["explain"] = {
        "type": "gather",
        "prompt": {language: "Press 1 to go on. Press 0 to speak to us." for language in LANGUAGES},
        "choices": {"1": "verify", "0": "early"},
        "fallback": "verify",
    }
    alert["nodes"]["early"] = {
        "type": "queue",
        "skill": "general",
        "prompt": "@connect_general",
        "next": "after_agent",
        "unavailable": "verify",
    }

    problems = problems_of(alert, prompts)

    assert problems == [
        "node early: a caller can reach this queue without a right code: put a verify node "
        "before it, or say unverified: true (the agent is told)"
    ]
    alert["nodes"]["early"]["unverified"] = True
    assert problems_of(alert, prompts) == []


def test_the_shipped_queues_before_a_code_say_they_are_unverified(line, prompts):
    assert line["nodes"]["speak_to_us"]["unverified"] is True
    del line["nodes"]["speak_to_us"]["unverified"]

    problems = problems_of(line, prompts, "verify_caller_line")

    assert any(p.startswith("node speak_to_us: a caller can reach this queue") for p in problems)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda node: node.update(skill="sales"), "skill must be one of fraud, withdrawals"),
        (lambda node: node.update(priority="urgent"), "priority must be one of high, medium"),
        (lambda node: node.update(offer_callback_after=0), "offer_callback_after must be whole"),
        (lambda node: node.update(offer_callback_after="3"), "offer_callback_after must be whole"),
        (lambda node: node.update(unverified="yes"), "unverified must be true or false"),
        (lambda node: node.update(unavailable="nowhere"), "does not exist: 'nowhere'"),
        (lambda node: node.pop("unavailable"), "queue needs 'unavailable'"),
        (lambda node: node.pop("skill"), "queue needs 'skill'"),
        (lambda node: node.update(to="+14155550100"), "unknown keys ['to']"),
    ],
)
def test_a_queue_node_is_checked(alert, prompts, change, expected):
    change(alert["nodes"]["speak_to_us"])

    problems = problems_of(alert, prompts)

    assert any(expected in p for p in problems), problems


def test_every_flow_that_verifies_offers_a_person_after_the_code(prompts):
    flows = load_flows(actions=registered_actions())
    skills = {
        "transaction_alert": "fraud",
        "withdrawal_check": "withdrawals",
        "account_change_check": "fraud",
        "registration_check": "general",
    }
    for name, skill in skills.items():
        nodes = flows[name].nodes
        assert nodes["ask_confirm"]["choices"]["0"] == "speak_to_us"
        assert "press 0" in nodes["ask_confirm"]["prompt"]["en"]
        assert nodes["speak_to_us"]["skill"] == skill
        # "It was not me": the denial is recorded first, then the fraud team, before anyone else.
        assert nodes["denied"]["value"] == "denied"
        assert nodes[nodes["denied"]["next"]]["next"] == "fraud_team"
        assert (nodes["fraud_team"]["skill"], nodes["fraud_team"]["priority"]) == ("fraud", "high")


def test_a_queue_whose_unavailable_link_comes_straight_back_to_it_fails(alert, prompts):
    # With nobody to take the call, the flow would go round without ever waiting for the caller.
    alert["nodes"]["speak_to_us"]["unavailable"] = "sorry"
    alert["nodes"]["sorry"] = {"type": "say", "prompt": "@nobody_free", "next": "speak_to_us"}
    del alert["nodes"]["nobody_free"]

    problems = problems_of(alert, prompts)

    assert any("is in a loop that never waits for the caller" in p for p in problems), problems


def test_every_flow_has_a_title_in_each_language_and_only_campaign_notice_is_for_campaigns(app):
    from app.flows.registry import flows

    with app.app_context():
        loaded = flows()

    assert all(set(flow.title) == {"en", "it", "pl", "zh"} for flow in loaded.values())
    assert [name for name, flow in loaded.items() if flow.campaign] == ["campaign_notice"]
    assert loaded["transaction_alert"].title_in("pl") == "Weryfikacja nietypowej płatności"


def test_a_title_missing_a_language_or_not_a_mapping_is_refused():
    from app.flows.definition import _title_problems

    assert _title_problems({"en": "Check", "it": "Verifica", "pl": "Sprawdzenie"}) == [
        "title: needs a text in 'zh'"
    ]
    assert _title_problems("Check") == ["title must be a mapping of en, it, pl, zh to a short text"]

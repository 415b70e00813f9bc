"""Flows name actions that the domains registered; the engine imports none of its plug-ins.

A flow naming an action that no domain registered fails `flows check` and stops the app at
start, rather than a live call with a KeyError.
"""

from __future__ import annotations

import ast
import functools
import shutil
from pathlib import Path

import pytest
import yaml

from app import create_app
from app.flows.definition import FLOWS_DIRECTORY, FlowError, load_flows
from app.registry import FlowAction, RegistryFrozen, flow_actions_of, registry_of

APP_DIRECTORY = Path(__file__).resolve().parents[2] / "app"


def bare_app(**settings):
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})


@functools.cache
def registered_actions() -> dict[str, FlowAction]:
    """The flow actions an app's domains register."""
    return dict(flow_actions_of(bare_app()))


def shipped_flows_with(tmp_path: Path, flow: str, node: str, action: str) -> Path:
    """The shipped flows in tmp_path, with one action node naming another action."""
    for path in FLOWS_DIRECTORY.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / f"{flow}.yaml").read_text(encoding="utf-8"))
    data["nodes"][node]["action"] = action
    (tmp_path / f"{flow}.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    return tmp_path


def test_every_action_a_shipped_flow_names_is_registered_with_its_results():
    named = {
        node["action"]: set(node.get("cases", {}))
        for flow in load_flows(actions=registered_actions()).values()
        for node in flow.nodes.values()
        if node["type"] == "action"
    }

    assert set(named) == set(registered_actions())
    for name, cases in named.items():
        assert cases <= set(registered_actions()[name].results), name


def test_the_domains_register_each_action_with_its_results_and_variables():
    actions = registered_actions()

    assert actions["lookup_keyed_number"].results == (
        "calls_you",
        "never_calls",
        "retired",
        "not_ours",
        "unreadable",
    )
    assert actions["file_complaint"].sets == ("complaint_reference", "due")
    assert actions["opt_out"].run.__module__ == "app.campaigns.line"
    # Only taking a callback (on our line, or the next matter of a call), or putting it off from
    # our line ("call me later"), needs a right code first.
    assert {name for name, action in actions.items() if action.after_verify} == {
        "continue_callback",
        "next_matter",
        "offer_call_back_later",
        "call_back_later",
    }
    assert actions["next_matter"].run.__module__ == "app.callbacks.line"


def test_flows_check_fails_on_a_flow_naming_an_action_nobody_registered(tmp_path):
    folder = shipped_flows_with(tmp_path, "campaign_notice", "opt_out", "transfer_money")
    app = bare_app()

    result = app.test_cli_runner().invoke(args=["flows", "check", "--directory", str(folder)])

    assert result.exit_code == 1
    assert "campaign_notice.yaml: node opt_out: action 'transfer_money' is not registered" in (
        result.output
    )


def test_the_app_does_not_start_with_a_flow_naming_an_action_nobody_registered(tmp_path):
    folder = shipped_flows_with(tmp_path, "complaints_line", "file", "file_a_complaint")

    with pytest.raises(FlowError, match="node file: action 'file_a_complaint' is not registered"):
        bare_app(FLOWS_DIRECTORY=str(folder))


def test_a_domain_that_stops_registering_its_action_fails_the_shipped_flows():
    without_opt_out = {k: v for k, v in registered_actions().items() if k != "opt_out"}

    with pytest.raises(FlowError, match=r"campaign_notice\.yaml: node opt_out: action 'opt_out'"):
        load_flows(actions=without_opt_out)


def test_flows_check_passes_and_lists_the_registered_actions():
    runner = bare_app().test_cli_runner()

    assert runner.invoke(args=["flows", "check"]).exit_code == 0
    listed = runner.invoke(args=["flows", "actions"])
    assert listed.exit_code == 0, listed.output
    assert (
        "continue_callback (app.authenticity.line): results continued, unavailable; sets name; "
        "after a right code only"
    ) in listed.output.splitlines()
    assert len(listed.output.splitlines()) == len(registered_actions())


def test_nothing_registers_once_the_app_is_built():
    registry = registry_of(bare_app())

    with pytest.raises(RegistryFrozen):
        registry.flow_action("late", lambda session, call, values: None, results=("done",))
    with pytest.raises(RegistryFrozen):
        registry.tick("late", 1.0, lambda app, worker: None)
    with pytest.raises(RegistryFrozen):
        registry.queueing(object())
    assert "late" not in registry.flow_actions


def test_one_queue_for_people_and_without_one_nobody_can_take_a_call():
    from flask import Flask

    from app.agents.queueing import AgentsQueue
    from app.flows.ports import NobodyToTake
    from app.flows.registry import queueing_of
    from app.registry import _KEY as REGISTRY
    from app.registry import DuplicateName, Registry

    registry = Registry()
    registry.queueing("the agents' queue")
    with pytest.raises(DuplicateName):
        registry.queueing("another")
    assert registry.queue == "the agents' queue"
    # The app's is the agents domain's; an app where no domain registered one has nobody.
    assert isinstance(queueing_of(bare_app()), AgentsQueue)
    nobody = Flask("bare")
    nobody.extensions[REGISTRY] = Registry()
    assert isinstance(queueing_of(nobody), NobodyToTake)


# The layers the engine may use: the platform, and itself. Domains, carriers and faces reach it
# through its ports (app/flows/ports.py) and the registry.
PLATFORM = {
    "app.audit",
    "app.clock",
    "app.database",
    "app.errors",
    "app.extensions",
    "app.locales",
    "app.outcomes",
    "app.phones",
    "app.registry",
}


def app_imports(path: Path) -> set[str]:
    """The app modules a file imports, at any depth (functions and TYPE_CHECKING included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name == "app" or name.startswith("app.")}


def test_the_flows_engine_imports_only_the_platform_and_itself():
    for path in sorted((APP_DIRECTORY / "flows").glob("*.py")):
        outside = {
            name
            for name in app_imports(path)
            if not name.startswith("app.flows")
            and not any(name == p or name.startswith(p + ".") for p in PLATFORM)
        }
        assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("module", ["__init__.py", "worker/process.py", "registry.py"])
def test_the_factory_the_worker_and_the_registry_name_no_domain(module):
    # create_app names the domains once, in DOMAINS; the rest only reads the registry.
    domains = {
        "app.apikeys",
        "app.authenticity",
        "app.callbacks",
        "app.campaigns",
        "app.complaints",
        "app.console",
        "app.customers",
        "app.fraud",
        "app.health",
        "app.numbers",
        "app.staff",
        "app.calls",
        "app.ivr",
        "app.softphone",
        "app.verification",
    }
    imported = app_imports(APP_DIRECTORY / module)

    assert not {
        name for name in imported if any(name == d or name.startswith(d + ".") for d in domains)
    }

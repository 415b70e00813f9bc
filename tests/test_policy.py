"""Policy files: one versioned YAML file per concern; the product reads every key, and no more."""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import time, timedelta
from pathlib import Path

import pytest
import yaml

from app import create_app
from app.callbacks.policy import Policy as CallbackPolicy
from app.complaints.policy import ComplaintsPolicy
from app.policy import PolicyError, clock, declared_keys, duration, load
from app.verification.policy import VerificationPolicy

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

#: Each policy on the shared loader: its class, its file, and the setting that points elsewhere.
POLICIES = [
    pytest.param(VerificationPolicy, "verification.yaml", "VERIFICATION_POLICY_FILE", id="verif"),
    pytest.param(ComplaintsPolicy, "complaints.yaml", "COMPLAINTS_POLICY_FILE", id="complaints"),
    pytest.param(CallbackPolicy, "callback_policy.yaml", "CALLBACK_POLICY_FILE", id="callbacks"),
]


def _reads(tree: ast.AST) -> set[str]:
    """Attribute names read in a module, outside __post_init__ (a check is not a use)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef) and node.name == "__post_init__":
            return
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            found.add(node.attr)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _app_with(tmp_path: Path, **settings: str):  # type: ignore[no-untyped-def]
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", **settings})


@pytest.mark.parametrize(("policy_class", "filename", "setting"), POLICIES)
def test_every_rule_a_policy_file_declares_is_read_by_the_product(policy_class, filename, setting):
    read = set().union(*(_reads(ast.parse(p.read_text())) for p in APP.rglob("*.py")))
    # `version` is read by the loader itself (it is required); every other field is a rule, but
    # for a promise the file states and the loader only checks (e.g. "retries.unknown: []").
    checked_only = getattr(policy_class, "CHECKED_ONLY", frozenset())
    rules = {f.name for f in dataclasses.fields(policy_class)} - {"version"} - checked_only

    assert checked_only <= {f.name for f in dataclasses.fields(policy_class)}

    assert rules - read == set(), f"rules of {filename} that nothing in app/ reads"


@pytest.mark.parametrize(("policy_class", "filename", "setting"), POLICIES)
def test_the_shipped_file_holds_every_declared_key_and_no_other(policy_class, filename, setting):
    data = yaml.safe_load((ROOT / "config" / filename).read_text())

    def present(key: str) -> bool:
        node = data
        for part in key.split("."):
            if part not in node:
                return False
            node = node[part]
        return True

    assert [key for key in declared_keys(policy_class) if not present(key)] == []
    assert load(policy_class, ROOT / "config" / filename).version >= 1


@pytest.mark.parametrize(("policy_class", "filename", "setting"), POLICIES)
@pytest.mark.parametrize("where", ["top", "nested"])
def test_a_key_that_nothing_reads_stops_the_app_at_start_up(
    tmp_path, policy_class, filename, setting, where
):
    data = yaml.safe_load((ROOT / "config" / filename).read_text())
    if where == "top":
        data["retries_per_code"], unknown = 3, "retries_per_code"
    else:
        section = next(k for k in declared_keys(policy_class) if "." in k).split(".")[0]
        data[section]["reminder_before"], unknown = "2h", f"{section}.reminder_before"
    copy = tmp_path / filename
    copy.write_text(yaml.safe_dump(data, allow_unicode=True))

    with pytest.raises(PolicyError) as refused:
        _app_with(tmp_path, **{setting: str(copy)})

    assert str(copy) in str(refused.value)
    assert f"unknown key {unknown!r}" in str(refused.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("version: 1\n", ""), "version: missing"),
        (("version: 1", "version: first"), "version: 'first' is not a whole number"),
        (("within: 24h", "within: soon"), "lock.within: 'soon' is not a duration like 10m"),
        (("within: 24h", "within: 0h"), "lock.within: '0h' must be longer than zero"),
        (("after_failures: 10", "after_failures: 0"), "lock.after_failures: 0 is not a whole"),
        (("  after_failures: 10\n", ""), "lock.after_failures: missing"),
        (("steps_either_side: 1", "steps_either_side: 5"), "authenticator.steps_either_side"),
        (("lock:\n  after_failures: 10\n  within: 24h", "lock: 10"), "lock: expected a mapping"),
    ],
)
def test_a_wrong_or_missing_value_is_refused_naming_the_file_and_the_key(tmp_path, change, message):
    copy = tmp_path / "verification.yaml"
    text = (ROOT / "config" / "verification.yaml").read_text()
    assert change[0] in text
    copy.write_text(text.replace(change[0], change[1], 1))

    with pytest.raises(PolicyError, match=f"^{re.escape(str(copy))}: ") as refused:
        _app_with(tmp_path, VERIFICATION_POLICY_FILE=str(copy))

    assert message in str(refused.value)


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(PolicyError, match=r"nowhere\.yaml: cannot be read"):
        _app_with(tmp_path, COMPLAINTS_POLICY_FILE=str(tmp_path / "nowhere.yaml"))


def test_a_complaints_department_must_exist(tmp_path):
    copy = tmp_path / "complaints.yaml"
    text = (ROOT / "config" / "complaints.yaml").read_text()
    copy.write_text(text.replace("  fraud_scam: fraud\n", "  fraud_scam: police\n"))

    with pytest.raises(PolicyError, match=r"categories\.fraud_scam: department 'police'"):
        load(ComplaintsPolicy, copy)


def test_durations_and_clock_times_are_read_one_way_for_every_policy():
    assert [duration(v, "x") for v in ("30s", "10m", "2h", "3d")] == [
        timedelta(seconds=30),
        timedelta(minutes=10),
        timedelta(hours=2),
        timedelta(days=3),
    ]
    assert clock("08:00", "x") == time(8, 0)
    with pytest.raises(PolicyError, match=r"retries\.no_answer: '10 minutes' is not a duration"):
        duration("10 minutes", "retries.no_answer")
    with pytest.raises(PolicyError, match=r"calling_window\.start: '8am' is not a time"):
        clock("8am", "calling_window.start")


def test_the_policy_loader_is_platform_code_that_imports_no_domain():
    tree = ast.parse((APP / "policy.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    assert {name for name in imported if name == "app" or name.startswith("app.")} == set()

"""One module owns a callback's life: no other module sets a callback's status."""

from __future__ import annotations

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
OWNER = APP / "callbacks" / "lifecycle.py"
RAW_UPDATE = re.compile(r"UPDATE\s+callbacks\s+SET\b[^;]*\bstatus\b", re.IGNORECASE | re.DOTALL)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _status_targets(target: ast.expr, value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    """(target, value) pairs of an assignment, tuples unpacked pairwise."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        pairs = zip(target.elts, value.elts, strict=False)
        return [pair for t, v in pairs for pair in _status_targets(t, v)]
    return [(target, value)]


def _callback_status_writes(tree: ast.AST) -> list[int]:
    """Lines that set a callback's status: `x.status = CallbackStatus...`, `callback.status = ...`,
    or `.values(status=CallbackStatus...)` / `update(Callback)...values(status=...)`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for t, v in _status_targets(target, node.value):
                    if not (isinstance(t, ast.Attribute) and t.attr == "status"):
                        continue
                    owner = _names(t.value)
                    if "CallbackStatus" in _names(v) or owner & {"callback", "cb", "Callback"}:
                        lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "values":
                continue
            chain = _names(node.func.value)
            for keyword in node.keywords:
                if keyword.arg == "status" and (
                    "CallbackStatus" in _names(keyword.value) or "Callback" in chain
                ):
                    lines.append(node.lineno)
    return lines


def test_only_the_lifecycle_module_sets_a_callbacks_status():
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if path == OWNER or "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(APP.parent)
        offenders += [f"{where}:{line}" for line in _callback_status_writes(ast.parse(source))]
        offenders += [f"{where}: raw UPDATE" for _ in RAW_UPDATE.finditer(source)]
    assert offenders == [], "set a callback's status through app/callbacks/lifecycle.py"


def test_the_scan_sees_the_ways_a_status_is_set():
    """The check above would catch each way the status used to be set outside lifecycle.py."""
    samples = [
        "callback.status = CallbackStatus.IN_CALL",
        "callback.status, callback.next_attempt_at = CallbackStatus.QUEUED, until",
        "update(Callback).where(Callback.id == i).values(status=CallbackStatus.IN_CALL)",
        "session.execute(queued.values(status=CallbackStatus.DONE, outcome=o))",
    ]
    for sample in samples:
        assert _callback_status_writes(ast.parse(sample)), sample
    assert RAW_UPDATE.search("UPDATE callbacks SET status = 'done' WHERE id = :id")
    # Other rows' statuses are not a callback's.
    assert not _callback_status_writes(ast.parse("attempt.status = AttemptStatus.PLACED"))
    assert not _callback_status_writes(ast.parse("campaign.status = CampaignStatus.RUNNING"))


def test_callbacks_import_nothing_from_campaigns():
    """Campaigns reach their callbacks through the dial profile stored on each, not imports."""
    importers = []
    for path in sorted((APP / "callbacks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(m == "app.campaigns" or m.startswith("app.campaigns.") for m in modules):
                importers.append(f"{path.name}:{node.lineno}")
    assert importers == []


def test_outcomes_is_a_platform_module():
    """app/outcomes.py is shared by flows, calls and callbacks: it imports nothing from app."""
    tree = ast.parse((APP / "outcomes.py").read_text(encoding="utf-8"))
    modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in modules if m == "app" or m.startswith("app.")]

"""The flows of the running app, loaded (and checked) once when the app is built."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from app.flows.definition import Flow, load_flows
from app.flows.safety import rules

_CACHE: dict[tuple[str, tuple[tuple[str, int], ...]], dict[str, Flow]] = {}


def init_flows(app: Flask) -> None:
    """Load call_flows/; a broken flow stops the app at start rather than in a live call."""
    directory = Path(app.config.get("FLOWS_DIRECTORY") or Path(__file__).parents[2] / "call_flows")
    # Files unchanged since the last load (same names, same mtimes) are not parsed again.
    key = (
        str(directory),
        tuple((p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.yaml"))),
    )
    rules()  # the safety rules (call_flows/safety/): a broken file stops the app here too
    if key not in _CACHE:
        _CACHE[key] = load_flows(directory)
    app.extensions["flows"] = _CACHE[key]


def flows() -> dict[str, Flow]:
    return current_app.extensions["flows"]


def inbound_flow_names() -> set[str]:
    return {name for name, flow in flows().items() if flow.direction == "inbound"}

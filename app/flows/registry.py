"""The flows of the running app, loaded (and checked) once when the app is built."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from app.flows.definition import FLOWS_DIRECTORY, Flow, load_flows
from app.flows.ports import NobodyToTake, Queueing
from app.flows.safety import rules
from app.registry import flow_actions_of, registry_of

_CACHE: dict[tuple[object, ...], dict[str, Flow]] = {}


def flows_directory(app: Flask) -> Path:
    return Path(app.config.get("FLOWS_DIRECTORY") or FLOWS_DIRECTORY)


def init_flows(app: Flask) -> None:
    """Load call_flows/ against the actions the domains registered; a broken flow, or one naming
    an action nobody registered, stops the app at start rather than in a live call."""
    directory = flows_directory(app)
    actions = flow_actions_of(app)
    # Files unchanged since the last load (same names, same mtimes), checked against the same
    # actions, are not parsed again.
    key = (
        str(directory),
        tuple((p.name, p.stat().st_mtime_ns) for p in sorted(directory.glob("*.yaml"))),
        tuple(sorted(actions.items())),
    )
    rules()  # the safety rules (call_flows/safety/): a broken file stops the app here too
    if key not in _CACHE:
        _CACHE[key] = load_flows(directory, actions=actions)
    app.extensions["flows"] = _CACHE[key]


def flows() -> dict[str, Flow]:
    loaded: dict[str, Flow] = current_app.extensions["flows"]
    return loaded


def inbound_flow_names() -> set[str]:
    return {name for name, flow in flows().items() if flow.direction == "inbound"}


def queueing_of(app: Flask) -> Queueing:
    """The queue for people a domain registered, or one where nobody can take a call (tests may
    put another in app.extensions["queueing"])."""
    queue: Queueing | None = app.extensions.get("queueing") or registry_of(app).queue
    return queue if queue is not None else NobodyToTake()

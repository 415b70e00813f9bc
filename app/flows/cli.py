"""`flask flows check` and `flask flows actions`: operators' tools for call flows.

(`flask flows walk`, which plays a flow on the simulator with the demo data, is app/walk.py: it
needs the carriers and the domains, which the engine does not import.)
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.flows.definition import FlowError, load_flows
from app.flows.registry import flows_directory
from app.flows.safety import SafetyRulesError
from app.registry import flow_actions_of

flows_cli = AppGroup("flows", help="Check call flows and walk through them on the simulator.")


@flows_cli.command("check")
@click.option(
    "--directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of flows (default: call_flows/).",
)
def check_flows(directory: Path | None) -> None:
    """Check every flow: schema, links, endings, languages, no asking for secrets, and only
    actions the app registered."""
    folder = directory or flows_directory(current_app)
    try:
        flows = load_flows(folder, actions=flow_actions_of(current_app))
    except (FlowError, SafetyRulesError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for name, flow in sorted(flows.items()):
        note = " (stub: " + flow.stub.split(";")[0] + ")" if flow.stub else ""
        click.echo(f"{name} v{flow.version} {flow.direction}: OK{note}")
    click.echo(f"{len(flows)} flows OK")


@flows_cli.command("actions")
def list_actions() -> None:
    """List the actions flows may name: who registered them, their results and variables."""
    for name, action in sorted(flow_actions_of(current_app).items()):
        where = getattr(action.run, "__module__", "?")
        sets = ", ".join(action.sets) or "-"
        guard = "; after a right code only" if action.after_verify else ""
        click.echo(f"{name} ({where}): results {', '.join(action.results)}; sets {sets}{guard}")

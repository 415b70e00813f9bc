"""`flask flows check` and `flask flows walk`: operators' tools for call flows."""

from __future__ import annotations

import hmac
import tempfile
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.flows.definition import FLOWS_DIRECTORY, FlowError, load_flows
from app.flows.prompts import LANGUAGES
from app.flows.safety import SafetyRulesError

flows_cli = AppGroup("flows", help="Check call flows and walk through them on the simulator.")

DEMO_VALUES = {"amount": "249.90", "currency": "EUR", "merchant": "Electro Shop"}


@flows_cli.command("check")
@click.option(
    "--directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of flows (default: call_flows/).",
)
def check_flows(directory: Path | None) -> None:
    """Check every flow: schema, links, endings, languages, and no asking for secrets."""
    folder = directory or Path(current_app.config.get("FLOWS_DIRECTORY") or FLOWS_DIRECTORY)
    try:
        flows = load_flows(folder)
    except (FlowError, SafetyRulesError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for name, flow in sorted(flows.items()):
        note = " (stub: " + flow.stub.split(";")[0] + ")" if flow.stub else ""
        click.echo(f"{name} v{flow.version} {flow.direction}: OK{note}")
    click.echo(f"{len(flows)} flows OK")


@flows_cli.command("walk")
@click.argument("flow")
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default="en",
    show_default=True,
    help="The callee's language.",
)
@click.option(
    "--digits",
    default="",
    help="Keys pressed at each question, comma-separated "
    "(an empty item presses nothing), e.g. 123456,1",
)
@click.option(
    "--answer",
    type=click.Choice(["human", "machine", "busy", "no-answer"]),
    default="human",
    show_default=True,
)
@click.option(
    "--code",
    "valid_code",
    default="123456",
    show_default=True,
    help="The app code the simulated verification accepts.",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value the prompts speak (amount, currency, merchant, time).",
)
def walk(
    flow: str, language: str, digits: str, answer: str, valid_code: str, variables: tuple[str, ...]
) -> None:
    """Play FLOW through the simulator and print the call turn by turn.

    Runs against a throwaway SQLite database with the demo data, never the real one.
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.audit.service import Actor
    from app.calls.models import Call
    from app.calls.service import CallUrls, start_outbound_call
    from app.carriers.signatures import signing_token
    from app.carriers.simulator import CalleeScript, SimulatorTelephony, WsgiTransport
    from app.customers.service import find_by_external_id
    from app.database import utcnow
    from app.demo import seed
    from app.extensions import db
    from app.numbers.models import OfficialNumber

    flows = current_app.extensions["flows"]
    if flow not in flows:
        raise click.UsageError(f"no flow {flow!r}; there are: {', '.join(sorted(flows))}")
    values = {**DEMO_VALUES, "time": (utcnow() - timedelta(minutes=12)).isoformat()}
    for item in variables:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--var takes NAME=VALUE, not {item!r}")
        values[name] = value
    keys = digits.split(",") if digits else []
    with tempfile.TemporaryDirectory() as folder:
        walk_app = create_app(
            {
                "APP_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/walk.db",
                "PUBLIC_BASE_URL": "https://walk.invalid",
                "COMPANY_NAME": current_app.config["COMPANY_NAME"],
                "FLOWS_DIRECTORY": current_app.config.get("FLOWS_DIRECTORY"),
                "LOG_LEVEL": "WARNING",
            }
        )
        simulator = SimulatorTelephony(
            transport=WsgiTransport(walk_app),
            auth_token=signing_token(walk_app.config),
            synchronous=True,
        )
        walk_app.extensions["telephony"] = simulator
        walk_app.extensions["code_checker"] = lambda session, call, code: hmac.compare_digest(
            code.encode(), valid_code.encode()
        )
        with walk_app.app_context():
            upgrade()
            actor = Actor("cli:flows-walk")
            seed(db.session, actor=actor)
            db.session.commit()
            customer = find_by_external_id(db.session, f"demo-{language}-1")
            script = CalleeScript(answer=answer, keys=keys)
            urls = CallUrls(walk_app)
            if flows[flow].direction == "outbound":
                simulator.expect(customer.phone, script)
                call_id = start_outbound_call(
                    db.session,
                    telephony=simulator,
                    urls=urls,
                    customer=customer,
                    flow=flows[flow],
                    variables=values,
                    actor=actor,
                ).id
                simulated = next(iter(simulator.calls.values()))
            else:
                line = db.session.query(OfficialNumber).filter_by(flow=flow).first()
                if line is None:
                    raise click.UsageError(f"no demo line answers with {flow}")
                simulated = simulator.call_in(
                    from_=customer.phone,
                    to=line.phone,
                    inbound_url=urls.inbound(),
                    status_url=urls.status(),
                    script=script,
                )
                call_id = db.session.query(Call.id).filter_by(sid=simulated.sid).scalar()
            db.session.expire_all()
            call = db.session.get_one(Call, call_id)
            click.echo(
                f"{flow} ({language}), {call.direction.value} call "
                f"{call.from_number} -> {call.to_number}, reference {call.reference}"
            )
            for line_ in simulated.lines:
                who = {"call": "CALL  ", "callee": "CALLEE", "carrier": "      "}[line_.who]
                click.echo(f"  {who} {line_.text}")
            click.echo(
                f"status: {call.status.value}; outcome: {call.outcome or '-'}; "
                f"events: {', '.join(e.status.value for e in call.events) or '-'}"
            )
            db.session.remove()
            db.engine.dispose()

"""`flask flows walk`: play a call flow on the simulator, with the demo data, turn by turn.

An operator's tool, and a face: it builds a throwaway app, seeds the demo customers and lines,
and rings them through the simulator carrier. It lives outside app/flows so that the engine
imports none of that; app/cli.py puts it in the `flows` command group.
"""

from __future__ import annotations

import hmac
import tempfile
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from app.audit.service import Actor
from app.calls.models import Call
from app.calls.service import CallUrls, start_outbound_call
from app.carriers.signatures import signing_token
from app.carriers.simulator import CalleeScript, SimulatorTelephony, WsgiTransport
from app.customers.service import find_by_external_id
from app.database import utcnow
from app.demo import seed
from app.extensions import db
from app.flows.prompts import LANGUAGES
from app.numbers.models import OfficialNumber

DEMO_VALUES = {"amount": "249.90", "currency": "EUR", "merchant": "Electro Shop"}


@click.command("walk")
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
    help="The answer to each question, comma-separated: keys (* hears it again), nothing (an "
    "empty item), or words said to a menu, e.g. 123456,1 or *,123456,yes",
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
@with_appcontext
def walk(
    flow: str, language: str, digits: str, answer: str, valid_code: str, variables: tuple[str, ...]
) -> None:
    """Play FLOW through the simulator and print the call turn by turn.

    Runs against a throwaway SQLite database with the demo data, never the real one.
    """
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
    from app import create_app  # the factory imports this module (through app.cli)

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
            seed(db.session(), actor=actor, keyring=walk_app.extensions["verification_keyring"])
            db.session.commit()
            customer = find_by_external_id(db.session(), f"demo-{language}-1")
            script = CalleeScript(answer=answer, keys=keys)
            urls = CallUrls(walk_app)
            if flows[flow].direction == "outbound":
                simulator.expect(customer.phone, script)
                call_id = start_outbound_call(
                    db.session(),
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

"""Operator actions as flask commands: `flask --app app <command>`."""

from __future__ import annotations

import getpass

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.apikeys import service as apikeys
from app.audit.service import Actor
from app.errors import DomainError
from app.extensions import db


def cli_actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}")


api_keys = AppGroup("api-keys", help="Create, list and revoke integrator API keys.")


@api_keys.command("create")
@click.argument("name")
def create_key(name: str) -> None:
    """Create a key named NAME and print it (it is shown only this once)."""
    try:
        key, plaintext = apikeys.create_api_key(db.session, actor=cli_actor(), name=name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(plaintext)
    click.echo(
        f"created API key {key.name!r} ({key.prefix}...); store it now, it is not kept", err=True
    )


@api_keys.command("list")
def list_keys() -> None:
    """List keys by name and prefix."""
    for key in apikeys.list_api_keys(db.session):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        click.echo(f"{key.prefix}...  {key.name}  created {key.created_at:%Y-%m-%d}  {state}")


@api_keys.command("revoke")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the key whose printed prefix is PREFIX."""
    try:
        key = apikeys.revoke_api_key(db.session, actor=cli_actor(), prefix=prefix)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"revoked {key.name!r} ({key.prefix}...)")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add demo official numbers and customers (safe to run again)."""
    from app.demo import seed

    created = seed(db.session, actor=cli_actor())
    db.session.commit()
    click.echo(
        f"demo data: {created['numbers']} official numbers and "
        f"{created['customers']} customers added"
    )


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the worker process (APScheduler) until SIGTERM or Ctrl-C."""
    from app.worker.process import run

    run(current_app._get_current_object())  # type: ignore[attr-defined]


def register_commands(app: Flask) -> None:
    from app.flows.cli import flows_cli

    app.cli.add_command(flows_cli)
    app.cli.add_command(api_keys)
    app.cli.add_command(seed_demo)
    app.cli.add_command(worker)

"""Operator actions as flask commands: `flask --app app <command>`."""

from __future__ import annotations

import getpass
import uuid

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.apikeys import service as apikeys
from app.audit.service import Actor
from app.errors import DomainError
from app.extensions import db
from app.registry import Registry


def cli_actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}")


api_keys = AppGroup("api-keys", help="Create, list and revoke integrator API keys.")


@api_keys.command("create")
@click.argument("name")
def create_key(name: str) -> None:
    """Create a key named NAME and print it (it is shown only this once)."""
    try:
        key, plaintext = apikeys.create_api_key(db.session(), actor=cli_actor(), name=name)
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
    for key in apikeys.list_api_keys(db.session()):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        click.echo(f"{key.prefix}...  {key.name}  created {key.created_at:%Y-%m-%d}  {state}")


@api_keys.command("revoke")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke the key whose printed prefix is PREFIX."""
    try:
        key = apikeys.revoke_api_key(db.session(), actor=cli_actor(), prefix=prefix)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"revoked {key.name!r} ({key.prefix}...)")


verification = AppGroup("verification", help="A customer's code verification: state and lock.")


def _customer_id(external_id: str) -> uuid.UUID:
    from app.customers.service import find_by_external_id

    try:
        return find_by_external_id(db.session(), external_id).id
    except DomainError:
        raise click.ClickException(f"no customer with external_id {external_id!r}") from None


@verification.command("status")
@click.argument("external_id")
def verification_status(external_id: str) -> None:
    """Show what the customer EXTERNAL_ID has enrolled and whether they are locked."""
    from app import clock
    from app.verification.checker import policy_for
    from app.verification.service import state

    info = state(
        db.session(), _customer_id(external_id), now=clock.now(), policy=policy_for(current_app)
    )
    click.echo(f"authenticator: {'enrolled' if info['authenticator'] else 'none'}")
    click.echo(f"app code: {'live' if info['app_code'] else 'none'}")
    click.echo(f"failed codes in the window: {info['failures']} of {info['max_failures']}")
    click.echo(f"locked: {'yes, since ' + str(info['locked_at']) if info['locked'] else 'no'}")


@verification.command("unlock")
@click.argument("external_id")
@click.option("--note", required=True, help="Why (a supervisor's decision is audited with it).")
def verification_unlock(external_id: str, note: str) -> None:
    """Let the customer EXTERNAL_ID verify with codes again (a supervisor's decision)."""
    from app import clock
    from app.verification.service import clear_lock

    actor = cli_actor()
    try:
        clear_lock(
            db.session(),
            _customer_id(external_id),
            cleared_by=f"supervisor:{actor.label}",
            note=note,
            now=clock.now(),
            actor=actor,
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{external_id}: unlocked")


staff_cli = AppGroup("staff", help="Console accounts: supervisors, agents, auditors.")


@staff_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Shown in the console and the audit log.")
@click.option("--role", type=click.Choice(["supervisor", "agent", "auditor"]), default="supervisor")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def create_staff_account(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a console account (the first supervisor, typically); asks for the password."""
    import sys

    from app.staff.models import Role
    from app.staff.service import create_staff

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(
            "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
        )
    try:
        user = create_staff(
            db.session(),
            email=email,
            name=name,
            role=Role(role),
            password=password,
            actor=cli_actor(),
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}; sign in at /console/login")


@staff_cli.command("reset-second-factor")
@click.argument("email")
def reset_staff_second_factor(email: str) -> None:
    """Remove an account's second factor (the only supervisor lost their phone and codes); they
    set up a new one at their next sign-in."""
    from sqlalchemy import func, select

    from app import clock
    from app.staff import second_factor
    from app.staff.models import EndReason, StaffUser
    from app.staff.service import end_sessions

    user = db.session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )
    if user is None:
        raise click.ClickException(f"no staff account {email}")
    second_factor.remove(db.session(), user, actor=cli_actor())
    end_sessions(
        db.session(), user, reason=EndReason.SECOND_FACTOR_RESET, now=clock.now(), actor=cli_actor()
    )
    db.session.commit()
    click.echo(f"{user.email}: second factor removed; they set up a new one at their next sign-in")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Add demo official numbers and customers (safe to run again)."""
    from app.demo import DEMO_CUSTOMERS, seed

    keyring = current_app.extensions["verification_keyring"]
    created = seed(db.session(), actor=cli_actor(), keyring=keyring)
    db.session.commit()
    click.echo(
        f"demo data: {created['numbers']} official numbers and "
        f"{created['customers']} customers added"
    )
    # What a person trying the product types to freeze a demo account ("press 9", or /freeze).
    for external_id, phone, _name, birth_date in DEMO_CUSTOMERS:
        click.echo(f"  {external_id}: {phone}, born {birth_date.isoformat()}")


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the worker process (APScheduler) until SIGTERM or Ctrl-C."""
    from app.worker.process import run

    # Flask types current_app as the Flask it stands for, not as the proxy it is.
    run(current_app._get_current_object())  # type: ignore[attr-defined]


def register_commands(registry: Registry) -> None:
    """The operators' commands (create_app adds what is registered to `flask`)."""
    from app.flows.cli import flows_cli
    from app.walk import walk

    # The engine's group checks flows; playing one on the simulator needs the domains.
    flows_cli.add_command(walk)
    for command in (flows_cli, api_keys, verification, staff_cli, seed_demo, worker):
        registry.command(command)

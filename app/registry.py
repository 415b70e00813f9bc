"""What the domains bring to the app: each domain's `init_app(app)` fills the app's registry,
and the factory, the worker and `flows check` only read it.

A bottom-layer module (NetBox's `netbox/registry.py`, warehouse's `includeme`): it imports no
domain, and no engine; domains import it. Each app has its own registry, made at the start of
`create_app` and frozen at its end: registering afterwards raises `RegistryFrozen`, so nothing
joins a running app behind the factory's back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import click
from blinker import Signal
from flask import Blueprint, Flask
from werkzeug.routing import BaseConverter

_KEY = "registry"


class RegistryFrozen(RuntimeError):
    """Something tried to register after create_app finished."""


class DuplicateName(ValueError):
    """Two registrations under one name (two ticks, two flow actions, two converters)."""


@dataclass(frozen=True)
class Tick:
    """A worker job, run every `every` seconds in an app context; a failure is logged and
    rolled back by the worker, and the next run goes on."""

    name: str
    #: Seconds between runs, or a function of the app (for an interval set by policy).
    every: float | Callable[[Flask], float]
    #: The work: called with the app and the worker's id, inside an app context.
    run: Callable[[Flask, str], None]
    #: Run it at once, between its intervals, on a wake-up hint (`app.wakeup.hint`).
    wake: bool = False

    def seconds(self, app: Flask) -> float:
        return float(self.every(app) if callable(self.every) else self.every)


@dataclass(frozen=True)
class FlowAction:
    """A flow's `action` node: the product answers a question mid-call.

    The flows engine knows actions only through this: `flows check` refuses a flow that names an
    action nobody registered, or a case the action never answers.
    """

    name: str
    #: (session, call, values) -> app.flows.actions.ActionResult
    run: Callable[[Any, Any, dict[str, Any]], Any]
    #: Every result it may answer (an action node's `cases` keys).
    results: tuple[str, ...]
    #: The call variables it may set (what later nodes may branch on or speak).
    sets: tuple[str, ...] = ()
    #: It takes the caller into a customer's matter: a flow must reach it only after a verify
    #: node's on_success.
    after_verify: bool = False


@dataclass(frozen=True)
class Receiver:
    signal: Signal
    function: Callable[..., Any]


class Registry:
    """One app's blueprints, worker ticks, signal receivers, flow actions, URL converters and
    CLI commands, in the order the domains registered them."""

    def __init__(self) -> None:
        self._blueprints: list[Blueprint] = []
        self._api_blueprints: list[Blueprint] = []
        self._ticks: dict[str, Tick] = {}
        self._receivers: list[Receiver] = []
        self._flow_actions: dict[str, FlowAction] = {}
        self._converters: dict[str, type[BaseConverter]] = {}
        self._commands: list[click.Command] = []
        self._queueing: Any = None
        self._frozen = False

    # ----- registering (in a domain's init_app) -----

    def blueprint(self, blueprint: Blueprint) -> None:
        """A plain Flask blueprint: pages, webhooks, the console."""
        self._check_open()
        self._blueprints.append(blueprint)

    def api_blueprint(self, blueprint: Blueprint) -> None:
        """A flask-smorest blueprint: its routes join /api/ and the OpenAPI document."""
        self._check_open()
        self._api_blueprints.append(blueprint)

    def tick(
        self,
        name: str,
        every: float | Callable[[Flask], float],
        run: Callable[[Flask, str], None],
        *,
        wake: bool = False,
    ) -> None:
        self._check_open()
        self._add(self._ticks, name, Tick(name, every, run, wake), "worker tick")

    def receiver(self, signal: Signal, function: Callable[..., Any]) -> None:
        """Connect `function` to `signal` when the app is built."""
        self._check_open()
        self._receivers.append(Receiver(signal, function))

    def flow_action(
        self,
        name: str,
        run: Callable[[Any, Any, dict[str, Any]], Any],
        *,
        results: tuple[str, ...],
        sets: tuple[str, ...] = (),
        after_verify: bool = False,
    ) -> None:
        self._check_open()
        if not results:
            raise ValueError(f"flow action {name!r} must declare the results it answers")
        action = FlowAction(name, run, tuple(results), tuple(sets), after_verify)
        self._add(self._flow_actions, name, action, "flow action")

    def converter(self, name: str, converter: type[BaseConverter]) -> None:
        """A URL converter (`<name:part>` in routes), added before any blueprint."""
        self._check_open()
        self._add(self._converters, name, converter, "URL converter")

    def command(self, command: click.Command) -> None:
        """A `flask` command or command group."""
        self._check_open()
        self._commands.append(command)

    def queueing(self, queue: Any) -> None:
        """The queue for people that the flows' queue nodes use (app.flows.ports.Queueing);
        one per app."""
        self._check_open()
        if self._queueing is not None:
            raise DuplicateName("the queue for people is registered twice")
        self._queueing = queue

    # ----- reading (the factory, the worker, flows check) -----

    @property
    def blueprints(self) -> tuple[Blueprint, ...]:
        return tuple(self._blueprints)

    @property
    def api_blueprints(self) -> tuple[Blueprint, ...]:
        return tuple(self._api_blueprints)

    @property
    def ticks(self) -> Mapping[str, Tick]:
        return MappingProxyType(self._ticks)

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return tuple(self._receivers)

    @property
    def flow_actions(self) -> Mapping[str, FlowAction]:
        return MappingProxyType(self._flow_actions)

    @property
    def converters(self) -> Mapping[str, type[BaseConverter]]:
        return MappingProxyType(self._converters)

    @property
    def commands(self) -> tuple[click.Command, ...]:
        return tuple(self._commands)

    @property
    def queue(self) -> Any:
        """The registered queue for people, or None (the flows engine then says nobody can take
        the call)."""
        return self._queueing

    # ----- life -----

    def freeze(self) -> None:
        self._frozen = True

    @property
    def frozen(self) -> bool:
        return self._frozen

    def _check_open(self) -> None:
        if self._frozen:
            raise RegistryFrozen(
                "the app is built: register in a domain's init_app, which create_app calls"
            )

    @staticmethod
    def _add(into: dict[str, Any], name: str, value: Any, what: str) -> None:
        if name in into:
            raise DuplicateName(f"{what} {name!r} is registered twice")
        into[name] = value


def new_registry(app: Flask) -> Registry:
    """The app's empty registry (create_app makes it before calling the domains)."""
    registry = Registry()
    app.extensions[_KEY] = registry
    return registry


def registry_of(app: Flask) -> Registry:
    registry: Registry = app.extensions[_KEY]
    return registry


def flow_actions_of(app: Flask) -> Mapping[str, FlowAction]:
    """The flow actions the app's domains registered (the flows engine's action port)."""
    return registry_of(app).flow_actions

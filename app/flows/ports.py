"""What the flows engine needs from the rest of the app, as small ports.

The engine imports no domain and no carrier: a call's state, the code checker and the actions
reach it through these, and the app wires them (app.calls' Call row is a CallState; the
verification domain's checker is a CodeChecker; the domains register their actions and the queue
for people in app.registry).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from app.registry import FlowAction


class CallState(Protocol):
    """One call as the engine reads and changes it."""

    id: Any
    locale: str
    outcome: str | None
    variables: dict[str, Any]
    flow: str
    flow_version: int

    def add_turn(self, node: str, speaker: str, text: str) -> None:
        """Keep a line of the call's transcript."""
        ...


class CodeResult(enum.StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"  # the customer may not verify with codes now: the call ends politely


#: Checks a code the caller typed (app/verification/checker.py; tests may give a simpler one).
#: True and False stand for VERIFIED and WRONG. A checker may also have a `locked(session, call)`
#: method, asked before the code is requested at all.
CodeChecker = Callable[[Session, Any, str], "CodeResult | bool"]

#: The actions a flow may name, by name: what the app's domains registered.
ActionRegistry = Mapping[str, FlowAction]


#: The queue's skills and priorities as flow files name them (app.agents: high 3 ... low 1).
QUEUE_SKILLS = ("fraud", "withdrawals", "complaints", "general")
QUEUE_PRIORITIES = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class QueueRequest:
    """A caller the flow puts in the queue for a person, as the queue sees them.

    Only the call's id and plain facts: never what the caller typed (codes, numbers, choices).
    `verified_at` is when a verify node accepted a code in this call (None: not verified, which
    the agent must see); `verified_by` says how, as a word.
    """

    call_id: Any
    skill: str
    priority: int
    locale: str
    flow: str
    verified_at: datetime | None
    verified_by: str | None
    #: When the flow offers "we will call you back, keeping your place" (the flow keeps time).
    offer_callback_after: timedelta


class Queueing(Protocol):
    """The queue for people (app.agents registers it; `registry.queueing(impl)`).

    Every method takes the call's id, never the call: what a caller typed stays in the flows.
    """

    def enqueue(self, session: Session, request: QueueRequest) -> str | None:
        """Put the caller in the queue (again: their place, unchanged); answer the name of the
        conference they wait in, or None when nobody can take a call now."""
        ...

    def position(self, session: Session, call_id: Any) -> int | None:
        """The caller's place among those waiting (1: next), or None once they are not."""
        ...

    def waiting_calls(self, session: Session) -> list[Any]:
        """The calls whose callers wait on the line now (not ringing at an agent's desk, not
        talking, not on virtual hold): those the flows may offer a call back."""
        ...

    def take_virtual_hold(self, session: Session, call_id: Any) -> None:
        """The caller chose to be called back: they keep their place, off the line."""
        ...

    def left(self, session: Session, call_id: Any) -> None:
        """The caller's call ended; a caller still waiting has abandoned the queue (one an
        agent took, or who chose a call back, is not changed)."""
        ...


class NobodyToTake:
    """The queue when no domain registered one: nobody can take a call, so a queue node goes on
    to its `unavailable` link."""

    def enqueue(self, session: Session, request: QueueRequest) -> str | None:
        return None

    def position(self, session: Session, call_id: Any) -> int | None:
        return None

    def waiting_calls(self, session: Session) -> list[Any]:
        return []

    def take_virtual_hold(self, session: Session, call_id: Any) -> None:
        return None

    def left(self, session: Session, call_id: Any) -> None:
        return None

"""What the flows engine needs from the rest of the app, as small ports.

The engine imports no domain and no carrier: a call's state, the code checker and the actions
reach it through these, and the app wires them (app.calls' Call row is a CallState; the
verification domain's checker is a CodeChecker; the domains register their actions in
app.registry).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
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

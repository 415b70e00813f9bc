"""Actions: nodes that ask the product something mid-call (is this number ours? did we call?).

A flow names an action; the domain that answers it registers the function here. The flow checker
knows the names, so a flow file cannot name an action that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.calls.models import Call
    from app.flows.definition import Flow

#: Every action a flow may name, with the results it answers (the node's `cases` keys).
ACTION_NAMES: dict[str, tuple[str, ...]] = {
    "lookup_keyed_number": ("calls_you", "never_calls", "retired", "not_ours", "unreadable"),
    "recent_call_to_caller": ("pending", "called", "none"),
    "verify_for_callback": ("ready", "unavailable"),
    "continue_callback": ("continued", "unavailable"),
    "report_scam": ("filed",),
    "file_complaint": ("filed", "no_message", "no_number"),
    "complaint_status": ("found", "not_found"),
    "opt_out": ("done",),
}

#: Actions that take the caller into a customer's matter: `flows check` refuses a flow that can
#: reach one without a verify node's on_success on the way.
AFTER_VERIFY = frozenset({"continue_callback"})


@dataclass
class ActionResult:
    result: str
    variables: dict[str, Any] = field(default_factory=dict)
    # Go on in another flow (continuing a callback on an inbound line): the flow and its node.
    switch_to: tuple[Flow, str] | None = None


Action = Callable[["Session", "Call", dict[str, Any]], ActionResult]
_registry: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    if name not in ACTION_NAMES:
        raise KeyError(f"unknown flow action {name!r}: add it to ACTION_NAMES")

    def register(function: Action) -> Action:
        _registry[name] = function
        return function

    return register


def run_action(name: str, session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    import app.authenticity.line
    import app.campaigns.line
    import app.complaints.line  # noqa: F401

    return _registry[name](session, call, values)

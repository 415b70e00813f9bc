"""Actions: nodes that ask the product something mid-call (is this number ours? did we call?).

A flow names an action; the domain that answers it registers it in its init_app
(`registry.flow_action(name, function, results=..., sets=...)`). The engine never imports the
domains: it runs what the app's registry holds, and `flows check` refuses a flow naming an
action that nobody registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.flows.ports import ActionRegistry, CallState

if TYPE_CHECKING:
    from app.flows.definition import Flow


@dataclass
class ActionResult:
    result: str
    variables: dict[str, Any] = field(default_factory=dict)
    # Go on in another flow (continuing a callback on an inbound line): the flow and its node.
    switch_to: tuple[Flow, str] | None = None


class UnknownAction(LookupError):
    """A flow named an action the app did not register (flows check refuses such a flow)."""


def run_action(
    actions: ActionRegistry, name: str, session: Session, call: CallState, values: dict[str, Any]
) -> ActionResult:
    action = actions.get(name)
    if action is None:
        raise UnknownAction(f"no flow action {name!r} is registered")
    result: ActionResult = action.run(session, call, values)
    return result

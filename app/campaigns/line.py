"""The campaign flow's action: a customer who asks not to be called like this again."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks.models import DoNotCall
from app.calls.models import Call
from app.flows.actions import ActionResult
from app.registry import Registry


def opt_out(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    if session.get(DoNotCall, call.to_number) is None:
        session.add(
            DoNotCall(
                phone=call.to_number, reason="opted out on a campaign call", scope="campaigns"
            )
        )
        record(
            session,
            actor=Actor(f"call:{call.id}"),
            action="do_not_call.added",
            subject_type="phone",
            subject_id=call.to_number,
            changes={"reason": "opted out on a campaign call", "call_id": call.id},
        )
    return ActionResult("done")


def register_actions(registry: Registry) -> None:
    """The campaign flow's action, as app.campaigns.init_app registers it for the flows."""
    registry.flow_action("opt_out", opt_out, results=("done",))

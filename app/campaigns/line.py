"""The campaign flow's action: a customer who asks not to be called like this again."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.callbacks import do_not_call
from app.calls.models import Call
from app.flows.actions import ActionResult
from app.registry import Registry


def opt_out(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    do_not_call.add(
        session,
        actor=Actor(f"call:{call.id}"),
        phone=call.to_number,
        reason="opted out on a campaign call",
        scope=do_not_call.CAMPAIGNS,
        context={"call_id": call.id},
    )
    return ActionResult("done")


def register_actions(registry: Registry) -> None:
    """The campaign flow's action, as app.campaigns.init_app registers it for the flows."""
    registry.flow_action("opt_out", opt_out, results=("done",))

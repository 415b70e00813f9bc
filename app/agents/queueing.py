"""The queue for people as the flows see it: the `Queueing` port (app.flows.ports), on the
agents domain's queue (app.agents.service).

A queue node's caller enters with their call's language, the node's skill and priority, the
customer and the matter the call is about, and, when a verify node accepted a code in this call,
how and when (never the code). They wait in the conference named after their place.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from app import clock
from app.agents import service
from app.agents.models import QueueEntry
from app.callbacks.models import Callback
from app.calls.models import Call
from app.errors import Conflict
from app.flows.ports import QueueRequest

log = logging.getLogger(__name__)


def conference_name(entry_id: uuid.UUID) -> str:
    """The conference a caller waits in: their place in the queue (Twilio's FriendlyName)."""
    return str(entry_id)


class AgentsQueue:
    """The Queueing port on app.agents.service; each method takes the call's id, never what the
    caller typed."""

    def enqueue(self, session: Session, request: QueueRequest) -> str | None:
        call = session.get_one(Call, request.call_id)
        entry = service.open_entry(session, call.id)
        if entry is None:
            skill, callback_id, reserved_for = request.skill, call.callback_id, None
            # Our call for an agent: the place is kept for them, about the matter they asked.
            asked = service.agent_call_of(
                session.get(Callback, call.callback_id) if call.callback_id else None
            )
            kept_id = _uuid((asked or {}).get("entry_id"))
            kept = session.get(QueueEntry, kept_id) if kept_id is not None else None
            if kept is not None and kept.state.is_open and kept.virtual_hold_at is not None:
                # Our call back to a caller on virtual hold: their place, kept for their agent.
                service.caller_verified(
                    session,
                    kept,
                    call,
                    verified_by=request.verified_by,
                    verified_at=request.verified_at,
                    now=clock.now(),
                )
                return conference_name(kept.id)
            if asked is not None:
                skill = asked.get("skill", skill)
                callback_id = _uuid(asked.get("matter_id")) or callback_id
                reserved_for = _uuid(asked.get("agent_id"))
            if not service.can_take(session, skill, request.locale, reserved_for=reserved_for):
                return None  # nobody who could take the call is at work: the flow says so
            entry = service.enqueue(
                session,
                call=call,
                skill=skill,
                priority=request.priority,
                locale=request.locale,
                customer_id=call.customer_id,
                callback_id=callback_id,
                verified_by=request.verified_by,
                verified_at=request.verified_at,
                reserved_for=reserved_for,
                now=clock.now(),
            )
        return conference_name(entry.id)

    def position(self, session: Session, call_id: Any) -> int | None:
        entry = service.open_entry(session, call_id)
        place = service.position(session, entry) if entry is not None else 0
        return place or None

    def waiting_calls(self, session: Session) -> list[Any]:
        return list(service.waiting_call_ids(session))

    def take_virtual_hold(self, session: Session, call_id: Any) -> None:
        entry = service.open_entry(session, call_id)
        if entry is None:
            return
        try:
            service.offer_virtual_hold(session, entry, now=clock.now())
        except Conflict:
            # Offered to an agent meanwhile: the end of this call hands them back (abandoned).
            log.warning("virtual hold refused", extra={"entry_id": str(entry.id)})

    def left(self, session: Session, call_id: Any) -> None:
        service.caller_hung_up(session, call_id, clock.now())


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None

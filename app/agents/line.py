"""The agents' side of a caller's conference: the router's ringer, and what the call to an
agent's browser phone reports.

The caller waits in the conference named after their place in the queue (app.agents.queueing).
When the route tick has committed an offer, `ring_agents` adds the agent's browser phone to that
conference (Conferencing.add_agent, from one of our official numbers) and remembers the call on
the caller's place. That call's status callback (signed; a retry changes nothing) tells the
queue: answered, the agent takes the caller; declined or rang out, the caller goes back in their
place at once and the agent away; the agent's call ended, the talk is over (the agent in
wrap-up) and the caller is taken out of the conference, on with their flow (<Dial action>).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence

from flask import Blueprint, Flask, Response, current_app, request

from app import clock
from app.agents import rules, service
from app.agents.models import QueueEntry
from app.agents.queueing import conference_name
from app.calls.models import Call, CallDirection
from app.carriers.carrier import TelephonyError, staff_identity
from app.carriers.service import conferencing_for
from app.carriers.signatures import twilio_signed
from app.errors import InvalidInput
from app.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("agents_line", __name__, url_prefix="/twilio/agents")

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
#: What Twilio reports of a participant's call.
CALL_STATUSES = frozenset(
    {"queued", "initiated", "ringing", "in-progress", "completed"} | service.UNANSWERED
)


def agent_call_url(app: Flask, entry_id: uuid.UUID, agent_id: uuid.UUID) -> str:
    """The status callback of the call ringing this agent for this caller (on PUBLIC_BASE_URL,
    what Twilio calls and signs)."""
    path = app.url_map.bind("callcenter.invalid").build(
        "agents_line.agent_call_status", {"entry_id": entry_id, "agent_id": agent_id}
    )
    return str(app.config["PUBLIC_BASE_URL"]) + path


def ring_agents(app: Flask, offers: Sequence[service.Offer]) -> None:
    """The ringer (app.agents.ringing): each offered agent's browser phone rings into the
    caller's conference; an agent who cannot be rung is left to the offer's expiry."""
    session = db.session()
    conferencing = conferencing_for(app)
    for offer in offers:
        if offer.virtual_hold:
            # The caller is off the line: they are called back first (not from here).
            log.info("a caller on virtual hold is due", extra={"entry_id": str(offer.entry_id)})
            continue
        call = session.get(Call, offer.call_id)
        if call is None:
            continue
        official = call.from_number if call.direction is CallDirection.OUTBOUND else call.to_number
        session.commit()  # no transaction open while the carrier's webhooks run in their own
        try:
            sid = conferencing.add_agent(
                conference_name(offer.entry_id),
                identity=staff_identity(offer.agent_id),
                from_=official,
                status_callback=agent_call_url(app, offer.entry_id, offer.agent_id),
                timeout=rules.RING_SECONDS,
            )
        except TelephonyError as exc:
            log.warning(
                "an agent's phone could not be rung",
                extra={
                    "entry_id": str(offer.entry_id),
                    "agent_id": str(offer.agent_id),
                    "error": type(exc).__name__,
                },
            )
            continue
        service.ringing(session, offer.entry_id, offer.agent_id, sid)
        session.commit()


@bp.post("/entries/<uuid:entry_id>/agents/<uuid:agent_id>/call")
@twilio_signed
def agent_call_status(entry_id: uuid.UUID, agent_id: uuid.UUID) -> Response:
    """The status callback of the call ringing an agent for a caller (a conference participant)."""
    call_sid = request.form.get("CallSid", "")
    status = request.form.get("CallStatus", "")
    if not CALL_SID.match(call_sid):
        raise InvalidInput("CallSid: a Twilio call id (CA...)", field="CallSid")
    if status not in CALL_STATUSES:
        raise InvalidInput("CallStatus: one of Twilio's call statuses", field="CallStatus")
    session = db.session()
    then = service.agent_call(
        session,
        entry_id=entry_id,
        agent_id=agent_id,
        call_sid=call_sid,
        status=status,
        now=clock.now(),
    )
    entry = session.get_one(QueueEntry, entry_id)
    caller = session.get(Call, entry.call_id)
    caller_sid = caller.sid if caller is not None else None
    # Committed before the carrier is asked: its webhooks (the caller's flow) run in sessions of
    # their own, and must find the talk over.
    session.commit()
    leaving = caller_sid if then is service.AgentCall.RELEASE_CALLER else None
    if then is service.AgentCall.DROP_AGENT:
        leaving = call_sid
    if leaving:
        try:
            conferencing_for(current_app).remove(conference_name(entry_id), leaving)
        except TelephonyError as exc:  # gone already (the conference ended): nothing to do
            log.info(
                "a participant had left already",
                extra={"entry_id": str(entry_id), "error": type(exc).__name__},
            )
    return Response(status=204)

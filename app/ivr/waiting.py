"""Callers waiting for a person: the offer of a call back, after they have waited long enough.

A conference's waiting room can only speak (Twilio plays Say, Play, Pause and Redirect there), so
the offer is made from outside: the caller's call is redirected out of the conference to the queue
node's offer ("press 1 and we call you back, keeping your place; press 2 to keep waiting").
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from app import clock
from app.calls.models import Call
from app.calls.service import CallUrls
from app.carriers.carrier import Telephony, TelephonyError
from app.carriers.service import telephony_for
from app.extensions import db
from app.flows.engine import QUEUE
from app.flows.ports import Queueing
from app.flows.registry import queueing_of

log = logging.getLogger(__name__)

#: How often the worker looks for callers to offer a call back (the lead registers the tick).
OFFER_EVERY_SECONDS = 15.0


def offer_call_backs(
    session: Session, *, queueing: Queueing, telephony: Telephony, urls: CallUrls, now: datetime
) -> int:
    """Bring each caller the queue says has waited long enough to the offer of a call back;
    answers how many were brought. Commits before asking the carrier: the offer's webhook runs
    in a request of its own."""
    due: list[tuple[Any, str, str]] = []
    for call_id in queueing.hold_offers_due(session, now):
        call = session.get(Call, call_id)
        queued = (call.variables or {}).get(QUEUE) if call is not None else None
        if call is None or not call.sid or call.status.is_final or not isinstance(queued, dict):
            continue
        if queued.get("state") != "waiting":
            continue
        url = urls.hold_offer(call.id, str(queued["node"]), offer=int(now.timestamp()))
        due.append((call.id, call.sid, url))
    session.commit()
    offered = 0
    for call_id, sid, url in due:
        try:
            telephony.redirect(sid, url)
        except TelephonyError as exc:
            # Gone meanwhile, or the carrier cannot say: the caller goes on waiting.
            log.warning(
                "a waiting caller could not be offered a call back",
                extra={"call_id": str(call_id), "error": type(exc).__name__},
            )
            continue
        offered += 1
    return offered


def offer_call_backs_tick(app: Flask, worker: str) -> None:
    """The worker tick (`registry.tick("queue_call_back_offers", OFFER_EVERY_SECONDS, ...)`)."""
    offer_call_backs(
        db.session(),
        queueing=queueing_of(app),
        telephony=telephony_for(app),
        urls=CallUrls(app),
        now=clock.now(),
    )

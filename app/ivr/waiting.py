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
from app.flows.engine import hold_offer_due, offered_hold
from app.flows.ports import Queueing
from app.flows.registry import queueing_of

log = logging.getLogger(__name__)

#: How often the worker looks for callers to offer a call back (app.ivr registers the tick).
OFFER_EVERY_SECONDS = 15.0


def offer_call_backs(
    session: Session, *, queueing: Queueing, telephony: Telephony, urls: CallUrls, now: datetime
) -> int:
    """Bring each caller who has waited their queue node's `offer_callback_after` (and was not
    offered one yet) to the offer of a call back; answers how many were brought.

    The queue names the callers waiting on the line; each call's own row says since when and
    whether it was offered. The offer is noted and committed before the carrier is asked: the
    offer's webhook runs in a request of its own, and another worker skips a call locked here.
    """
    due: list[tuple[Any, str, str]] = []
    for call_id in queueing.waiting_calls(session):
        call = session.get(Call, call_id, with_for_update={"skip_locked": True})
        if call is None or not call.sid or call.status.is_final:
            continue
        node = hold_offer_due(call, now)
        if node is None:
            continue
        offered_hold(call)
        due.append((call.id, call.sid, urls.hold_offer(call.id, node, offer=int(now.timestamp()))))
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
    """The worker tick `queue_call_back_offers`, every OFFER_EVERY_SECONDS."""
    offer_call_backs(
        db.session(),
        queueing=queueing_of(app),
        telephony=telephony_for(app),
        urls=CallUrls(app),
        now=clock.now(),
    )

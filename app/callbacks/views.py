"""Integrator API: events from the core system, callbacks, the do-not-call list."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from app import clock
from app.apikeys.auth import BEARER, current_actor, require_api_key
from app.callbacks import do_not_call, service
from app.callbacks.models import Callback, DoNotCall, WithdrawalHold
from app.callbacks.schemas import (
    BatchOut,
    CallbackChange,
    CallbackOut,
    CallbackPageOut,
    CallbackQuery,
    CallbackStatsOut,
    DecisionOut,
    DoNotCallIn,
    DoNotCallOut,
    EventIn,
    EventsBatchIn,
    WithdrawalOut,
)
from app.errors import DomainError, validation_payload
from app.extensions import db
from app.inputs import Blueprint

BUSY = (
    "concurrent requests kept changing the same customers; nothing was written: send the same "
    "request again after Retry-After seconds"
)

events_blp = require_api_key(
    Blueprint(
        "events",
        __name__,
        url_prefix="/api/v1",
        description="Events from the core system, the callbacks they queue (integrator key)",
    )
)


@events_blp.route("/events")
class Events(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.arguments(EventIn)
    @events_blp.response(202, DecisionOut)
    @events_blp.alt_response(409, description="a concurrent event changed the callback; retry")
    @events_blp.alt_response(503, description=BUSY)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send an event; answers the decision (the same id again: the first decision)"""
        return service.decide_event(
            db.session(),
            policy=current_app.extensions["callback_policy"],
            actor=current_actor(),
            now=clock.now(),
            payload=payload,
        )


@events_blp.route("/events:batch")
class EventsBatch(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.arguments(EventsBatchIn)
    @events_blp.response(202, BatchOut)
    @events_blp.alt_response(503, description=BUSY)
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send up to 1,000 events; each is decided (or refused) on its own"""
        schema = EventIn()
        loaded: list[dict[str, Any] | None] = []
        results: list[dict[str, Any]] = []
        for raw in payload["events"]:
            event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            try:
                loaded.append(schema.load(raw))
                results.append({"event_id": event_id})
            except ma.ValidationError as exc:
                loaded.append(None)
                results.append({"event_id": event_id, **validation_payload(exc.messages)})
        valid = [(index, item) for index, item in enumerate(loaded) if item is not None]
        outcomes = service.decide_batch(
            db.session(),
            policy=current_app.extensions["callback_policy"],
            actor=current_actor(),
            now=clock.now(),
            items=[item for _, item in valid],
        )
        for (index, item), outcome in zip(valid, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                results[index] = {
                    "event_id": item["id"],
                    "error": {
                        "code": outcome.code,
                        "message": outcome.message,
                        "field": outcome.field,
                    },
                }
            else:
                results[index] = outcome
        refused = sum(1 for r in results if "error" in r)
        return {"accepted": len(results) - refused, "refused": refused, "results": results}


@events_blp.route("/callbacks/stats")
class CallbackStats(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.response(200, CallbackStatsOut)
    def get(self) -> dict[str, Any]:
        """How many callbacks are in each state, escalated, and past their deadline"""
        return service.callback_stats(db.session())


@events_blp.route("/callbacks")
class Callbacks(MethodView):
    @events_blp.doc(security=BEARER)
    # A filter we do not know is refused, not ignored: `?state=queued` or `?customer=c-42` would
    # otherwise list every customer's callbacks as if they were the ones asked for.
    @events_blp.arguments(CallbackQuery, location="query", unknown=ma.RAISE)
    @events_blp.response(200, CallbackPageOut)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Callbacks of a customer and/or in a status, newest first; page with `after`"""
        return service.list_callbacks(db.session(), **query)


@events_blp.route("/callbacks/<uuid:callback_id>")
class CallbackById(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.response(200, CallbackOut)
    def get(self, callback_id: uuid.UUID) -> Callback:
        """A callback: status, priority, deadline, reasons, attempts, outcome, call reference"""
        return service.get_callback(db.session(), callback_id)

    @events_blp.doc(security=BEARER)
    @events_blp.arguments(CallbackChange)
    @events_blp.response(200, CallbackOut)
    @events_blp.alt_response(
        409, description="it is being dialed, in a call, or already done or cancelled"
    )
    def patch(self, payload: dict[str, Any], callback_id: uuid.UUID) -> Callback:
        """Give a waiting callback a new time (call_at), as a supervisor's new time does"""
        session = db.session()
        service.reschedule_callback(
            session,
            callback_id,
            payload["call_at"],
            policy=current_app.extensions["callback_policy"],
            now=clock.now(),
            actor=current_actor(),
        )
        session.commit()
        return service.get_callback(session, callback_id)

    @events_blp.doc(security=BEARER)
    @events_blp.response(200, CallbackOut)
    @events_blp.alt_response(
        409, description="it is being dialed, in a call, or already done or cancelled"
    )
    def delete(self, callback_id: uuid.UUID) -> Callback:
        """Cancel a callback waiting to be called (the core system is told, as for any end)"""
        session = db.session()
        service.cancel_callback(session, callback_id, now=clock.now(), actor=current_actor())
        session.commit()
        return service.get_callback(session, callback_id)


@events_blp.route("/withdrawals/<string:event_id>")
class WithdrawalByEvent(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.response(200, WithdrawalOut)
    def get(self, event_id: str) -> WithdrawalHold:
        """A held withdrawal, by its event id: verifying, authorized or rejected"""
        return service.get_withdrawal(db.session(), event_id)


@events_blp.route("/do-not-call")
class DoNotCallList(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.arguments(DoNotCallIn)
    @events_blp.response(201, DoNotCallOut)
    def post(self, payload: dict[str, Any]) -> DoNotCall:
        """Never call this number"""
        entry = do_not_call.add(db.session(), actor=current_actor(), **payload)
        db.session.commit()
        return entry

    @events_blp.doc(security=BEARER)
    @events_blp.response(200, DoNotCallOut(many=True))
    def get(self) -> list[DoNotCall]:
        """The do-not-call list"""
        return do_not_call.entries(db.session())


@events_blp.route("/do-not-call/<string:phone>")
class DoNotCallEntry(MethodView):
    @events_blp.doc(security=BEARER)
    @events_blp.response(204)
    def delete(self, phone: str) -> None:
        """Allow calls to this number again"""
        do_not_call.remove(db.session(), actor=current_actor(), phone=phone)
        db.session.commit()

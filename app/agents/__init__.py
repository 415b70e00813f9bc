"""People in the loop: agents (presence, skills, languages), the queue and its router.

The interface the IVR, the desk and the carrier build on is app.agents.service (see its
docstring); the ringing port is app.agents.ringing. This package registers the worker's `route`
tick: every ROUTE_TICK_SECONDS, and at once on a wake-up hint (a caller entered the queue, an
agent became available), it returns unanswered offers to the queue, offers waiting callers to
available agents, commits, and then rings them.
"""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of

#: How often the router runs without a hint (a hint runs it at once).
ROUTE_TICK_SECONDS = 2.0


def init_app(app: Flask) -> None:
    """The router's worker tick."""
    registry_of(app).tick("route", ROUTE_TICK_SECONDS, route_tick, wake=True)


def route_tick(app: Flask, worker: str) -> None:
    """Expire offers nobody answered, route the waiting callers, commit, then ring."""
    from app import clock
    from app.agents.ringing import ring
    from app.agents.service import expire_offers, route
    from app.extensions import db

    session = db.session()
    now = clock.now()
    expire_offers(session, now)
    offers = route(session, now=now)
    session.commit()
    ring(app, offers)

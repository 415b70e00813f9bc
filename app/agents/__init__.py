"""People in the loop: agents (presence, skills, languages), the queue and its router.

The interface the IVR, the desk and the carrier build on is app.agents.service (see its
docstring); the ringing port is app.agents.ringing. This package registers the worker's `route`
tick: every ROUTE_TICK_SECONDS, and at once on a wake-up hint (a caller entered the queue, an
agent became available), it returns unanswered offers to the queue, offers waiting callers to
available agents, commits, and then rings them. It registers the queue for the flows' queue nodes
(app.agents.queueing) and the ringer that adds an offered agent to the caller's conference, with
that call's status callback (app.agents.line).
"""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of

#: How often the router runs without a hint (a hint runs it at once).
ROUTE_TICK_SECONDS = 2.0
#: How often the app's call status is told the changes only time makes (24 h since a call).
CALL_STATUS_CLOCK_SECONDS = 60.0


def init_app(app: Flask) -> None:
    """The router's worker tick, the queue for the flows' queue nodes, the ringer that adds an
    offered agent to the caller's conference, and that call's status callback."""
    from app.agents import call_status  # its listeners tell the core of changes; its tick
    from app.agents.line import bp, ring_agents
    from app.agents.queueing import AgentsQueue
    from app.agents.ringing import add_ringer
    from app.agents.views import blp

    registry = registry_of(app)
    registry.tick("route", ROUTE_TICK_SECONDS, route_tick, wake=True)
    registry.tick("call_status_clock", CALL_STATUS_CLOCK_SECONDS, call_status.call_status_clock)
    registry.queueing(AgentsQueue())
    registry.blueprint(bp)
    registry.api_blueprint(blp)
    add_ringer(app, ring_agents)


def route_tick(app: Flask, worker: str) -> None:
    """Expire offers nobody answered, route the waiting callers (a caller on virtual hold whose
    turn came: queue our call back, in the same transaction), commit, then ring."""
    from app import clock
    from app.agents.ringing import ring
    from app.agents.service import call_back, expire_offers, route
    from app.extensions import db

    session = db.session()
    now = clock.now()
    expire_offers(session, now)
    offers = route(session, now=now)
    policy_version = app.extensions["callback_policy"].version
    for offer in offers:
        if offer.virtual_hold:  # their turn: we call them back first, the agent kept for them
            call_back(session, offer, policy_version=policy_version, now=now)
    session.commit()
    ring(app, [offer for offer in offers if not offer.virtual_hold])

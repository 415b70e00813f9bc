"""The worker's route tick: offers made and committed, then rung through the ringing port."""

from __future__ import annotations

import sqlalchemy as sa

from app.agents import route_tick
from app.agents.line import ring_agents
from app.agents.models import QueueEntry
from app.agents.ringing import add_ringer, ringers
from app.extensions import db
from app.registry import registry_of
from app.wakeup import _KEY as HINTS
from tests.agents.conftest import add_agent, caller, later


def test_the_router_is_a_wakeable_worker_tick(app):
    tick = registry_of(app).ticks["route"]
    assert tick.wake and tick.seconds(app) == 2
    # The carrier's ringer: the agent's browser phone joins the caller's conference.
    assert ringers(app) == (ring_agents,)


def test_a_caller_entering_the_queue_wakes_the_router(app):
    with app.app_context():
        caller(db.session)
        assert "route" in db.session.info[HINTS]
        db.session.rollback()


def test_the_tick_rings_each_offer_after_it_is_committed(app, clock, simulator):
    rung: list[tuple[str, str]] = []

    def desk(app, offers):
        with db.engine.connect() as elsewhere:  # another connection sees only what committed
            for offer in offers:
                state = elsewhere.scalar(
                    sa.select(QueueEntry.state).where(QueueEntry.id == offer.entry_id)
                )
                rung.append((str(offer.agent_id), state))

    def broken(app, offers):
        raise RuntimeError("the desk's socket is down")

    add_ringer(app, broken)
    add_ringer(app, desk)
    with app.app_context():
        agent = add_agent(db.session, "ann", available_since=later(-5))
        caller(db.session, entered=later(-1))
        agent_id = str(agent.staff_id)
        db.session.commit()
        route_tick(app, "w1")
    assert rung == [(agent_id, "offered")]

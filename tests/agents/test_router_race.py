"""Routers racing: several processes route at once and never give one caller to two agents, nor
one agent two callers, nor place the call back of a caller on virtual hold twice (PostgreSQL: FOR
UPDATE SKIP LOCKED on both rows; SQLite has one writer, so one worker routes there)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from app.agents import route_tick, service
from app.agents.models import Agent, Presence, QueueEntry, QueueState
from app.audit.models import AuditEvent
from app.callbacks.models import Callback
from app.customers.models import Customer
from app.extensions import db
from tests.agents.conftest import add_agent, caller, later

ROUTERS = 4
ROUNDS = 5
CALLERS = 40
AGENTS = 25


def needs_postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several routers run at once only on PostgreSQL (SQLite: one writer)")


def race(app, now) -> list[service.Offer]:
    """ROUTERS routers, each on its own connection, route at the same moment, a few callers at a
    time, until none has anything left to offer."""
    start = threading.Barrier(ROUTERS)
    offers: list[service.Offer] = []
    failures: list[BaseException] = []

    def router() -> None:
        with app.app_context():
            try:
                start.wait()
                idle = 0
                while idle < 3:  # another router may hold the rows this one skipped
                    made = service.route(db.session, now=now, limit=3)
                    db.session.commit()
                    offers.extend(made)
                    idle = 0 if made else idle + 1
            except BaseException as error:  # the test says which router failed, and how
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=router) for _ in range(ROUTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return offers


def test_racing_routers_never_give_a_caller_to_two_agents_nor_an_agent_two_callers(
    app, database_url
):
    needs_postgres(database_url)
    with app.app_context():
        agents = [
            add_agent(db.session, f"agent{i}", languages=["en", "it"], available_since=later(-i))
            for i in range(AGENTS)
        ]
        agent_ids = {agent.staff_id for agent in agents}
        for i in range(CALLERS):
            caller(db.session, locale="it" if i % 2 else "en", priority=1 + i % 3, entered=later(i))
        db.session.commit()

    for round_ in range(ROUNDS):
        offers = race(app, later(100 + round_))
        entries = Counter(offer.entry_id for offer in offers)
        agents_offered = Counter(offer.agent_id for offer in offers)
        assert entries.most_common(1)[0][1] == 1, "a caller was offered to two agents"
        assert agents_offered.most_common(1)[0][1] == 1, "an agent was offered two callers"
        assert set(agents_offered) == agent_ids  # every agent got a caller: none was lost

        with app.app_context():
            offered = db.session.execute(
                sa.select(QueueEntry.id, QueueEntry.agent_id).where(
                    QueueEntry.state == QueueState.OFFERED
                )
            ).all()
            assert {(row.id, row.agent_id) for row in offered} == {
                (offer.entry_id, offer.agent_id) for offer in offers
            }
            ringing = db.session.scalars(
                sa.select(Agent.staff_id).where(Agent.presence == Presence.RINGING)
            ).all()
            assert set(ringing) == agent_ids
            # Next round: every offer expires back to the queue, every agent is free again.
            db.session.execute(
                sa.update(QueueEntry)
                .where(QueueEntry.state == QueueState.OFFERED)
                .values(
                    state=QueueState.WAITING, agent_id=None, offered_at=None, offer_expires_at=None
                )
            )
            db.session.execute(
                sa.update(Agent).values(presence=Presence.AVAILABLE, presence_since=later(round_))
            )
            db.session.commit()


def test_racing_route_ticks_place_the_call_back_of_a_caller_on_virtual_hold_once(
    app, database_url, customer, clock
):
    needs_postgres(database_url)
    with app.app_context():
        for i in range(AGENTS):
            add_agent(db.session, f"agent{i}", available_since=later(-i))
        entry = caller(db.session, entered=later(0))
        entry.customer_id = db.session.scalar(
            sa.select(Customer.id).where(Customer.external_id == customer["external_id"])
        )
        service.offer_virtual_hold(db.session, entry, now=later(1))
        db.session.commit()
    start = threading.Barrier(ROUTERS)
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        with app.app_context():
            try:
                start.wait()
                route_tick(app, name)
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(ROUTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with app.app_context():
        placed = db.session.scalars(
            sa.select(Callback).where(Callback.flow == "agent_callback")
        ).all()
        calling_back = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "queue.calling_back")
        ).all()
        held = db.session.scalars(
            sa.select(Agent.staff_id).where(Agent.presence == Presence.RINGING)
        ).all()
    assert len(placed) == 1 and len(calling_back) == 1
    assert len(held) == 1 and placed[0].variables["agent_id"] == str(held[0])

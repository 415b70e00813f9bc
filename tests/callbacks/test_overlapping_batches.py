"""Overlapping and retried POST /api/v1/events:batch requests: no 5xx, nothing lost, each event
decided once (one callback per open incident, one audit entry per decision)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError

from app.audit.models import AuditEvent
from app.callbacks import service
from app.callbacks.models import Callback, CallbackStatus, Event, WithdrawalHold
from app.extensions import db
from tests.support import ApiClient

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CUSTOMERS = [f"cust-{i}" for i in range(8)]
PARTS = 2  # batches per client
PAYMENTS = 40  # per customer


def events_for(customer: str, index: int) -> list[dict[str, Any]]:
    """A customer's events: a registration, a withdrawal on a troubled account, payments (some
    ordinary, some anomalous: large, abroad, on a new device)."""

    def event(kind: str, n: int, **data: Any) -> dict[str, Any]:
        return {
            "id": f"{customer}-{kind}-{n}",
            "type": kind,
            "customer_external_id": customer,
            "occurred_at": (T0 + timedelta(minutes=index * 20 + n)).isoformat(),
            "data": data,
        }

    payments = [
        event("transaction", n, amount="40", currency="EUR", country="IT", device="d1")
        if n % 3
        else event("transaction", n, amount="9000", currency="EUR", country="PL", device=f"x{n}")
        for n in range(PAYMENTS)
    ]
    return [
        event("registration", 0),
        event("withdrawal_request", 0, amount="500", account_has_open_problems=True),
        *payments,
    ]


def register(api: ApiClient) -> list[dict[str, Any]]:
    for i, customer in enumerate(CUSTOMERS):
        response = api.post(
            "/api/v1/customers", json={"external_id": customer, "phone": f"+39 333 100 00{i:02d}"}
        )
        assert response.status_code == 201, response.get_json()
    return [e for i, customer in enumerate(CUSTOMERS) for e in events_for(customer, i)]


def overlapping_batches(events: list[dict[str, Any]], clients: int) -> list[list[list[dict]]]:
    """For each client, its batches: every customer in every client's batches, in a different
    order each time; a fifth of each batch are ids another client sends too (a retry racing the
    first delivery); client 1 first sends exactly client 0's first batch."""
    rng = random.Random(16)  # noqa: S311 (a repeatable test plan, not a secret)
    plan: list[list[list[dict]]] = []
    shares = [events[c::clients] for c in range(clients)]
    for client, share in enumerate(shares):
        batches = []
        for part in (share[k::PARTS] for k in range(PARTS)):
            retried = rng.sample(events, len(part) // 4)
            batch = part + retried
            order = sorted(CUSTOMERS, reverse=client % 2 == 1)
            if client >= 2:
                rng.shuffle(order)
            # Each customer's own events in time order, the customers in this client's order.
            batch.sort(key=lambda e: (order.index(e["customer_external_id"]), e["occurred_at"]))
            batches.append(batch)
        plan.append(batches)
    plan[1].insert(0, plan[0][0])
    return plan


def stored(app: Flask) -> dict[str, Any]:
    with app.app_context():
        events = {e.event_id: e for e in db.session.scalars(sa.select(Event))}
        decisions = {
            event_id: (str(e.callback_id) if e.callback_id else None, e.anomalous, e.score)
            for event_id, e in events.items()
        }
        audit = db.session.scalars(
            sa.select(AuditEvent.action).where(
                AuditEvent.action.in_(("callback.queued", "callback.joined"))
            )
        ).all()
        open_incidents = db.session.execute(
            sa.select(Callback.customer_id, Callback.flow, sa.func.count())
            .where(Callback.status != CallbackStatus.DONE)
            .group_by(Callback.customer_id, Callback.flow)
        ).all()
        holds = db.session.scalar(sa.select(sa.func.count()).select_from(WithdrawalHold))
        event_rows = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
        db.session.remove()
    return {
        "decisions": decisions,
        "event_rows": event_rows,
        "audit": sorted(audit),
        "open_incidents": open_incidents,
        "holds": holds,
    }


def answer_of(result: dict[str, Any]) -> tuple[str | None, bool, float]:
    return result["callback_id"], result["anomalous"], result["score"]


def assert_each_event_stored_and_decided_once(
    app: Flask, events: list[dict[str, Any]], answers: dict[str, set]
) -> None:
    state = stored(app)
    ids = {e["id"] for e in events}
    assert state["event_rows"] == len(ids)  # every event stored, and once
    assert set(state["decisions"]) == ids
    for event_id, seen in answers.items():  # every answer, first or retried, is the stored one
        assert seen == {state["decisions"][event_id]}, event_id
    # Each decision that called opened or joined a callback exactly once (its audit entry), and
    # each incident has one open callback, opened once.
    called = [callback_id for callback_id, _, _ in state["decisions"].values() if callback_id]
    assert len(state["audit"]) == len(called)
    assert all(count == 1 for _, _, count in state["open_incidents"])
    assert len(state["open_incidents"]) == len(set(called)) >= 2 * len(CUSTOMERS)
    assert state["audit"].count("callback.queued") == len(set(called))
    assert state["holds"] == len(CUSTOMERS)


def test_a_retried_batch_answers_the_first_decisions_and_decides_nothing_twice(api, app):
    events = register(api)
    first = api.post("/api/v1/events:batch", json={"events": events})
    before = stored(app)
    again = api.post("/api/v1/events:batch", json={"events": list(reversed(events))})

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.get_json()["accepted"] == again.get_json()["accepted"] == len(events)
    assert first.get_json()["results"] == list(reversed(again.get_json()["results"]))
    assert stored(app) == before
    answers = {r["event_id"]: {answer_of(r)} for r in first.get_json()["results"]}
    assert_each_event_stored_and_decided_once(app, events, answers)


class Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


def deadlock() -> OperationalError:
    return OperationalError("INSERT INTO events ...", {}, Deadlock("deadlock detected"))


def test_a_batch_that_lost_a_race_is_run_again_whole_and_decided_once(api, app, monkeypatch):
    events = register(api)
    real, calls, pauses = service.ingest_batch, [], []

    def loses_the_first_race(session, **kwargs):
        answers = real(session, **kwargs)
        calls.append(len(answers))
        if len(calls) == 1:
            session.flush()  # everything of the first try written, then the deadlock
            raise deadlock()
        return answers

    monkeypatch.setattr(service, "ingest_batch", loses_the_first_race)
    monkeypatch.setattr(service, "_pause", pauses.append)
    response = api.post("/api/v1/events:batch", json={"events": events})

    assert response.status_code == 202
    assert response.get_json()["accepted"] == len(events)
    assert (calls, pauses) == ([len(events), len(events)], [1])
    answers = {r["event_id"]: {answer_of(r)} for r in response.get_json()["results"]}
    assert_each_event_stored_and_decided_once(app, events, answers)


def test_a_batch_that_keeps_losing_answers_503_with_retry_after_and_writes_nothing(
    api, app, monkeypatch
):
    events = register(api)
    real, pauses = service.ingest_batch, []

    def always_deadlocks(session, **kwargs):
        real(session, **kwargs)
        session.flush()
        raise deadlock()

    monkeypatch.setattr(service, "ingest_batch", always_deadlocks)
    monkeypatch.setattr(service, "_pause", pauses.append)
    response = api.post("/api/v1/events:batch", json={"events": events})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "unavailable"
    assert "send the same request again" in response.get_json()["error"]["message"]
    assert pauses == [1, 2, 3, 4]  # five tries, a pause between each
    assert stored(app)["event_rows"] == 0
    assert stored(app)["audit"] == []


def test_overlapping_and_retried_batches_get_no_5xx_lose_nothing_and_decide_once(
    api, app, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: concurrent batches are a PostgreSQL matter")
    events = register(api)
    clients = 4
    plan = overlapping_batches(events, clients)
    start = threading.Barrier(clients + 1)
    statuses: list[tuple[int, object]] = []
    answers: dict[str, set] = {}
    lock = threading.Lock()

    def send(batches: list[list[dict]]) -> None:
        client = ApiClient(app.test_client())
        start.wait()
        for batch in batches:
            try:
                response = client.post("/api/v1/events:batch", json={"events": batch})
            except Exception as exc:  # the test app re-raises what a server answers with a 500
                with lock:
                    statuses.append((500, repr(exc)[:300]))
                continue
            body = response.get_json()
            with lock:
                ok = response.status_code == 202 and body["refused"] == 0
                statuses.append((response.status_code, "" if ok else body))
                if ok:
                    for result in body["results"]:
                        answers.setdefault(result["event_id"], set()).add(answer_of(result))

    def send_one_by_one(singles: list[dict]) -> None:  # the single-event route, racing too
        client = ApiClient(app.test_client())
        start.wait()
        for single in singles:
            try:
                response = client.post("/api/v1/events", json=single)
            except Exception as exc:  # the test app re-raises what a server answers with a 500
                with lock:
                    statuses.append((500, repr(exc)[:300]))
                continue
            with lock:
                statuses.append(
                    (
                        response.status_code,
                        "" if response.status_code == 202 else response.get_json(),
                    )
                )
                if response.status_code == 202:
                    answers.setdefault(single["id"], set()).add(answer_of(response.get_json()))

    singles = random.Random(15).sample(events, 40)  # noqa: S311 (a repeatable test plan)
    threads = [threading.Thread(target=send, args=(batches,)) for batches in plan]
    threads.append(threading.Thread(target=send_one_by_one, args=(singles,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [s for s in statuses if s != (202, "")] == []
    assert len(statuses) == sum(len(batches) for batches in plan) + len(singles)
    assert_each_event_stored_and_decided_once(app, events, answers)

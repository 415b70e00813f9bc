"""Overlapping event batches through a real web process: 0 errors, 0 lost, 0 decided twice.

Clients send batches of events over the same customers at once (most of each batch new events,
30 % of them anomalous; a fifth ids already sent, by this client or another, maybe still in
flight: a retry racing the first delivery). One client alone, then N clients, each for the same
time, against the same gunicorn and PostgreSQL: the figure is N clients' events/s beside one
client's, measured in the same run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from benchmarks.callbacks import (
    WebProcess,
    drop_database,
    expect,
    fresh_database,
    new_database_url,
    progress,
    raw,
    seed_customers,
    seed_history,
)

ANOMALOUS_SHARE = 0.3  # of the new events: 900 EUR where the customer's history is 40-59 EUR
RETRIED_SHARE = 0.2  # of each batch: ids sent before (maybe still in flight)
RECENT = 5_000  # retried ids are drawn from the last RECENT events sent, by any client


class Sent:
    """What every client sent and was answered, shared by the clients of one phase."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.lock = threading.Lock()
        self.recent: list[dict[str, Any]] = []
        self.answers: dict[str, set[tuple[Any, ...]]] = {}
        self.events_answered = 0  # every event of every 202, the retried ones included
        self.retried_sent = 0
        self.batches = 0
        self.errors: list[str] = []
        self.counter = 0

    def new_ids(self, count: int) -> Iterator[int]:
        with self.lock:
            first, self.counter = self.counter, self.counter + count
        return iter(range(first, first + count))


def make_batch(
    sent: Sent, rng: random.Random, size: int, customers: int, now: datetime
) -> list[dict[str, Any]]:
    """A batch: new events over random customers, and a fifth ids sent before (the same body)."""
    with sent.lock:
        pool = sent.recent[-RECENT:]
    retried = rng.sample(pool, min(len(pool), round(size * RETRIED_SHARE)))
    fresh = []
    for n in sent.new_ids(size - len(retried)):
        anomalous = rng.random() < ANOMALOUS_SHARE
        fresh.append(
            {
                "id": f"{sent.prefix}-{n}",
                "type": "transaction",
                "customer_external_id": f"bench-{rng.randrange(customers)}",
                "occurred_at": (now + timedelta(milliseconds=n)).isoformat(),
                "data": {
                    "amount": "900" if anomalous else "45",
                    "currency": "EUR",
                    "country": "IT",
                    "device": "p1",
                    "merchant": "Shop",
                },
            }
        )
    batch = fresh + retried
    rng.shuffle(batch)  # the same customers, in another order in every batch
    with sent.lock:
        sent.recent.extend(fresh)
        del sent.recent[:-RECENT]
        sent.retried_sent += len(retried)
    return batch


def run_clients(
    base: str, sent: Sent, *, clients: int, seconds: float, size: int, customers: int
) -> float:
    """Every client sends batches until the time is up; answers the elapsed seconds."""
    start = threading.Barrier(clients)
    now = datetime.now(UTC)

    def client(number: int) -> None:
        rng = random.Random(f"{sent.prefix}-{number}")  # noqa: S311 (test data, not a secret)
        with requests.Session() as http:
            start.wait()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                batch = make_batch(sent, rng, size, customers, now)
                try:
                    response = http.post(
                        f"{base}/api/v1/events:batch",
                        json={"events": batch},
                        headers={"Authorization": "Bearer bench"},
                        timeout=120,
                    )
                except requests.RequestException as exc:
                    with sent.lock:
                        sent.errors.append(f"client {number}: {type(exc).__name__}: {exc}")
                    continue
                problem = _problem(response, batch)
                with sent.lock:
                    if problem:
                        sent.errors.append(f"client {number}: {problem}")
                        continue
                    sent.batches += 1
                    sent.events_answered += len(batch)
                    for result in response.json()["results"]:
                        sent.answers.setdefault(result["event_id"], set()).add(
                            (result["callback_id"], result["anomalous"], result["score"])
                        )

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def _problem(response: requests.Response, batch: list[dict[str, Any]]) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if response.status_code != 202:
        return f"POST /api/v1/events:batch answered {response.status_code}: {str(body)[:300]}"
    results = body.get("results", []) if isinstance(body, dict) else []
    if len(results) != len(batch) or [r.get("event_id") for r in results] != [
        e["id"] for e in batch
    ]:
        return f"answered {len(batch)} events with: {str(body)[:300]}"
    if body.get("refused"):
        return f"refused {body['refused']} of {len(batch)} events: {results[:2]}"
    return None


def check(url: str, sent: Sent) -> dict[str, int]:
    """Every accepted event stored once, each decided once, every answer the stored decision."""
    with raw(url) as connection:
        stored = {
            event_id: (str(callback_id) if callback_id else None, anomalous, score)
            for event_id, callback_id, anomalous, score in connection.execute(
                "SELECT event_id, callback_id, anomalous, score FROM events WHERE event_id LIKE %s",
                (f"{sent.prefix}-%",),
            )
        }
    lost = sum(1 for event_id in sent.answers if event_id not in stored)
    differing = sum(
        1
        for event_id, seen in sent.answers.items()
        if event_id in stored and seen != {stored[event_id]}
    )
    return {"lost": lost, "answers_differing": differing}


def decided_twice(url: str) -> int:
    """Callback decisions (queued or joined, one audit entry each) beyond one per calling event,
    and open incidents with more than one callback."""
    with raw(url) as connection:
        called = connection.execute(
            "SELECT count(*) FROM events WHERE callback_id IS NOT NULL"
        ).fetchone()[0]
        audited = connection.execute(
            "SELECT count(*) FROM audit_events WHERE action IN "
            "('callback.queued', 'callback.joined')"
        ).fetchone()[0]
        doubled = connection.execute(
            "SELECT count(*) FROM (SELECT 1 FROM callbacks WHERE status != 'done' "
            "GROUP BY customer_id, flow HAVING count(*) > 1) t"
        ).fetchone()[0]
    return abs(audited - called) + doubled


def bench_overlap(
    seconds: float, clients: int, *, size: int = 500, customers: int = 1000
) -> dict[str, Any]:
    expect(seconds > 0, "--overlap-seconds must be positive")
    expect(clients >= 2, "--overlap-clients must be at least 2 (overlap needs two)")
    expect(1 <= size <= 1000, "a batch holds 1 to 1,000 events")
    url = new_database_url()
    web_workers = clients  # one gunicorn worker per client: every batch is in the database at once
    web = WebProcess(url, workers=web_workers)
    try:
        # A web process that cannot start fails the run before anything is done (its workers
        # boot one per client, so it gets longer than the usual two).
        web.start(timeout=120)
        fresh_database(url)
        web.healthy()
        ids = seed_customers(url, customers)
        seed_history(url, ids, datetime.now(UTC) - timedelta(days=1))
        figures: dict[str, Any] = {}
        for name, count in (("one", 1), ("many", clients)):
            sent = Sent(f"ov{name}")
            progress(f"overlap: {count} client(s) for {seconds:g} s")
            elapsed = run_clients(
                web.base, sent, clients=count, seconds=seconds, size=size, customers=customers
            )
            if sent.errors:
                web.fail(
                    f"answered {len(sent.errors)} batches with an error, e.g. "
                    + "; ".join(sent.errors[:3])
                )
            expect(sent.batches > 0, f"{count} client(s) got no batch answered in {seconds:g} s")
            found = check(url, sent)
            expect(found["lost"] == 0, f"{found['lost']} accepted events were not stored")
            expect(
                found["answers_differing"] == 0,
                f"{found['answers_differing']} events were answered differently from what "
                "was stored (decided twice)",
            )
            figures[name] = {
                "batches": sent.batches,
                "events": sent.events_answered,
                "retried": sent.retried_sent,
                "events_per_s": round(sent.events_answered / elapsed),
            }
        twice = decided_twice(url)
        expect(twice == 0, f"{twice} decisions were made twice (audit entries or callbacks)")
        expect(figures["many"]["retried"] > 0, "no id was retried: nothing raced")
        output = web.tail(10**6)
        raced = output.count("lost a race with a concurrent request")
    finally:
        web.stop()
        drop_database(url)
    many, one = figures["many"], figures["one"]
    return {
        "clients": clients,
        "seconds": seconds,
        "batch": size,
        "customers": customers,
        "gunicorn_workers": web_workers,
        "events": many["events"],
        "retried_ids": many["retried"],
        "errors": 0,
        "lost": 0,
        "decided_twice": 0,
        "tries_run_again": raced,
        "events_per_s": many["events_per_s"],
        "one_client_events_per_s": one["events_per_s"],
        "ratio": round(many["events_per_s"] / one["events_per_s"], 3),
    }

"""Benchmarks of the callback engine on PostgreSQL, each figure beside a baseline of the same run.

    scripts/bench                       # everything, default sizes
    scripts/bench --only dispatch,claim --dispatch 8000

The carrier is a recording one (it places nothing), so what is measured is the call center.
Each benchmark uses a fresh database, dropped at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TARGETS = {
    "dispatch": ">= 1,000 callbacks/s with 4 workers, 0 duplicates",
    "ingest": ">= 5,000 events/s",
    "expand": "<= 20 s for 1,000,000 callbacks",
    "claim": "p99 <= 10 ms with 1,000,000 queued",
    "campaign": "a 1,000,000-recipient campaign expands in seconds, not minutes",
}


# ----- databases -----


def fresh_database() -> str:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    name = f"callcenter_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def drop_database(url: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        )
    admin.dispose()


def raw(url: str) -> psycopg.Connection:
    parts = make_url(url)
    return psycopg.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=parts.database,
    )


def daytime_zone() -> str:
    now = datetime.now(UTC)
    for zone in (
        "Europe/Rome",
        "America/New_York",
        "America/Los_Angeles",
        "Pacific/Honolulu",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "Australia/Sydney",
        "Pacific/Auckland",
    ):
        if 9 <= now.astimezone(ZoneInfo(zone)).hour < 19:
            return zone
    raise RuntimeError("no daytime zone")


def seed_customers(url: str, count: int) -> list[uuid.UUID]:
    """Customers with valid Italian mobile numbers, in a zone where it is now daytime (COPY)."""
    ids = [uuid.uuid4() for _ in range(count)]
    now, zone = datetime.now(UTC), daytime_zone()
    with raw(url) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY customers (id, external_id, phone, locale, time_zone, "
            "time_zone_overridden, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i, customer_id in enumerate(ids):
                copy.write_row(
                    (customer_id, f"bench-{i}", f"+393331{i:06d}", "it", zone, True, now, now)
                )
        cursor.execute(
            "INSERT INTO official_numbers (phone, purpose, label, inbound_only, "
            "active_from) VALUES ('+14155550100', 'outbound_verification', "
            "'Bench', false, now())"
        )
    return ids


def callback_rows(customer_ids: list[uuid.UUID], now: datetime):  # type: ignore[no-untyped-def]
    for i, customer_id in enumerate(customer_ids):
        yield (
            uuid.uuid4(),
            customer_id,
            "registration",
            "registration_check",
            f"+393331{i:06d}",
            "medium",
            "queued",
            now + timedelta(hours=24),
            now - timedelta(minutes=1),
            0,
            0,
            0.0,
            "[]",
            "{}",
            1,
            False,
            now,
            now,
        )


CALLBACK_COLUMNS = (
    "id, customer_id, trigger, flow, to_number, priority, status, due_by, "
    "next_attempt_at, attempts, machine_retries, score, reasons, variables, "
    "policy_version, notice_due, created_at, updated_at"
)


def copy_callbacks(url: str, customer_ids: list[uuid.UUID]) -> float:
    started = time.perf_counter()
    with raw(url) as connection, connection.cursor() as cursor:  # noqa: SIM117
        with cursor.copy(f"COPY callbacks ({CALLBACK_COLUMNS}) FROM STDIN") as copy:
            for row in callback_rows(customer_ids, datetime.now(UTC)):
                copy.write_row(row)
    return time.perf_counter() - started


# ----- 1. dispatch throughput -----


def _dispatch_worker(url: str, name: str, start: mp.Event, out: mp.Queue) -> None:
    from app import create_app
    from app.callbacks.dispatch import Dispatcher
    from app.database import utcnow
    from app.extensions import db
    from app.flows.registry import flows
    from app.telephony.calls import CallUrls
    from app.telephony.recording import RecordingTelephony

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
    carrier = RecordingTelephony()
    with app.app_context():
        policy = dataclasses.replace(
            app.extensions["callback_policy"], calls_per_second=1e6, max_concurrent_calls=10**9
        )
        worker = Dispatcher(
            session=db.session,
            policy=policy,
            telephony=carrier,
            urls=CallUrls(app),
            flows=flows(),
            worker=name,
            now=utcnow,
            sleep=lambda seconds: None,
            batch=100,
        )
        start.wait()
        idle = 0
        while idle < 3:
            idle = idle + 1 if worker.dispatch() == 0 else 0
        db.session.remove()
        db.engine.dispose()
    out.put((name, carrier.placed))


def _bare_claim_worker(url: str, name: str, start: mp.Event, out: mp.Queue) -> None:
    claimed: list[str] = []
    with raw(url) as connection:
        start.wait()
        while True:
            with connection.transaction():
                rows = connection.execute(
                    "UPDATE callbacks SET status = 'claimed', lease_owner = %s WHERE id IN "
                    "(SELECT id FROM callbacks WHERE status = 'queued' AND next_attempt_at <= "
                    "now() ORDER BY due_by LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id",
                    (name,),
                ).fetchall()
            if not rows:
                break
            claimed.extend(str(row[0]) for row in rows)
    out.put((name, claimed))


def _run_workers(target, url: str, workers: int) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    context = mp.get_context("spawn")
    start, out = context.Event(), context.Queue()
    processes = [
        context.Process(target=target, args=(url, f"w{i}", start, out)) for i in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(3)  # let every worker import and connect before the clock starts
    began = time.perf_counter()
    start.set()
    results = [out.get() for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    return elapsed, [item for _, items in results for item in items]


def bench_dispatch(count: int, workers: int) -> dict:
    url = fresh_database()
    try:
        customers = seed_customers(url, count)
        copy_callbacks(url, customers)
        elapsed, placed = _run_workers(_dispatch_worker, url, workers)
        with raw(url) as connection:
            twice = connection.execute(
                "SELECT count(*) FROM (SELECT callback_id FROM "
                "callback_attempts GROUP BY callback_id HAVING count(*) "
                "> 1) t"
            ).fetchone()[0]
            connection.execute("UPDATE callbacks SET status = 'queued', lease_owner = NULL")
            connection.commit()
        bare_elapsed, claimed = _run_workers(_bare_claim_worker, url, workers)
    finally:
        drop_database(url)
    rate, bare = len(placed) / elapsed, len(claimed) / bare_elapsed
    return {
        "callbacks": count,
        "workers": workers,
        "dispatched": len(placed),
        "duplicate_calls": len(placed) - len(set(placed)),
        "callbacks_attempted_twice": twice,
        "dispatch_per_s": round(rate),
        "bare_claim_per_s": round(bare),
        "ratio": round(rate / bare, 3),
    }


# ----- 2. event ingest -----


def bench_ingest(events: int, customers: int) -> dict:
    from app import create_app
    from app.extensions import db

    url = fresh_database()
    try:
        ids = seed_customers(url, customers)
        now = datetime.now(UTC)
        with raw(url) as connection, connection.cursor() as cursor:  # noqa: SIM117 - 20 past payments each
            with cursor.copy(
                "COPY events (event_id, type, customer_id, occurred_at, data, "
                "anomalous, score, reasons, policy_version, received_at) "
                "FROM STDIN"
            ) as copy:
                for i, customer_id in enumerate(ids):
                    for j in range(20):
                        copy.write_row(
                            (
                                f"hist-{i}-{j}",
                                "transaction",
                                customer_id,
                                now - timedelta(days=j + 1),
                                json.dumps(
                                    {
                                        "amount": str(40 + j),
                                        "currency": "EUR",
                                        "country": "IT",
                                        "device": "p1",
                                    }
                                ),
                                False,
                                0.0,
                                "[]",
                                1,
                                now,
                            )
                        )
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING", "API_KEYS": ("bench",)}
        )
        client = app.test_client()
        batches = []
        for b in range(events // 1000):
            batches.append(
                [
                    {
                        "id": f"ev-{b}-{k}",
                        "type": "transaction",
                        "customer_external_id": f"bench-{(b * 1000 + k) % customers}",
                        "occurred_at": (now - timedelta(seconds=events - b * 1000 - k)).isoformat(),
                        "data": {
                            "amount": "45" if k % 50 else "900",
                            "currency": "EUR",
                            "country": "IT" if k % 70 else "PL",
                            "device": "p1",
                            "merchant": "Shop",
                        },
                    }
                    for k in range(1000)
                ]
            )
        began = time.perf_counter()
        anomalous = 0
        for batch in batches:
            response = client.post(
                "/api/v1/events:batch",
                json={"events": batch},
                headers={"Authorization": "Bearer bench"},
            )
            assert response.status_code == 202, response.get_data(as_text=True)[:300]
            body = response.get_json()
            assert body["refused"] == 0, body["results"][:2]
            anomalous += sum(1 for r in body["results"] if r["anomalous"])
        elapsed = time.perf_counter() - began
        with app.app_context():
            db.engine.dispose()
        # Baseline: the same number of event rows written with COPY, no API and no scoring.
        started = time.perf_counter()
        with (
            raw(url) as connection,
            connection.cursor() as cursor,
            cursor.copy(
                "COPY events (event_id, type, customer_id, occurred_at, data, "
                "anomalous, score, reasons, policy_version, received_at) "
                "FROM STDIN"
            ) as copy,
        ):
            for k in range(events):
                copy.write_row(
                    (
                        f"copy-{k}",
                        "transaction",
                        ids[k % customers],
                        now,
                        json.dumps({"amount": "45"}),
                        False,
                        0.0,
                        "[]",
                        1,
                        now,
                    )
                )
        copy_elapsed = time.perf_counter() - started
    finally:
        drop_database(url)
    return {
        "events": events,
        "customers": customers,
        "anomalous": anomalous,
        "ingest_per_s": round(events / elapsed),
        "copy_rows_per_s": round(events / copy_elapsed),
        "ratio": round(copy_elapsed / elapsed, 3),
    }


def bench_ingest_http(events: int, customers: int, clients: int = 2) -> dict:
    """The same ingest through the Procfile's web process: gunicorn, 2 workers, real HTTP."""
    import socket
    import subprocess
    import threading
    from pathlib import Path

    import requests

    url = fresh_database()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "APP_ENV": "production",
        "API_KEYS": "bench",
        "SECRET_KEY": "benchmark-secret-key-benchmark-secret-key",
        "LOG_LEVEL": "WARNING",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    web = subprocess.Popen(
        ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "app:create_app()"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seed_customers(url, customers)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        now = datetime.now(UTC)
        per_client = events // clients // 1000

        def batches(client: int) -> list[list[dict]]:
            # Each client has its own customers, as separate core-system shards would.
            return [
                [
                    {
                        "id": f"http-{client}-{b}-{k}",
                        "type": "transaction",
                        "customer_external_id": f"bench-{(k * clients + client) % customers}",
                        "occurred_at": (now - timedelta(seconds=events - b * 1000 - k)).isoformat(),
                        "data": {
                            "amount": "45" if k % 50 else "900",
                            "currency": "EUR",
                            "country": "IT",
                            "device": "p1",
                            "merchant": "Shop",
                        },
                    }
                    for k in range(1000)
                ]
                for b in range(per_client)
            ]

        work = [batches(c) for c in range(clients)]
        refused: list[int] = []

        def send(client: int) -> None:
            with requests.Session() as http:
                for batch in work[client]:
                    response = http.post(
                        f"{base}/api/v1/events:batch",
                        json={"events": batch},
                        headers={"Authorization": "Bearer bench"},
                        timeout=120,
                    )
                    refused.append(response.json()["refused"] if response.ok else 1000)

        threads = [threading.Thread(target=send, args=(c,)) for c in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        web.terminate()
        web.wait(timeout=30)
        drop_database(url)
    sent = per_client * clients * 1000
    return {
        "events": sent,
        "clients": clients,
        "gunicorn_workers": 2,
        "refused": sum(refused),
        "ingest_per_s": round(sent / elapsed),
    }


# ----- 3. bulk expansion and 4. the claim query with a million queued -----


def bench_expand_and_claim(count: int, claims: int) -> tuple[dict, dict]:
    from app import create_app
    from app.callbacks.bulk import expand_callbacks
    from app.callbacks.dispatch import claim_statement
    from app.callbacks.models import EventType, Priority
    from app.customers.models import Customer
    from app.database import utcnow
    from app.extensions import db

    url = fresh_database()
    try:
        began = time.perf_counter()
        customers = seed_customers(url, count)
        seeded = time.perf_counter() - began
        copy_elapsed = copy_callbacks(url, customers)
        with raw(url) as connection:
            connection.execute("TRUNCATE callbacks CASCADE")
            connection.commit()
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
        with app.app_context():
            began = time.perf_counter()
            queued = expand_callbacks(
                db.session,
                customers=sa.select(Customer.id),
                policy=app.extensions["callback_policy"],
                trigger=EventType.REGISTRATION,
                flow="registration_check",
                priority=Priority.LOW,
                now=utcnow(),
                reason="benchmark campaign",
            )
            db.session.commit()
            expand_elapsed = time.perf_counter() - began
            db.session.execute(sa.text("ANALYZE callbacks"))
            db.session.commit()
            latencies, baseline = [], []
            for i in range(claims):
                started = time.perf_counter()
                db.session.execute(
                    claim_statement(
                        worker=f"bench{i}", now=utcnow(), lease=timedelta(minutes=2), limit=100
                    )
                ).all()
                latencies.append(time.perf_counter() - started)
                db.session.rollback()  # keep the million queued
                started = time.perf_counter()
                db.session.execute(sa.text("SELECT 1")).all()
                baseline.append(time.perf_counter() - started)
                db.session.rollback()
            db.engine.dispose()
    finally:
        drop_database(url)

    def p(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 2)

    expand = {
        "callbacks": queued,
        "customers_copy_s": round(seeded, 1),
        "expand_s": round(expand_elapsed, 2),
        "copy_s": round(copy_elapsed, 2),
        "ratio": round(expand_elapsed / copy_elapsed, 2),
    }
    claim = {
        "queued": queued,
        "claims": claims,
        "batch": 100,
        "p50_ms": p(latencies, 50),
        "p99_ms": p(latencies, 99),
        "select_1_p99_ms": p(baseline, 99),
    }
    return expand, claim


# ----- 5. a campaign of a million recipients -----


def bench_campaign(count: int) -> dict:
    """A supervisor's campaign over `count` customers (a CSV audience): pre-flight, then start."""
    from app import create_app
    from app.audit.service import Actor
    from app.campaigns import service
    from app.database import utcnow
    from app.extensions import db
    from app.flows.registry import flows

    url = fresh_database()
    try:
        customers = seed_customers(url, count)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
        with app.app_context():
            now = utcnow()
            policy = app.extensions["callback_policy"]
            campaign = service.create_campaign(
                db.session,
                policy=policy,
                flows=flows(),
                actor=Actor("bench"),
                now=now,
                name="Benchmark",
                purpose="a benchmark",
                flow="campaign_notice",
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(days=7),
                window_start="08:00",
                window_end="21:00",
                csv_text="external_id\n",
            )
            db.session.commit()
            campaign_id = campaign.id
        with raw(url) as connection, connection.cursor() as cursor:
            # The audience as a CSV upload leaves it: one recipient row per customer.
            with cursor.copy(
                "COPY campaign_recipients (campaign_id, customer_id) FROM STDIN"
            ) as copy:
                for customer_id in customers:
                    copy.write_row((campaign_id, customer_id))
            cursor.execute("ANALYZE")
        with app.app_context():
            campaign = db.session.get(service.Campaign, campaign_id)
            began = time.perf_counter()
            preflight = service.preflight(db.session, campaign, policy=policy, now=utcnow())
            preflight_s = time.perf_counter() - began
            began = time.perf_counter()
            queued = service.start(
                db.session, campaign, policy=policy, actor=Actor("bench"), now=utcnow()
            )
            db.session.commit()
            start_s = time.perf_counter() - began
            db.engine.dispose()
    finally:
        drop_database(url)
    return {
        "recipients": count,
        "will_call": preflight["will_call"],
        "preflight_s": round(preflight_s, 2),
        "queued": queued,
        "start_s": round(start_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="dispatch,ingest,expand,claim,campaign")
    parser.add_argument("--dispatch", type=int, default=10_000, help="callbacks to dispatch")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--million", type=int, default=1_000_000, help="rows for expand/claim")
    parser.add_argument("--claims", type=int, default=500)
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    results: dict[str, dict] = {}
    if "dispatch" in chosen:
        results["dispatch"] = bench_dispatch(args.dispatch, args.workers)
        print("dispatch", json.dumps(results["dispatch"]), flush=True)
    if "ingest" in chosen:
        results["ingest"] = bench_ingest(args.events, customers=200)
        print("ingest", json.dumps(results["ingest"]), flush=True)
        results["ingest_http"] = bench_ingest_http(args.events, customers=200)
        print("ingest_http", json.dumps(results["ingest_http"]), flush=True)
    if "campaign" in chosen:
        results["campaign"] = bench_campaign(args.million)
        print("campaign", json.dumps(results["campaign"]), flush=True)
    if chosen & {"expand", "claim"}:
        results["expand"], results["claim"] = bench_expand_and_claim(args.million, args.claims)
        print("expand", json.dumps(results["expand"]), flush=True)
        print("claim", json.dumps(results["claim"]), flush=True)
    print("\ntargets:")
    for name, target in TARGETS.items():
        if name in results:
            print(f"  {name:9} {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmarks of the callback engine on PostgreSQL, each figure beside a baseline of the same run.

    scripts/bench                       # everything, default sizes
    scripts/bench --only dispatch,claim --dispatch 8000

The carrier is a recording one (it places nothing), so what is measured is the call center.
Each benchmark uses a fresh database, dropped at the end.

A benchmark checks its own preconditions (PostgreSQL answers, the web process starts and answers
/healthz) and its own results (every request succeeded, every row is where it should be). When a
check fails the run says why, prints no figure and exits 1: a failed run measures nothing.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import multiprocessing as mp
import os
import queue
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = (
    "dispatch",
    "ingest",
    "expand",
    "claim",
    "campaign",
    "pacing",
    "ring",
    "overlap",
    "press0",
)
DATABASE_TIMEOUT_SECONDS = 5
WEB_START_SECONDS = 30.0  # the web process must answer /healthz within this
WORKERS_SECONDS = 900.0  # dispatch workers that have not finished by then have hung
TARGETS = {
    "dispatch": ">= 1,000 callbacks/s with 4 workers, 0 duplicates",
    "ingest": ">= 5,000 events/s",
    "expand": "<= 20 s for 1,000,000 callbacks",
    "claim": "p99 <= 10 ms with 1,000,000 queued",
    "campaign": "a 1,000,000-recipient campaign expands in seconds, not minutes",
    "pacing": "the most calls in any one second <= rate + 1; every 10 s window within 5 %",
    "ring": "event to ring p99 <= 2 s, with and without ingest load",
    "overlap": "8 clients, overlapping and retried batches: 0 errors, 0 lost, 0 decided twice",
    "press0": "press 0 to the agent's desk ringing p99 <= 2 s, with 200 callers waiting too",
}


class BenchmarkFailed(RuntimeError):
    """A precondition or a check failed: the message says which, and no figure is printed."""


def expect(condition: bool, reason: str) -> None:
    """A check of a benchmark's own run (not an assert: it must hold under python -O too)."""
    if not condition:
        raise BenchmarkFailed(reason)


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ----- databases -----


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def check_database() -> None:
    """PostgreSQL answers at ADMIN_URL within a few seconds, and may create databases."""
    parts = make_url(ADMIN_URL)
    try:
        with psycopg.connect(
            host=parts.host,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname=parts.database,
            connect_timeout=DATABASE_TIMEOUT_SECONDS,
        ) as connection:
            row = connection.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as exc:
        raise BenchmarkFailed(
            f"PostgreSQL did not answer at {shown(ADMIN_URL)} (DATABASE_URL_TEST): "
            f"{str(exc).strip()}"
        ) from None
    expect(
        bool(row and row[0]),
        f"the user of {shown(ADMIN_URL)} may not create databases, which each benchmark needs",
    )


def new_database_url() -> str:
    name = f"callcenter_bench_{uuid.uuid4().hex[:8]}"
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def fresh_database(url: str | None = None) -> str:
    """Create and migrate a database (a new name unless given); answers its URL."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    url = url or new_database_url()
    name = make_url(url).database
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.SQLAlchemyError as exc:
        raise BenchmarkFailed(f"could not create a database at {shown(ADMIN_URL)}: {exc}") from None
    finally:
        admin.dispose()
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
    raise BenchmarkFailed("no zone of the list has daytime now: no callback could be placed")


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


def told_scheduled(url: str) -> None:
    """The core system was told each queued callback's 'scheduled' when it was queued (as the
    events API does, measured by the ingest benchmarks): the dispatch tells the calls placed."""
    with raw(url) as connection:
        connection.execute(
            "INSERT INTO customer_call_statuses (customer_id, status, detail, changed_at) "
            "SELECT customer_id, 'scheduled', json_build_object('at', to_char(next_attempt_at "
            "AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')), now() "
            "FROM callbacks"
        )
        connection.commit()


def _dispatch_worker(url: str, name: str, start: mp.Event, out: mp.Queue) -> None:
    from app import create_app
    from app.callbacks.dialer import Dispatcher
    from app.calls.service import CallUrls
    from app.carriers.recording import RecordingTelephony
    from app.database import utcnow
    from app.extensions import db
    from app.flows.registry import flows

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
    results: list[tuple[str, list[str]]] = []
    try:
        while len(results) < len(processes):
            try:
                results.append(out.get(timeout=1))
                continue
            except queue.Empty:
                pass
            # A worker that died never answers: its traceback is on stderr above.
            done = {name for name, _ in results}
            for i, process in enumerate(processes):
                if process.exitcode not in (None, 0) and f"w{i}" not in done:
                    raise BenchmarkFailed(
                        f"worker process w{i} exited with code {process.exitcode} "
                        "(its error is printed above)"
                    )
            if time.perf_counter() - began > WORKERS_SECONDS:
                raise BenchmarkFailed(f"the workers did not finish within {WORKERS_SECONDS:.0f} s")
        elapsed = time.perf_counter() - began
    finally:
        for process in processes:
            if process.is_alive() and len(results) < len(processes):
                process.terminate()
            process.join()
    return elapsed, [item for _, items in results for item in items]


def bench_dispatch(count: int, workers: int) -> dict:
    url = fresh_database()
    try:
        customers = seed_customers(url, count)
        copy_callbacks(url, customers)
        told_scheduled(url)
        elapsed, placed = _run_workers(_dispatch_worker, url, workers)
        with raw(url) as connection:
            twice = connection.execute(
                "SELECT count(*) FROM (SELECT callback_id FROM "
                "callback_attempts GROUP BY callback_id HAVING count(*) "
                "> 1) t"
            ).fetchone()[0]
            calling_now = connection.execute(
                "SELECT count(*) FROM outbox_messages WHERE subject = "
                "'customer.call_status_changed' AND body LIKE '%\"calling_now\"%'"
            ).fetchone()[0]
            connection.execute("UPDATE callbacks SET status = 'queued', lease_owner = NULL")
            connection.commit()
        bare_elapsed, claimed = _run_workers(_bare_claim_worker, url, workers)
    finally:
        drop_database(url)
    expect(
        len(placed) == count,
        f"dispatch placed {len(placed)} calls for {count} queued callbacks",
    )
    expect(
        len(set(placed)) == len(placed) and twice == 0,
        f"{len(placed) - len(set(placed))} duplicate calls, {twice} callbacks attempted twice",
    )
    expect(
        calling_now == count,
        f"the core system was told 'calling_now' {calling_now} times for {count} calls placed",
    )
    expect(
        len(claimed) == len(set(claimed)) == count,
        f"the baseline claimed {len(claimed)} rows ({len(set(claimed))} distinct) of {count}",
    )
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

EVENT_COLUMNS = (
    "event_id, type, customer_id, occurred_at, data, anomalous, score, reasons, "
    "policy_version, received_at"
)


def seed_history(url: str, ids: list[uuid.UUID], now: datetime) -> None:
    """20 past payments for each customer, so that the anomaly rules have a history to read."""
    with raw(url) as connection, connection.cursor() as cursor:  # noqa: SIM117
        with cursor.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy:
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


def event_batches(  # type: ignore[no-untyped-def]
    prefix: str, count: int, customers: int, now: datetime, events: int, shard=0, shards=1
):
    """`count` batches of 1,000 transactions, most ordinary, some anomalous; a shard's
    customers are its own, as separate core-system shards would send them."""
    return [
        [
            {
                "id": f"{prefix}-{b}-{k}",
                "type": "transaction",
                "customer_external_id": f"bench-{((b * 1000 + k) * shards + shard) % customers}",
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
        for b in range(count)
    ]


def batch_problem(status: int, body: object, size: int) -> str | None:
    """Why an answer to POST /api/v1/events:batch is not a full success, or None."""
    if status != 202:
        return f"answered {status}: {str(body)[:300]}"
    if not isinstance(body, dict) or len(body.get("results", [])) != size:
        return f"answered {size} events with: {str(body)[:300]}"
    if body.get("refused"):
        return f"refused {body['refused']} of {size} events: {body['results'][:2]}"
    return None


def count_events(url: str, prefix: str) -> int:
    with raw(url) as connection:
        return connection.execute(
            "SELECT count(*) FROM events WHERE event_id LIKE %s", (f"{prefix}-%",)
        ).fetchone()[0]


def bench_ingest(events: int, customers: int) -> dict:
    from app import create_app
    from app.extensions import db

    expect(events >= 1000, "--events must be at least 1,000 (one batch)")
    url = fresh_database()
    try:
        ids = seed_customers(url, customers)
        now = datetime.now(UTC)
        seed_history(url, ids, now)
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING", "API_KEYS": ("bench",)}
        )
        client = app.test_client()
        batches = event_batches("ev", events // 1000, customers, now, events)
        sent = sum(len(batch) for batch in batches)
        began = time.perf_counter()
        anomalous = 0
        for batch in batches:
            response = client.post(
                "/api/v1/events:batch",
                json={"events": batch},
                headers={"Authorization": "Bearer bench"},
            )
            body = response.get_json(silent=True)
            problem = batch_problem(response.status_code, body, len(batch))
            expect(problem is None, f"in-process ingest: POST /api/v1/events:batch {problem}")
            anomalous += sum(1 for r in body["results"] if r["anomalous"])
        elapsed = time.perf_counter() - began
        with app.app_context():
            db.engine.dispose()
        stored = count_events(url, "ev")
        expect(stored == sent, f"in-process ingest: {stored} events stored of {sent} accepted")
        # Baseline: the same number of event rows written with COPY, no API and no scoring.
        started = time.perf_counter()
        with (
            raw(url) as connection,
            connection.cursor() as cursor,
            cursor.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy,
        ):
            for k in range(sent):
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
        copied = count_events(url, "copy")
        expect(copied == sent, f"the COPY baseline wrote {copied} rows of {sent}")
    finally:
        drop_database(url)
    return {
        "events": sent,
        "customers": customers,
        "anomalous": anomalous,
        "ingest_per_s": round(sent / elapsed),
        "copy_rows_per_s": round(sent / copy_elapsed),
        "ratio": round(copy_elapsed / elapsed, 3),
    }


class WebProcess:
    """The Procfile's web process (gunicorn) on a free port, with what it printed kept."""

    def __init__(self, database_url: str, *, workers: int = 2) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        # Everything a production web process needs, made for this run only; the rest of the
        # environment passes through (a wrong setting there shows up in the output below).
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "APP_ENV": "production",
            "API_KEYS": "bench",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "VERIFICATION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "LOG_LEVEL": "WARNING",
        }
        self.output = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = WEB_START_SECONDS) -> None:
        """Start it; BenchmarkFailed with its output unless it answers /healthz in time.

        Any answer will do here (503 until its database exists): see healthy() for the 200.
        """
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "app:create_app()",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )
        self._wait(lambda status: True, "answer GET /healthz", timeout)

    def healthy(self, timeout: float = WEB_START_SECONDS) -> None:
        """/healthz answers 200: the web process reaches its database."""
        self._wait(lambda status: status == 200, "answer GET /healthz with 200", timeout)

    def _wait(self, good: Callable[[int], bool], what: str, timeout: float) -> None:
        assert self.process is not None
        deadline, last = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"exited with code {self.process.returncode} before it could {what}")
            try:
                answer = requests.get(f"{self.base}/healthz", timeout=2)
            except requests.RequestException as exc:
                last = type(exc).__name__
            else:
                if good(answer.status_code):
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            time.sleep(0.2)
        self.fail(f"did not {what} within {timeout:.0f} s (last: {last})")

    def fail(self, why: str) -> None:
        self.stop()
        raise BenchmarkFailed(
            f"the web process (gunicorn, {self.base}) {why}; it printed:\n{self.tail()}"
        )

    def tail(self, lines: int = 30) -> str:
        """The last lines it printed, after any error line above them: when gunicorn's master
        halts, its own traceback can push the worker's reason out of the last lines."""
        self.output.seek(0)
        every = self.output.read().splitlines()
        text = every[-lines:]
        reasons = list(dict.fromkeys(line for line in every[:-lines] if "Error" in line))[-5:]
        if reasons:
            text = [*reasons, "...", *text]
        return "\n".join(f"    {line}" for line in text) or "    (nothing)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def bench_ingest_http(events: int, customers: int, clients: int = 2) -> dict:
    """The same ingest through the Procfile's web process: gunicorn, 2 workers, real HTTP."""
    per_client = events // clients // 1000
    expect(per_client >= 1, f"--events must be at least {clients * 1000} ({clients} clients)")
    url = new_database_url()
    web = WebProcess(url)
    try:
        # First, while its database is being made: a web process that cannot start fails the
        # run before anything else is done.
        web.start()
        fresh_database(url)
        web.healthy()
        ids = seed_customers(url, customers)
        now = datetime.now(UTC)
        seed_history(url, ids, now)
        work = [
            event_batches(f"http-{c}", per_client, customers, now, events, c, clients)
            for c in range(clients)
        ]
        problems: list[str] = []
        accepted: list[int] = []

        def send(client: int) -> None:
            try:
                with requests.Session() as http:
                    for batch in work[client]:
                        response = http.post(
                            f"{web.base}/api/v1/events:batch",
                            json={"events": batch},
                            headers={"Authorization": "Bearer bench"},
                            timeout=120,
                        )
                        try:
                            body: object = response.json()
                        except ValueError:
                            body = response.text
                        problem = batch_problem(response.status_code, body, len(batch))
                        if problem is not None:
                            problems.append(f"client {client}: POST /api/v1/events:batch {problem}")
                            return
                        accepted.append(len(batch))
            except requests.RequestException as exc:
                problems.append(f"client {client}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=send, args=(c,)) for c in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        sent = per_client * clients * 1000
        if problems:
            web.fail("failed requests: " + "; ".join(problems[:3]))
        expect(sum(accepted) == sent, f"HTTP ingest: {sum(accepted)} events accepted of {sent}")
        stored = count_events(url, "http")
        expect(stored == sent, f"HTTP ingest: {stored} events stored of {sent} accepted")
    finally:
        web.stop()
        drop_database(url)
    return {
        "events": sent,
        "clients": clients,
        "gunicorn_workers": web.workers,
        "refused": 0,
        "ingest_per_s": round(sent / elapsed),
    }


# ----- 3. bulk expansion and 4. the claim query with a million queued -----


def bench_expand_and_claim(count: int, claims: int) -> tuple[dict, dict]:
    from app import create_app
    from app.callbacks.bulk import expand_callbacks
    from app.callbacks.lifecycle import claim_statement
    from app.callbacks.models import EventType, Priority
    from app.customers.models import Customer
    from app.database import utcnow
    from app.extensions import db

    expect(claims >= 2, "--claims must be at least 2 (percentiles need two runs)")
    url = fresh_database()
    try:
        began = time.perf_counter()
        customers = seed_customers(url, count)
        seeded = time.perf_counter() - began
        copy_elapsed = copy_callbacks(url, customers)
        with raw(url) as connection:
            copied = connection.execute("SELECT count(*) FROM callbacks").fetchone()[0]
            connection.execute("TRUNCATE callbacks CASCADE")
            connection.commit()
        expect(copied == count, f"the COPY baseline wrote {copied} callbacks of {count}")
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
            expect(queued == count, f"expand_callbacks queued {queued} callbacks of {count}")
            db.session.execute(sa.text("ANALYZE callbacks"))
            db.session.commit()
            latencies, baseline = [], []
            for i in range(claims):
                started = time.perf_counter()
                rows = db.session.execute(
                    claim_statement(
                        worker=f"bench{i}", now=utcnow(), lease=timedelta(minutes=2), limit=100
                    )
                ).all()
                latencies.append(time.perf_counter() - started)
                expect(
                    len(rows) == min(100, count),
                    f"claim {i} took {len(rows)} callbacks, not {min(100, count)}",
                )
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
    expect(
        preflight["will_call"] == count and queued == count,
        f"the campaign's pre-flight will call {preflight['will_call']} and its start queued "
        f"{queued}, of {count} recipients",
    )
    return {
        "recipients": count,
        "will_call": preflight["will_call"],
        "preflight_s": round(preflight_s, 2),
        "queued": queued,
        "start_s": round(start_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(BENCHMARKS), help=f"some of {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--dispatch", type=int, default=10_000, help="callbacks to dispatch")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--events", type=int, default=10_000, help="events to ingest (>= 2,000)")
    parser.add_argument("--million", type=int, default=1_000_000, help="rows for expand/claim")
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--pacing-seconds", type=float, default=60.0, help="per rate (1, 5, 50)")
    parser.add_argument(
        "--pacing-rates", default="1,5,50", help="calls per second to measure, comma-separated"
    )
    parser.add_argument(
        "--pacing-create-ms", type=float, default=300.0, help="how long each carrier create takes"
    )
    parser.add_argument("--ring-seconds", type=float, default=60.0, help="per load (none, ingest)")
    parser.add_argument(
        "--overlap-seconds", type=float, default=60.0, help="per phase (one client, then many)"
    )
    parser.add_argument("--overlap-clients", type=int, default=8)
    parser.add_argument("--press0-probes", type=int, default=60, help="callers per load")
    parser.add_argument(
        "--press0-waiting", type=int, default=200, help="callers nobody free can take, waiting"
    )
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()}
    if not chosen or chosen - set(BENCHMARKS):
        parser.error(
            f"--only: {', '.join(sorted(chosen - set(BENCHMARKS))) or 'nothing'} is not one of "
            f"{', '.join(BENCHMARKS)}"
        )
    results: dict[str, dict] = {}
    current = "preconditions"
    try:
        check_database()
        if "dispatch" in chosen:
            current = "dispatch"
            results["dispatch"] = bench_dispatch(args.dispatch, args.workers)
            progress("dispatch measured; its checks passed")
        if "ingest" in chosen:
            # Through HTTP first: a web process that cannot start fails the run at once.
            current = "ingest (HTTP)"
            results["ingest_http"] = bench_ingest_http(args.events, customers=200)
            progress("ingest through HTTP measured; its checks passed")
            current = "ingest"
            results["ingest"] = bench_ingest(args.events, customers=200)
            progress("ingest in one process measured; its checks passed")
            # The HTTP figure's baseline: the same ingest in one process, in this run.
            in_process = results["ingest"]["ingest_per_s"]
            results["ingest_http"]["in_process_per_s"] = in_process
            results["ingest_http"]["ratio"] = round(
                results["ingest_http"]["ingest_per_s"] / in_process, 3
            )
        if "campaign" in chosen:
            current = "campaign"
            results["campaign"] = bench_campaign(args.million)
            progress("campaign measured; its checks passed")
        if chosen & {"expand", "claim"}:
            current = "expand and claim"
            results["expand"], results["claim"] = bench_expand_and_claim(args.million, args.claims)
            progress("expand and claim measured; their checks passed")
        if chosen & {"pacing", "ring"}:
            from benchmarks import pacing

            current = "pacing and event to ring"
            rates = tuple(float(rate) for rate in args.pacing_rates.split(","))
            results.update(
                pacing.run(
                    chosen,
                    args.pacing_seconds,
                    args.ring_seconds,
                    rates,
                    create_seconds=args.pacing_create_ms / 1000,
                )
            )
        if "overlap" in chosen:
            from benchmarks.overlap import bench_overlap

            current = "overlap"
            results["overlap"] = bench_overlap(args.overlap_seconds, args.overlap_clients)
            progress("overlapping batches measured; their checks passed")
        if "press0" in chosen:
            from benchmarks import press0

            current = "press 0 to ring"
            results.update(press0.run(args.press0_probes, args.press0_waiting))
    except BenchmarkFailed as exc:
        print(f"bench: {current} FAILED: {exc}", file=sys.stderr, flush=True)
        print("bench: no figures: a failed run measures nothing", file=sys.stderr, flush=True)
        return 1
    # Only now, with every check passed: each line holds its figure and its baseline.
    for name in results:
        print(name, json.dumps(results[name]), flush=True)
    print("\ntargets:")
    for name, target in TARGETS.items():
        if name in chosen:
            print(f"  {name:9} {target}")
    return 0


if __name__ == "__main__":
    # Run as `python -m benchmarks.callbacks`, this file is __main__, and the benchmarks in other
    # modules (pacing, overlap) import it again as benchmarks.callbacks: run that module's main,
    # so that their BenchmarkFailed is the one main catches (a failed check, not a traceback).
    from benchmarks import callbacks

    sys.exit(callbacks.main())

"""Pacing accuracy and event-to-ring latency, with real worker processes (scripts/bench).

    scripts/bench --only pacing --pacing-seconds 60       # 1, 5 and 50 calls/s, 4 workers
    scripts/bench --only pacing --pacing-create-ms 0      # a carrier that answers at once
    scripts/bench --only ring --ring-seconds 60           # p50/p99, without and with ingest load

Each worker process runs the worker's own scheduler (its ticks and its wake-up listener) with a
carrier that places nothing and keeps the moment of each request, which it hands back at the end;
each create takes --pacing-create-ms (300 ms by default, as a real carrier's create does).
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import queue
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from benchmarks.callbacks import (
    BenchmarkFailed,
    WebProcess,
    batch_problem,
    copy_callbacks,
    drop_database,
    event_batches,
    expect,
    fresh_database,
    new_database_url,
    progress,
    raw,
    seed_customers,
    seed_history,
)

RATES = (1, 5, 50)
START_SECONDS = 60.0  # every worker process must be up within this


class TimedCarrier:
    """A carrier that places nothing and keeps (number, moment) of each create request; each
    create answers after `create_seconds`."""

    name = "timed"

    def __init__(self, create_seconds: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.placed: list[tuple[str, float]] = []
        self.create_seconds = create_seconds

    def place_call(self, call: Any) -> str:
        with self.lock:
            self.placed.append((call.to, time.time()))
        if self.create_seconds:
            time.sleep(self.create_seconds)
        return "CA" + uuid.uuid4().hex

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        return "SM" + "0" * 32

    def hang_up(self, sid: str) -> None:
        return None

    def call_status(self, sid: str) -> str | None:
        return None

    def calls_to(self, number: str, since: datetime) -> list[str]:
        return []


def _worker(
    url: str, rate: float, tick: float, seconds: float, create: float, start: Any, out: Any
) -> None:
    """One worker process: the real scheduler and wake-up listener, for `seconds` after start."""
    from app import create_app
    from app.worker.process import Wake, build_scheduler, listen_for_hints

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING", "DISPATCH_TICK_SECONDS": tick}
    )
    carrier = TimedCarrier(create)
    app.extensions["telephony"] = carrier
    app.extensions["callback_policy"] = dataclasses.replace(
        app.extensions["callback_policy"], calls_per_second=rate, max_concurrent_calls=10**6
    )
    wakes: dict[str, Wake] = {}
    scheduler = build_scheduler(app, wakes)
    listener = listen_for_hints(app, scheduler, wakes)
    listening = listener.start()
    out.put(("ready", listening))
    start.wait()
    threading.Timer(seconds, lambda: scheduler.shutdown(wait=True)).start()
    scheduler.start()
    listener.stop()
    out.put(("placed", carrier.placed))


class Workers:
    """`count` worker processes, started and checked ready before any work is queued."""

    def __init__(
        self,
        url: str,
        count: int,
        rate: float,
        seconds: float,
        tick: float = 1.0,
        create_seconds: float = 0.0,
    ):
        context = mp.get_context("spawn")
        self.start, self.out = context.Event(), context.Queue()
        args = (url, rate, tick, seconds, create_seconds, self.start, self.out)
        self.processes = [context.Process(target=_worker, args=args) for _ in range(count)]
        self.seconds = seconds

    def __enter__(self) -> Workers:
        for process in self.processes:
            process.start()
        ready = [self._get("ready", START_SECONDS) for _ in self.processes]
        expect(all(ready), "a worker process could not LISTEN for wake-up hints")
        return self

    def _get(self, kind: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got, value = self.out.get(timeout=1)
            except queue.Empty:
                dead = [p.exitcode for p in self.processes if p.exitcode not in (None, 0)]
                expect(not dead, f"a worker process exited with code {dead} (printed above)")
                continue
            expect(got == kind, f"a worker process said {got!r} where {kind!r} was expected")
            return value
        raise BenchmarkFailed(f"the worker processes did not answer {kind!r} in {timeout:.0f} s")

    def go(self) -> float:
        began = time.time()
        self.start.set()
        return began

    def placed(self) -> list[tuple[str, float]]:
        results = [self._get("placed", self.seconds + 120) for _ in self.processes]
        return [item for items in results for item in items]

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()


def busiest_second(moments: list[float]) -> int:
    """The most moments in any one-second window [t, t + 1)."""
    moments, most, j = sorted(moments), 0, 0
    for i, start in enumerate(moments):
        while j < len(moments) and moments[j] < start + 1.0:
            j += 1
        most = max(most, j - i)
    return most


def ten_second_windows(moments: list[float], first: float, seconds: float) -> list[int]:
    """Calls in each whole 10 s window from `first` on."""
    return [
        sum(1 for m in moments if first + 10 * k <= m < first + 10 * (k + 1))
        for k in range(int(seconds // 10))
    ]


def paced_by_sleep(rate: float, seconds: float) -> list[float]:
    """The baseline: one thread sleeping one interval between moments (this machine's timer)."""
    moments, interval, began = [], 1.0 / rate, time.time()
    for i in range(int(rate * seconds)):
        delay = began + i * interval - time.time()
        if delay > 0:
            time.sleep(delay)
        moments.append(time.time())
    return moments


def pacing_figures(rate: float, moments: list[float], seconds: float) -> dict[str, Any]:
    # Windows from half an interval before the first call: one that began at the first call
    # itself would count a call exactly 10 s later, or not, by a millisecond of jitter (at
    # 1 call/s, 11 calls or 10).
    first = min(moments) - 0.5 / rate
    windows = ten_second_windows(moments, first, seconds)
    worst = max((abs(w - rate * 10) / (rate * 10) for w in windows), default=None)
    return {
        "max_in_1s": busiest_second(moments),
        "windows_10s": windows,
        "worst_10s_error_pct": None if worst is None else round(100 * worst, 1),
    }


def bench_pacing(
    rate: float, seconds: float, workers: int = 4, create_seconds: float = 0.3
) -> dict[str, Any]:
    """`workers` processes from a backlog of at least 10x the rate (enough for the whole run);
    each carrier create takes `create_seconds`."""
    backlog = int(max(10 * rate, rate * (seconds + 10)))
    url = fresh_database()
    try:
        customers = seed_customers(url, backlog)
        with Workers(url, workers, rate, seconds, create_seconds=create_seconds) as running:
            copy_callbacks(url, customers)
            with raw(url) as connection:
                queued = connection.execute(
                    "SELECT count(*) FROM callbacks WHERE status = 'queued'"
                ).fetchone()[0]
            expect(queued == backlog, f"the backlog holds {queued} callbacks of {backlog}")
            # As a database in service has them: without statistics on the backlog just copied in,
            # the first claims plan badly until autovacuum's ANALYZE (a 60 s run at 50 calls/s
            # lost 30 calls in its first 10 s, every time).
            with raw(url) as connection:
                connection.execute("ANALYZE")
            running.go()
            placed = running.placed()
    finally:
        drop_database(url)
    numbers = [number for number, _ in placed]
    expect(len(set(numbers)) == len(numbers), "a number was called twice")
    expect(len(placed) >= rate * seconds * 0.5, f"only {len(placed)} calls in {seconds:.0f} s")
    # Seconds from the first call, so that each 10 s window is whole.
    measured = min(seconds, max(m for _, m in placed) - min(m for _, m in placed) + 1e-9)
    figures = pacing_figures(rate, [m for _, m in placed], measured)
    baseline = pacing_figures(rate, paced_by_sleep(rate, min(measured, seconds)), measured)
    return {
        "calls_per_second": rate,
        "workers": workers,
        "create_ms": round(create_seconds * 1000),
        "backlog": backlog,
        "seconds": round(measured, 1),
        "calls": len(placed),
        **figures,
        "target_met": figures["max_in_1s"] <= rate + 1
        and (figures["worst_10s_error_pct"] is None or figures["worst_10s_error_pct"] <= 5),
        "baseline_sleep_loop": baseline,
    }


# ----- event to ring -----


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return round(values[0] * 1000) if values else float("nan")
    return round(statistics.quantiles(values, n=100)[q - 1] * 1000)


def bench_ring(seconds: float, *, load: bool, workers: int = 2) -> dict[str, Any]:
    """Urgent events (account changes: high priority) one every 0.5 s; from each 202 to the
    carrier's request. With `load`, a client sends batches of 1,000 events meanwhile."""
    url = new_database_url()
    web = WebProcess(url)
    customers = 200
    try:
        web.start()
        fresh_database(url)
        web.healthy()
        probes = int(seconds / 0.5)
        # The load's customers, then one more for each probe (no frequency cap is shared).
        ids = seed_customers(url, customers + probes)
        now = datetime.now(UTC)
        seed_history(url, ids[:customers], now)
        with Workers(url, workers, 50.0, seconds + 15) as running:
            running.go()
            problems: list[str] = []
            stop = threading.Event()

            def ingest() -> None:
                batch_number = 0
                with requests.Session() as http:
                    while not stop.is_set():
                        batch = event_batches(f"load{batch_number}", 1, customers, now, 1000)[0]
                        batch_number += 1
                        response = http.post(
                            f"{web.base}/api/v1/events:batch",
                            json={"events": batch},
                            headers={"Authorization": "Bearer bench"},
                            timeout=120,
                        )
                        problem = batch_problem(response.status_code, response.json(), 1000)
                        if problem:
                            problems.append(problem)
                            return

            loader = threading.Thread(target=ingest) if load else None
            if loader:
                loader.start()
            answered: dict[str, float] = {}
            round_trips: list[float] = []
            with requests.Session() as http:
                for i in range(probes):
                    sent = time.time()
                    response = http.post(
                        f"{web.base}/api/v1/events",
                        json={
                            "id": f"probe-{i}",
                            "type": "account_change",
                            "customer_external_id": f"bench-{customers + i}",
                            "occurred_at": datetime.now(UTC).isoformat(),
                            "data": {"field": "email"},
                        },
                        headers={"Authorization": "Bearer bench"},
                        timeout=60,
                    )
                    at = time.time()
                    body = response.json()
                    expect(
                        response.status_code in (200, 201, 202) and body.get("priority") == "high",
                        f"probe {i}: {response.status_code} {str(body)[:200]}",
                    )
                    answered[f"+393331{customers + i:06d}"] = at
                    round_trips.append(at - sent)
                    time.sleep(max(0.0, 0.5 - (time.time() - sent)))
            stop.set()
            if loader:
                loader.join()
            expect(not problems, f"the ingest load failed: {problems[:2]}")
            placed = running.placed()
    finally:
        web.stop()
        drop_database(url)
    first_call: dict[str, float] = {}
    for number, moment in placed:
        if number in answered and moment >= answered[number] - 5:
            first_call[number] = min(moment, first_call.get(number, moment))
    missing = sorted(set(answered) - set(first_call))
    expect(not missing, f"{len(missing)} urgent callbacks of {len(answered)} never rang")
    latencies = [max(0.0, first_call[n] - answered[n]) for n in answered]
    return {
        "load": "1,000-event batches, one client" if load else "none",
        "probes": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "api_202_p50_ms": percentile(round_trips, 50),
        "api_202_p99_ms": percentile(round_trips, 99),
    }


def run(
    chosen: set[str],
    pacing_seconds: float,
    ring_seconds: float,
    rates: tuple[float, ...] = RATES,
    create_seconds: float = 0.3,
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    if "pacing" in chosen:
        for rate in rates:
            results[f"pacing_{rate}"] = bench_pacing(
                rate, pacing_seconds, create_seconds=create_seconds
            )
            progress(f"pacing at {rate} calls/s measured; its checks passed")
    if "ring" in chosen:
        results["ring"] = bench_ring(ring_seconds, load=False)
        progress("event to ring measured; its checks passed")
        results["ring_under_load"] = bench_ring(ring_seconds, load=True)
        progress("event to ring under ingest load measured; its checks passed")
    return results

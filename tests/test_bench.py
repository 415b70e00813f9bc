"""scripts/bench checks its own preconditions: a server or a database that does not answer fails
the run, says why, and no figure is printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.callbacks import BenchmarkFailed, batch_problem
from benchmarks.press0 import bench_press0, conference_of, ring_latencies

pytestmark = pytest.mark.serial

ROOT = Path(__file__).parent.parent
FIGURES = ("ingest_per_s", "dispatch_per_s", "copy_rows_per_s", "p99_ms", "targets:")


def bench(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "bench"), *args],
        cwd=ROOT,
        env={**os.environ, "VENV": str(Path(sys.executable).parent.parent), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_failed_without_figures(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout == ""  # the figures' stream
    assert not any(figure in run.stdout + run.stderr for figure in FIGURES)
    assert "no figures: a failed run measures nothing" in run.stderr


@pytest.mark.processes
def test_a_web_process_that_cannot_start_fails_the_run_with_its_own_words(postgres_url):
    # A wrong setting in the environment reaches the web process (gunicorn), which refuses it.
    run = bench("--only", "ingest", "--events", "2000", APP_CODE_TTL_SECONDS="5")

    assert_failed_without_figures(run)
    assert "bench: ingest (HTTP) FAILED: the web process (gunicorn" in run.stderr
    # gunicorn exits with 3 when its worker fails to boot, or with 1 when the worker fails so
    # fast that the master's HaltServer escapes before its main loop (a race inside gunicorn).
    assert re.search(r"exited with code [13] before it could answer GET /healthz", run.stderr)
    assert "APP_CODE_TTL_SECONDS=5 must be 30 to 600" in run.stderr  # what it printed


@pytest.mark.processes
def test_a_database_that_does_not_answer_fails_the_run_before_anything_is_measured():
    run = bench(DATABASE_URL_TEST="postgresql+psycopg://postgres@127.0.0.1:1/postgres")

    assert_failed_without_figures(run)
    assert "bench: preconditions FAILED: PostgreSQL did not answer at" in run.stderr
    assert "127.0.0.1:1" in run.stderr and "Connection refused" in run.stderr


def test_an_unknown_benchmark_is_refused_rather_than_skipped():
    run = bench("--only", "dispatch,ingset")

    assert run.returncode == 2
    assert (
        "--only: ingset is not one of dispatch, ingest, expand, claim, campaign, pacing, ring, "
        "overlap, press0" in run.stderr
    )


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (202, {"refused": 0, "results": [{}] * 3}, None),
        (401, {"error": {"code": "unauthorized"}}, "answered 401: {'error'"),
        (202, {"refused": 1, "results": [{"refused": "bad"}, {}, {}]}, "refused 1 of 3 events"),
        (202, {"refused": 0, "results": [{}]}, "answered 3 events with:"),
        (502, "Bad Gateway", "answered 502: Bad Gateway"),
    ],
)
def test_every_ingest_answer_is_checked(status, body, expected):
    problem = batch_problem(status, body, 3)

    assert problem == expected if expected is None else expected in problem


# ----- press 0 to ring (benchmarks/press0.py) -----


def test_a_caller_whose_agent_never_rang_fails_the_press0_check():
    answered = {"a" * 36: 100.0, "b" * 36: 101.0}

    with pytest.raises(BenchmarkFailed, match="1 callers of 2 who pressed 0 never rang"):
        ring_latencies(answered, [("a" * 36, 100.2)])
    with pytest.raises(BenchmarkFailed, match="2 callers of 2 who pressed 0 never rang"):
        ring_latencies(answered, [])


def test_a_conference_rung_twice_fails_the_press0_check():
    answered = {"a" * 36: 100.0}

    with pytest.raises(BenchmarkFailed, match="rang an agent twice"):
        ring_latencies(answered, [("a" * 36, 100.2), ("a" * 36, 100.4)])


def test_press0_measures_from_the_answer_to_the_first_ring():
    latencies = ring_latencies({"a" * 36: 100.0}, [("a" * 36, 100.25)])

    assert latencies == pytest.approx([0.25])


def test_only_a_waiting_room_counts_as_the_answer_to_press_0():
    entry = "0b0e5a52-3c8e-4a43-9d1e-7f3a4c1d2e5f"
    waiting = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Attendi</Say>'
        f'<Dial action="/x" method="POST"><Conference beep="false">{entry}</Conference></Dial>'
        "</Response>"
    )

    assert conference_of(waiting) == entry
    assert conference_of("<Response><Say>Nessuno</Say><Hangup/></Response>") is None


@pytest.mark.processes
def test_a_ringer_that_never_rings_fails_the_press0_run(postgres_url):
    with pytest.raises(BenchmarkFailed, match="2 callers of 2 who pressed 0 never rang"):
        bench_press0(2, waiting=0, rings=False)


def test_press0_percentiles_never_go_beyond_what_was_measured():
    from benchmarks.press0 import percentile

    values = [0.01 * k for k in range(1, 61)]  # 10 ms to 600 ms

    assert percentile(values, 99) <= 600
    assert percentile(values, 50) == 305

"""Pacing holds in every second: a backlog, a late carrier answer or a second worker never makes
a burst. The carrier is a loopback Twilio that keeps the moment of each create request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt, Priority
from app.customers.models import Customer
from app.extensions import db
from app.worker.models import WorkerHeartbeat
from benchmarks.callbacks import daytime_zone
from tests.carriers.fake_twilio import FakeTwilio, load_spec
from tests.conftest import make_app
from tests.support import ApiClient
from tests.telephony_fixtures import register_lines

pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT, TOKEN = "AC" + "e" * 32, "twilio-token-for-the-pacing-test"


class LateTwilio(FakeTwilio):
    """Twilio whose first answers come late (seconds), as a carrier's do after a pause."""

    late: deque[float]

    def __post_init__(self) -> None:
        self.late = deque()
        super().__post_init__()

    def _create_call(self, account: str):  # type: ignore[no-untyped-def]
        delay = self.late.popleft() if self.late else 0.0
        if not delay:
            return super()._create_call(account)
        self.answer_delay = delay  # kept for this request only (the server is threaded: close)
        try:
            return super()._create_call(account)
        finally:
            self.answer_delay = 0.0


def busiest_second(moments: list[float]) -> int:
    """The most requests in any one-second window [t, t + 1)."""
    moments = sorted(moments)
    return max(
        (sum(1 for m in moments[i:] if m < start + 1.0) for i, start in enumerate(moments)),
        default=0,
    )


def test_busiest_second_counts_a_sliding_window():
    assert busiest_second([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert busiest_second([0.0, 1.0, 2.0]) == 1
    assert busiest_second([]) == 0


def worker_environment(database_url: str, settings: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **settings,
        "DATABASE_URL": database_url,
        "APP_ENV": "production",
        "SECRET_KEY": "pacing-test-secret-key-pacing-test-secret",
        "VERIFICATION_KEYS": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "API_KEYS": "k",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=30)


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        db.session.remove()
        return total


def wait_for(check, timeout: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.processes
def test_two_worker_processes_from_a_backlog_never_exceed_the_rate_in_any_second(
    database_url, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("several worker processes share the pacing on PostgreSQL (SQLite: one)")
    rate, backlog = 5, 30
    policy = (
        (ROOT / "config" / "callback_policy.yaml")
        .read_text()
        .replace(
            "  calls_per_second: 1\n  max_concurrent_calls: 10",
            f"  calls_per_second: {rate}\n  max_concurrent_calls: 1000",
        )
    )
    assert f"calls_per_second: {rate}" in policy
    (tmp_path / "policy.yaml").write_text(policy)
    fake = LateTwilio(load_spec())
    # Now and then two answers come 1.5 s late: the slots their workers reserved meanwhile pass.
    fake.late.extend(([1.5, 1.5] + [0.0] * 6) * 3)
    settings = {
        "TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": fake.url,
        "CALLBACK_POLICY_FILE": str(tmp_path / "policy.yaml"),
    }
    app = make_app(database_url, **settings)
    register_lines(ApiClient(app.test_client()))
    env = worker_environment(database_url, settings)
    workers = [start_worker(env) for _ in range(2)]
    try:
        wait_for(lambda: count(app, WorkerHeartbeat) == 2, timeout=60)  # both workers are up
        with app.app_context():  # then the backlog arrives at once
            now, zone = datetime.now(UTC), daytime_zone()
            policy_version = app.extensions["callback_policy"].version
            for i in range(backlog):
                customer = Customer(
                    id=uuid.uuid4(),
                    external_id=f"p{i}",
                    phone=f"+3933314{i:05d}",
                    locale="it",
                    time_zone=zone,
                    time_zone_overridden=True,
                )
                db.session.add(customer)
                db.session.flush()
                db.session.add(
                    Callback(
                        customer_id=customer.id,
                        trigger="registration",
                        flow="registration_check",
                        to_number=customer.phone,
                        priority=Priority.MEDIUM,
                        due_by=now + timedelta(hours=24),
                        next_attempt_at=now - timedelta(minutes=1),
                        policy_version=policy_version,
                    )
                )
            db.session.commit()
            db.session.remove()
        wait_for(lambda: len(fake.created) >= backlog, timeout=120)
        time.sleep(1)  # nothing more comes
    finally:
        stop(workers)
        fake.close()

    moments = [call["created"] for call in fake.created]
    numbers = [call["to"] for call in fake.created]
    assert sorted(numbers) == sorted(f"+3933314{i:05d}" for i in range(backlog))  # each once
    # Each callback placed once. On a busy machine a worker may find its slot passed before it
    # sent a create: that attempt is kept as failed, never sent, and the callback tried again.
    with app.app_context():
        attempts = db.session.scalars(sa.select(CallbackAttempt.status)).all()
        db.session.remove()
    assert len([a for a in attempts if a is not AttemptStatus.FAILED]) == backlog, attempts
    assert busiest_second(moments) <= rate + 1, sorted(m - min(moments) for m in moments)
    assert fake.violations == []
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.processes
def test_an_urgent_callback_wakes_the_dialer_without_waiting_for_its_tick(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the wake-up hint is a PostgreSQL NOTIFY (SQLite: the tick only)")
    fake = FakeTwilio(load_spec())
    settings = {
        "TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": fake.url,
    }
    app = make_app(database_url, **settings)
    api = ApiClient(app.test_client())
    register_lines(api)
    api.post(
        "/api/v1/customers",
        json={"external_id": "u", "phone": "+39 333 123 4567", "time_zone": daytime_zone()},
    )
    # The dialer's tick is an hour: only the hint can make this call within the test.
    workers = [
        start_worker(
            worker_environment(database_url, {**settings, "DISPATCH_TICK_SECONDS": "3600"})
        )
    ]
    try:
        wait_for(lambda: count(app, WorkerHeartbeat) == 1, timeout=60)  # it listens once it beats
        decision = api.post(
            "/api/v1/events",
            json={
                "id": "acct-u",
                "type": "account_change",
                "customer_external_id": "u",
                "occurred_at": datetime.now(UTC).isoformat(),
                "data": {"field": "email"},
            },
        ).get_json()
        assert decision["priority"] == "high", decision
        wait_for(lambda: fake.created, timeout=60)
    finally:
        stop(workers)
        fake.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    assert [call["to"] for call in fake.created] == ["+393331234567"]
    assert fake.violations == []

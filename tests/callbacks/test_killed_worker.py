"""A worker killed (SIGKILL) mid-dispatch: no callback is lost and no call is placed twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.callbacks.models import AttemptStatus, Callback, CallbackAttempt, CallbackStatus
from app.extensions import db
from benchmarks.callbacks import daytime_zone
from tests.carriers.fake_twilio import FakeTwilio, load_spec
from tests.conftest import make_app
from tests.support import ApiClient
from tests.telephony_fixtures import register_lines

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.processes, pytest.mark.serial]
ACCOUNT, TOKEN = "AC" + "d" * 32, "twilio-token-for-the-kill-test"


def wait_for(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_worker_killed_after_twilio_created_the_call_is_reconciled_not_redialed(
    database_url, tmp_path
):
    fake = FakeTwilio(load_spec())
    policy = (
        (ROOT / "config" / "callback_policy.yaml").read_text().replace("lease: 2m", "lease: 2s")
    )
    (tmp_path / "policy.yaml").write_text(policy)
    settings = {
        "TELEPHONY": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": fake.url,
        "CALLBACK_POLICY_FILE": str(tmp_path / "policy.yaml"),
    }
    app = make_app(database_url, **settings)
    api = ApiClient(app.test_client())
    register_lines(api)
    api.post(
        "/api/v1/customers",
        json={
            "external_id": "k",
            "phone": "+39 333 123 4567",
            "time_zone": daytime_zone(),
        },
    )
    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-k",
            "type": "registration",
            "customer_external_id": "k",
            "occurred_at": datetime.now(UTC).isoformat(),
        },
    ).get_json()["callback_id"]

    env = {
        **os.environ,
        **settings,
        "DATABASE_URL": database_url,
        "APP_ENV": "production",
        "SECRET_KEY": "kill-test-secret-key-kill-test-secret-key",
        "VERIFICATION_KEYS": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "API_KEYS": "k",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "WORKER_HEARTBEAT_SECONDS": "1",
    }

    logs = tmp_path / "workers.log"

    def start_worker() -> subprocess.Popen:
        with logs.open("ab") as log:
            return subprocess.Popen(
                ["flask", "--app", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    fake.answer_delay = 10.0  # Twilio creates the call, and the answer is slow to come back
    first = start_worker()
    try:
        wait_for(lambda: fake.created)
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies before it learns the call's sid
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    fake.answer_delay = 0.0

    def attempts():  # type: ignore[no-untyped-def]
        with app.app_context():
            rows = db.session.scalars(sa.select(CallbackAttempt)).all()
            callback = db.session.get_one(Callback, uuid.UUID(callback_id))
            result = ([a.status for a in rows], callback.status)
            db.session.remove()
            return result

    assert attempts() == ([AttemptStatus.DIALING], CallbackStatus.CLAIMED)

    second = start_worker()
    try:
        try:
            settled = wait_for(lambda: (state := attempts())[0] == [AttemptStatus.PLACED] and state)
        except AssertionError:
            print(logs.read_text()[-6000:])  # the workers' own account, in the report
            raise
        time.sleep(3)  # more ticks: still nothing is dialed again
        final = attempts()
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
        fake.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    assert settled == ([AttemptStatus.PLACED], CallbackStatus.IN_CALL)
    assert final == settled
    assert len(fake.calls_to("+393331234567")) == 1  # one call, ever
    assert fake.violations == []

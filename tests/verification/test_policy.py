"""The verification policy file decides the lock, the authenticator's drift and the QR window."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.extensions import db
from app.flows.engine import CodeResult
from tests.conftest import make_app
from tests.verification.conftest import at, check, enrol, new_call, register

pytestmark = pytest.mark.usefixtures("real_codes", "clock")

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "verification.yaml"
STRICTER = {
    "after_failures: 10": "after_failures: 3",
    "within: 24h": "within: 1h",
    "steps_either_side: 1": "steps_either_side: 0",
    "qr_shown_for: 10m": "qr_shown_for: 2m",
}


@pytest.fixture
def app(database_url, tmp_path):
    """An app whose VERIFICATION_POLICY_FILE is a stricter copy of the shipped file."""
    text = SHIPPED.read_text()
    for old, new in STRICTER.items():
        assert old in text
        text = text.replace(old, new)
    policy = tmp_path / "verification.yaml"
    policy.write_text(text)
    app = make_app(database_url, VERIFICATION_POLICY_FILE=str(policy))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_lock_follows_the_policy_file_failures_and_window(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    call = new_call(app, customer["id"])
    wrong = f"{(int(at(totp, clock())) + 5) % 1_000_000:06d}"

    assert [check(app, call, wrong) for _ in range(2)] == [CodeResult.WRONG] * 2
    clock.advance(timedelta(minutes=61).total_seconds())  # those two fall out of the hour
    assert [check(app, call, wrong) for _ in range(2)] == [CodeResult.WRONG] * 2
    assert check(app, call, wrong) is CodeResult.LOCKED  # the third within the hour

    state = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert (state["locked"], state["failures"], state["max_failures"]) == (True, 3, 3)


def test_with_no_drift_allowed_only_the_current_step_verifies(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    call = new_call(app, customer["id"])

    assert check(app, call, at(totp, clock(), -1)) is CodeResult.WRONG
    assert check(app, call, at(totp, clock(), +1)) is CodeResult.WRONG
    assert check(app, call, at(totp, clock())) is CodeResult.VERIFIED


def test_the_qr_code_is_shown_as_long_as_the_policy_file_says(api, clock):
    customer = register(api)
    body = api.post(f"/api/v1/customers/{customer['id']}/authenticator").get_json()
    assert body["qr_available_until"].startswith((clock() + timedelta(minutes=2)).isoformat()[:19])

    clock.advance(timedelta(minutes=1, seconds=59).total_seconds())
    assert api.get(body["qr_svg_url"]).status_code == 200
    clock.advance(2)
    late = api.get(body["qr_svg_url"])
    assert late.status_code == 410
    assert "in the 2 minutes after enrolment" in late.get_json()["error"]["message"]

"""A supervisor at the command line: a customer's verification state, and lifting a lock."""

from __future__ import annotations

import pytest

from app.flows.engine import CodeResult
from tests.verification.conftest import check, enrol, new_call, register

pytestmark = pytest.mark.usefixtures("real_codes", "clock")


def test_a_supervisor_sees_the_lock_and_lifts_it_with_a_note(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    call = new_call(app, customer["id"])
    for _ in range(10):
        check(app, call, "000000" if totp.at(clock()) != "000000" else "111111")
    runner = app.test_cli_runner()

    before = runner.invoke(args=["verification", "status", "cust-it"])
    lifted = runner.invoke(
        args=["verification", "unlock", "cust-it", "--note", "called the customer on file"]
    )
    after = runner.invoke(args=["verification", "status", "cust-it"])
    twice = runner.invoke(args=["verification", "unlock", "cust-it", "--note", "again"])

    assert "locked: yes" in before.output and "10 of 10" in before.output
    assert lifted.exit_code == 0 and "unlocked" in lifted.output
    assert "locked: no" in after.output
    assert twice.exit_code == 1 and "not locked" in twice.output
    clock.advance(30)
    assert check(app, call, totp.at(clock())) is CodeResult.VERIFIED
    unlocked = [
        e
        for e in api.get("/api/v1/audit-events").get_json()
        if e["action"] == "verification.unlocked"
    ]
    assert unlocked[0]["actor"].startswith("cli:")
    assert unlocked[0]["changes"]["note"] == "called the customer on file"


def test_an_unknown_customer_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["verification", "unlock", "nobody", "--note", "x"])

    assert result.exit_code == 1
    assert "nobody" in result.output

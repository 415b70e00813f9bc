"""The verifier the IVR uses: RFC 6238 codes, the one-step window, single use, app codes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.flows.engine import CodeResult
from app.ivr.steps import code_checker_for
from app.verification.models import (
    AppCode,
    AttemptResult,
    Authenticator,
    VerificationAttempt,
    VerificationLock,
)
from tests.verification.conftest import at, check, enrol, new_call, register

pytestmark = pytest.mark.usefixtures("real_codes", "clock")

RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_appendix_b_sha1_vectors_pass_the_ivrs_verifier(api, app, clock, unix_time, code):
    customer = register(api)
    clock.set(datetime.fromtimestamp(unix_time, UTC))
    enrol(app, customer["id"], secret=RFC_SECRET, digits=8)
    call = new_call(app, customer["id"])

    assert check(app, call, code) is CodeResult.VERIFIED
    assert check(app, call, code) is CodeResult.WRONG  # the same code again: spent
    assert check(app, call, "12345678") is CodeResult.WRONG


def test_one_step_either_side_is_accepted_two_are_not(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    call = new_call(app, customer["id"])
    now = clock()

    assert check(app, call, at(totp, now, -2)) is CodeResult.WRONG
    assert check(app, call, at(totp, now, +2)) is CodeResult.WRONG
    assert check(app, call, at(totp, now, -1)) is CodeResult.VERIFIED
    assert check(app, call, at(totp, now, 0)) is CodeResult.VERIFIED
    assert check(app, call, at(totp, now, +1)) is CodeResult.VERIFIED


def test_an_older_step_after_a_newer_one_was_used_is_refused(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    call = new_call(app, customer["id"])

    assert check(app, call, at(totp, clock(), 0)) is CodeResult.VERIFIED
    assert check(app, call, at(totp, clock(), -1)) is CodeResult.WRONG
    clock.advance(30)  # the next step: its code is new, so it works
    assert check(app, call, at(totp, clock(), 0)) is CodeResult.VERIFIED


def race(app, calls, code) -> list[CodeResult]:
    """Two calls type the same code at the same moment, each in its own web request."""
    barrier = threading.Barrier(len(calls))
    results: list[CodeResult] = []
    checker = code_checker_for(app)

    def run(call) -> None:
        with app.app_context():
            mine = db.session.merge(call)
            barrier.wait()
            results.append(checker(db.session, mine, code))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_one_authenticator_code_typed_in_two_calls_at_once_verifies_only_one(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    calls = [new_call(app, customer["id"]), new_call(app, customer["id"])]

    results = race(app, calls, at(totp, clock()))

    assert sorted(results) == [CodeResult.VERIFIED, CodeResult.WRONG]


def test_one_app_code_typed_in_two_calls_at_once_verifies_only_one(api, app, clock):
    customer = register(api)
    code = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={}).get_json()["code"]
    calls = [new_call(app, customer["id"]), new_call(app, customer["id"])]

    results = race(app, calls, code)

    assert sorted(results) == [CodeResult.VERIFIED, CodeResult.WRONG]


def test_codes_typed_in_parallel_never_get_past_the_lock(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    wrong = f"{(int(at(totp, clock())) + 5) % 1_000_000:06d}"
    first = new_call(app, customer["id"])
    assert [check(app, first, wrong) for _ in range(9)] == [CodeResult.WRONG] * 9

    # Twelve calls type at the same moment: only one more code may be checked, the tenth.
    results = race(app, [new_call(app, customer["id"]) for _ in range(12)], wrong)

    with app.app_context():
        attempts = list(db.session.scalars(sa.select(VerificationAttempt.result)))
        locks = db.session.scalar(sa.select(sa.func.count()).select_from(VerificationLock))
    checked = [result for result in attempts if result is not AttemptResult.LOCKED]
    assert len(checked) == 10, attempts  # the limit, never more
    assert results == [CodeResult.LOCKED] * 12  # the tenth locks; the others are told at once
    state = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert (state["locked"], state["failures"], locks) == (True, 10, 1)
    # Queuing the checks on the customer's row changed nothing about the customer.
    assert api.get(f"/api/v1/customers/{customer['id']}").get_json() == customer


def callback_for(api, external_id: str, n: int) -> str:
    decision = api.post(
        "/api/v1/events",
        json={
            "id": f"reg-{external_id}-{n}",
            "type": "registration",
            "customer_external_id": external_id,
            "occurred_at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC).isoformat(),
        },
    ).get_json()
    return decision["callback_id"]


def test_an_app_code_works_once_and_only_until_it_expires(api, app, clock):
    customer = register(api)
    minted = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={}).get_json()
    expires_at = datetime.fromisoformat(minted["expires_at"])
    call = new_call(app, customer["id"])

    assert expires_at - clock() == timedelta(minutes=10)
    clock.set(expires_at - timedelta(seconds=1))
    assert check(app, call, minted["code"]) is CodeResult.VERIFIED
    assert check(app, call, minted["code"]) is CodeResult.WRONG

    late = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={}).get_json()
    clock.set(datetime.fromisoformat(late["expires_at"]) + timedelta(seconds=1))
    assert check(app, call, late["code"]) is CodeResult.WRONG


def test_an_app_code_for_one_callback_does_not_verify_another(api, app):
    customer = register(api)
    mine = callback_for(api, "cust-it", 1)
    register(api, "cust-2", "+39 333 765 4321")
    other = callback_for(api, "cust-2", 2)
    minted = api.post(
        f"/api/v1/customers/{customer['id']}/app-codes", json={"callback_id": mine}
    ).get_json()

    on_other = new_call(app, customer["id"], callback_id=other)
    on_mine = new_call(app, customer["id"], callback_id=mine)

    assert minted["callback_id"] == mine
    assert check(app, on_other, minted["code"]) is CodeResult.WRONG
    assert check(app, on_mine, minted["code"]) is CodeResult.VERIFIED


def test_a_new_app_code_replaces_the_old_one(api, app):
    customer = register(api)
    first = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={}).get_json()
    second = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={}).get_json()
    call = new_call(app, customer["id"])

    if first["code"] != second["code"]:
        assert check(app, call, first["code"]) is CodeResult.WRONG
    assert check(app, call, second["code"]) is CodeResult.VERIFIED


def test_enrolling_again_makes_the_old_authenticator_useless(api, app, clock):
    customer = register(api)
    old = enrol(app, customer["id"])
    new = enrol(app, customer["id"])
    call = new_call(app, customer["id"])

    if old.at(clock()) != new.at(clock()):
        assert check(app, call, old.at(clock())) is CodeResult.WRONG
    assert check(app, call, new.at(clock())) is CodeResult.VERIFIED


def test_codes_rest_only_as_ciphertext_and_keyed_hashes(api, app, clock):
    customer = register(api)
    totp = enrol(app, customer["id"])
    code = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={}).get_json()["code"]

    with app.app_context():
        authenticator = db.session.query(Authenticator).one()
        app_code = db.session.query(AppCode).one()
        stored = authenticator.secret_ciphertext
        assert totp.byte_secret() not in stored and totp.secret.encode() not in stored
        assert len(stored) == 12 + 20 + 16  # nonce, 160-bit secret, GCM tag
        assert code not in app_code.code_hash and len(app_code.code_hash) == 64


def test_a_rotated_key_still_reads_old_secrets_and_encrypts_new_ones(database_url, clock):
    from tests.conftest import make_app
    from tests.support import ApiClient

    old_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    new_key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
    before = make_app(database_url, VERIFICATION_KEYS=(old_key,))
    before.extensions["clock"] = clock
    customer = register(ApiClient(before.test_client()))
    totp = enrol(before, customer["id"])

    after = make_app(database_url, VERIFICATION_KEYS=(new_key, old_key))
    after.extensions["clock"] = clock
    call = new_call(after, customer["id"])
    assert check(after, call, totp.at(clock())) is CodeResult.VERIFIED

    other = register(ApiClient(after.test_client()), "cust-2", "+39 333 765 4321")
    enrol(after, other["id"])
    with after.app_context():
        key_ids = {a.customer_id.hex: a.key_id for a in db.session.query(Authenticator)}
    assert len(set(key_ids.values())) == 2  # the new one is under the new key

    forgotten = make_app(database_url, VERIFICATION_KEYS=(new_key,))
    forgotten.extensions["clock"] = clock
    clock.advance(60)
    assert check(forgotten, call, totp.at(clock())) is CodeResult.WRONG

"""The public routes' rate limits: per address and per number, in memory or shared in Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.conftest import make_app, postgres_required

pytestmark = pytest.mark.usefixtures("lines")


def from_address(client, address: str, number: str):
    return client.get(
        "/api/v1/lookup",
        query_string={"number": number},
        environ_base={"REMOTE_ADDR": address},
    )


def test_one_address_looking_up_many_numbers_is_stopped_with_a_clear_429(client):
    answers = [from_address(client, "203.0.113.7", f"+1415555{i:04d}") for i in range(31)]

    assert [a.status_code for a in answers[:30]] == [200] * 30
    refused = answers[30]
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "too many lookups from your address" in refused.get_json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert from_address(client, "198.51.100.9", "+14155550100").status_code == 200  # others go on


def test_many_addresses_trying_one_phones_references_are_stopped(client):
    def check(address: str):
        return client.post(
            "/api/v1/call-checks",
            json={"reference": f"{uuid.uuid4().int % 1_000_000:06d}", "phone": "+393331234567"},
            environ_base={"REMOTE_ADDR": address},
        )

    answers = [check(f"192.0.2.{i}") for i in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "checks for this number" in answers[-1].get_json()["error"]["message"]


def test_one_phone_spelled_many_ways_is_one_phone_for_the_limit(client):
    spellings = [
        ("+393331234567", None),
        ("0039 333 123 4567", "IT"),
        ("00393331234567", "PL"),
        ("011 39 333 123 4567", "US"),
        ("333 123 4567", "IT"),
        ("+39 (333) 123-45-67", "GB"),
    ]

    answers = [
        client.post(
            "/api/v1/call-checks",
            json={"reference": "123456", "phone": phone, **({"region": region} if region else {})},
            environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
        )
        for i, (phone, region) in enumerate(spellings)
    ]

    assert [a.status_code for a in answers] == [200] * 5 + [429]


def test_reports_are_limited_per_address(client):
    answers = [client.post("/api/v1/reports", json={"number": "+390612345678"}) for _ in range(6)]

    assert [a.status_code for a in answers] == [201] * 5 + [429]


@pytest.fixture
def redis_url():
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        if postgres_required():  # CI: the machine's Redis must be there
            raise
        pytest.skip("no Redis at 127.0.0.1:6379")
    return url


def test_with_redis_every_web_process_shares_the_count(database_url, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    settings = {"RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = make_app(database_url, **settings), make_app(database_url, **settings)
    try:
        answers = [
            from_address((first if i % 2 else second).test_client(), "203.0.113.8", "+14155550100")
            for i in range(31)
        ]
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)

    assert [a.status_code for a in answers] == [200] * 30 + [429]

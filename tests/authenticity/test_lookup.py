"""The lookup: one answer shape for official, inbound-only, retired, unknown and odd numbers."""

from __future__ import annotations

import pytest

from app.extensions import db

pytestmark = pytest.mark.usefixtures("lines")

KEYS = {
    "number",
    "official",
    "status",
    "calls_from_this_number",
    "purpose",
    "label",
    "inbound_only",
    "active_from",
    "retired_at",
    "message",
    "advice",
    "language",
}


def lookup(client, number, **params):
    return client.get("/api/v1/lookup", query_string={"number": number, **params})


@pytest.fixture
def retired(api):
    api.post(
        "/api/v1/official-numbers",
        json={"phone": "+1 415 555 0199", "purpose": "outbound_verification", "label": "Old"},
    )
    assert api.delete("/api/v1/official-numbers/+14155550199").status_code == 200


def test_each_kind_of_number_gets_its_answer_in_the_same_shape(client, api, retired):
    answers = {
        "outbound": lookup(client, "+1 (415) 555-0100").get_json(),
        "hotline": lookup(client, "+14155550101").get_json(),
        "retired": lookup(client, "+14155550199").get_json(),
        "unknown": lookup(client, "+39 06 1234 5678").get_json(),
        "impossible": lookup(client, "+39 12").get_json(),
    }

    assert all(set(answer) == KEYS for answer in answers.values())
    status = {
        kind: (a["official"], a["status"], a["calls_from_this_number"])
        for kind, a in answers.items()
    }
    assert status == {
        "outbound": (True, "calls_you", True),
        "hotline": (True, "never_calls", False),  # inbound-only: a call from it is spoofed
        "retired": (False, "retired", False),
        "unknown": (False, "not_ours", False),
        "impossible": (False, "unreadable", False),  # no country uses it: never "not ours"
    }
    assert answers["outbound"]["number"] == "+14155550100"
    assert answers["outbound"]["label"] == "Verification calls"
    assert "never make calls from it" in answers["hotline"]["message"]
    assert answers["retired"]["retired_at"] is not None
    assert "no longer calls anyone" in answers["retired"]["message"]
    assert answers["impossible"]["number"] == "+3912"
    for answer in answers.values():
        assert "password, PIN or a code sent by SMS" in answer["advice"]


def test_a_customers_number_looks_exactly_like_any_unknown_number(client, api, customer):
    theirs = lookup(client, customer["phone"]).get_json()
    nobodys = lookup(client, "+39 333 765 4321").get_json()

    theirs.pop("number"), nobodys.pop("number")
    assert theirs == nobodys


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("call me", "invalid_phone"),
        ("+" + "1" * 30, "invalid_phone"),
        ("", "required"),
    ],
)
def test_what_is_not_a_number_is_a_422_naming_the_field(client, number, code):
    response = lookup(client, number)

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "number"
    assert response.get_json()["error"]["code"] == code


def test_a_missing_number_is_a_422_too(client):
    response = client.get("/api/v1/lookup")

    assert response.status_code == 422 and response.get_json()["error"]["field"] == "number"


def test_a_local_number_reads_with_a_region(client):
    answer = lookup(client, "(415) 555-0100", region="US").get_json()

    assert (answer["number"], answer["official"]) == ("+14155550100", True)


@pytest.mark.parametrize(
    ("params", "headers", "words"),
    [
        ({"lang": "it"}, {}, "Non Le chiederemo mai"),
        ({}, {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}, "Nigdy nie poprosimy"),
        ({"lang": "zh"}, {}, "我们绝不会"),
        ({}, {"Accept-Language": "de-DE"}, "We will never ask"),
    ],
)
def test_the_answer_speaks_the_asked_language(client, params, headers, words):
    answer = client.get(
        "/api/v1/lookup", query_string={"number": "+14155550100", **params}, headers=headers
    ).get_json()

    assert words in answer["advice"]


def test_an_unsupported_language_is_a_422(client):
    response = lookup(client, "+14155550100", lang="xx")

    assert response.status_code == 422 and response.get_json()["error"]["field"] == "lang"


def test_the_lookup_writes_nothing(client, app):
    from app.audit.models import AuditEvent
    from tests.support import count_rows

    before = count_rows(app, AuditEvent)
    lookup(client, "+14155550100")
    with app.app_context():
        db.session.remove()
    assert count_rows(app, AuditEvent) == before

"""Feedback events: a low rating or "call me" queues a call about it; any rating is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.callbacks.models import Callback, Event, Feedback
from app.extensions import db
from tests.support import count_rows

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def customer(api):
    response = api.post(
        "/api/v1/customers", json={"external_id": "cust-1", "phone": "+39 333 123 4567"}
    )
    assert response.status_code == 201
    return response.get_json()


def feedback(event_id: str, **data):
    return {
        "id": event_id,
        "type": "feedback",
        "customer_external_id": "cust-1",
        "occurred_at": T0.isoformat(),
        "data": data,
    }


def kept(app) -> list[tuple[int, str | None, bool, str]]:
    with app.app_context():
        return [
            (f.rating, f.text, f.call_me, f.channel)
            for f in db.session.scalars(sa.select(Feedback).order_by(Feedback.created_at))
        ]


@pytest.mark.usefixtures("customer")
def test_a_low_rating_queues_a_medium_priority_call_about_the_feedback(api, app):
    answer = api.post("/api/v1/events", json=feedback("fb-1", rating=1, text="Too slow"))

    assert answer.status_code == 202
    decision = answer.get_json()
    assert decision["priority"] == "medium"
    callback = api.get(f"/api/v1/callbacks/{decision['callback_id']}").get_json()
    assert callback["status"] == "queued"
    assert "low rating (1 of 5)" in callback["reason"]
    with app.app_context():
        assert db.session.scalars(sa.select(Callback.flow)).one() == "feedback_call"
    assert kept(app) == [(1, "Too slow", False, "app")]


@pytest.mark.usefixtures("customer")
def test_a_good_rating_is_kept_and_queues_nothing(api, app):
    answer = api.post("/api/v1/events", json=feedback("fb-1", rating=5, text="Great"))

    assert answer.status_code == 202
    assert answer.get_json()["priority"] is None
    assert answer.get_json()["callback_id"] is None
    assert count_rows(app, Callback) == 0
    assert kept(app) == [(5, "Great", False, "app")]


@pytest.mark.usefixtures("customer")
def test_call_me_queues_a_low_priority_call_even_with_a_good_rating(api, app):
    decision = api.post("/api/v1/events", json=feedback("fb-1", rating=4, call_me=True)).get_json()

    assert decision["priority"] == "low"
    callback = api.get(f"/api/v1/callbacks/{decision['callback_id']}").get_json()
    assert "asked us to call" in callback["reason"]
    assert kept(app) == [(4, None, True, "app")]


@pytest.mark.usefixtures("customer")
def test_the_same_feedback_id_again_answers_the_first_decision_and_adds_nothing(api, app):
    first = api.post("/api/v1/events", json=feedback("fb-1", rating=2))
    again = api.post("/api/v1/events", json=feedback("fb-1", rating=2))

    assert again.status_code == 202
    assert again.get_json() == first.get_json()
    assert (count_rows(app, Callback), count_rows(app, Event), count_rows(app, Feedback)) == (
        1,
        1,
        1,
    )


@pytest.mark.usefixtures("customer")
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "data.rating"),
        ({"rating": 0}, "data.rating"),
        ({"rating": 6}, "data.rating"),
        ({"rating": "5"}, "data.rating"),
        ({"rating": 3.5}, "data.rating"),
        ({"rating": True}, "data.rating"),
        ({"rating": 3, "text": "x" * 2001}, "data.text"),
        ({"rating": 3, "text": 42}, "data.text"),
        ({"rating": 3, "text": "bad\x00words"}, "data.text"),
        ({"rating": 3, "call_me": "yes"}, "data.call_me"),
    ],
)
def test_bad_feedback_is_refused_naming_the_field(api, app, data, field):
    answer = api.post("/api/v1/events", json=feedback("fb-bad", **data))

    assert answer.status_code == 422
    assert answer.get_json()["error"]["field"] == field
    assert (count_rows(app, Event), count_rows(app, Feedback)) == (0, 0)


@pytest.mark.usefixtures("customer")
def test_a_batch_decides_each_feedback_on_its_own(api, app):
    answer = api.post(
        "/api/v1/events:batch",
        json={
            "events": [
                feedback("fb-1", rating=1),
                feedback("fb-2", rating=5),
                feedback("fb-3", rating=9),
            ]
        },
    )

    assert answer.status_code == 202
    results = answer.get_json()["results"]
    assert results[0]["priority"] == "medium"
    assert results[1]["priority"] is None
    assert results[2]["error"]["field"] == "data.rating"
    assert sorted(rating for rating, *_ in kept(app)) == [1, 5]

"""Integrators control callbacks: cancel (DELETE), a new time (PATCH), look them up (GET), and
ask for a time when an event queues one (call_at)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.audit.service import Actor
from app.callbacks import lifecycle
from app.callbacks.models import Callback, CallbackStatus
from app.extensions import db
from app.messaging.models import OutboxMessage
from app.outcomes import Outcome
from tests.conftest import make_app
from tests.engine_fixtures import MORNING, Clock
from tests.support import ApiClient

# MORNING is 11:00 in Rome; its callees may be called 08:00-21:00 Rome time (CET, +01:00).
ROME_EVENING = "2026-11-23T18:30:00+01:00"
ROME_NIGHT = "2026-11-23T22:30:00+01:00"
CALLBACK_DONE = "callback.done"


@pytest.fixture
def customer(api, clock):
    response = api.post(
        "/api/v1/customers", json={"external_id": "cust-1", "phone": "+39 333 123 4567"}
    )
    assert response.status_code == 201
    return response.get_json()


def event(event_id: str, type: str = "registration", customer: str = "cust-1", **extra):
    return {
        "id": event_id,
        "type": type,
        "customer_external_id": customer,
        "occurred_at": MORNING.isoformat(),
        **extra,
    }


def queue(api, event_id: str = "reg-1", **extra) -> str:
    answer = api.post("/api/v1/events", json=event(event_id, **extra))
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["callback_id"]


def audit(api, callback_id: str, action: str) -> list[dict]:
    answer = api.get(
        "/api/v1/audit-events",
        query_string={"subject_type": "callback", "subject_id": callback_id, "action": action},
    )
    return answer.get_json()


def core_notices(app, type: str) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.subject == type)
        ).all()
        return [json.loads(row.body) for row in rows]


def error(answer) -> dict:
    return answer.get_json()["error"]


def claim_due(app, at: datetime) -> list[uuid.UUID]:
    """What a worker would claim at that moment (and claims it)."""
    with app.app_context():
        claimed = list(
            db.session.scalars(
                lifecycle.claim_statement(worker="w1", now=at, lease=timedelta(minutes=1), limit=10)
            )
        )
        db.session.commit()
        return claimed


# ----- DELETE: cancel -----


@pytest.mark.usefixtures("customer")
def test_an_integrator_cancels_a_waiting_callback_and_the_core_system_is_told(api, app):
    callback_id = queue(api)

    answer = api.delete(f"/api/v1/callbacks/{callback_id}")

    assert answer.status_code == 200
    assert answer.get_json()["status"] == "done"
    shown = api.get(f"/api/v1/callbacks/{callback_id}").get_json()
    assert (shown["status"], shown["outcome"]) == ("done", "cancelled")
    [entry] = audit(api, callback_id, CALLBACK_DONE)
    assert entry["actor"].startswith("api_key:")
    assert entry["changes"] == {"outcome": "cancelled", "why": "cancelled by the integrator"}
    [notice] = core_notices(app, "callback.cancelled")
    assert notice["callback_id"] == callback_id
    assert notice["customer_external_id"] == "cust-1"
    assert notice["event_ids"] == ["reg-1"]
    # Nobody is called about it any more.
    assert claim_due(app, MORNING + timedelta(minutes=1)) == []


@pytest.mark.usefixtures("customer")
def test_a_second_cancel_is_a_conflict_saying_it_is_already_cancelled(api, app):
    callback_id = queue(api)
    assert api.delete(f"/api/v1/callbacks/{callback_id}").status_code == 200

    again = api.delete(f"/api/v1/callbacks/{callback_id}")

    assert again.status_code == 409
    assert error(again)["code"] == "already_cancelled"
    assert "already cancelled" in error(again)["message"]
    assert len(audit(api, callback_id, CALLBACK_DONE)) == 1
    assert len(core_notices(app, "callback.cancelled")) == 1


@pytest.mark.usefixtures("customer")
def test_a_callback_that_ended_or_is_being_dialed_is_not_cancelled(api, app):
    done_id = queue(api)
    with app.app_context():
        lifecycle.finish(
            db.session,
            db.session.get_one(Callback, uuid.UUID(done_id)),
            Outcome.CONFIRMED,
            MORNING,
            actor=Actor("test"),
            why="confirmed in a call",
        )
        db.session.commit()
    dialing_id = queue(
        api,
        "wd-1",
        type="withdrawal_request",
        data={"amount": "500", "account_has_open_problems": True},
    )
    assert claim_due(app, MORNING) == [uuid.UUID(dialing_id)]

    done = api.delete(f"/api/v1/callbacks/{done_id}")
    dialing = api.delete(f"/api/v1/callbacks/{dialing_id}")
    unknown = api.delete(f"/api/v1/callbacks/{uuid.uuid4()}")

    assert (done.status_code, error(done)["code"]) == (409, "already_done")
    assert "confirmed" in error(done)["message"]
    assert (dialing.status_code, error(dialing)["code"]) == (409, "not_waiting")
    assert api.get(f"/api/v1/callbacks/{dialing_id}").get_json()["status"] == "claimed"
    assert (unknown.status_code, error(unknown)["code"]) == (404, "not_found")


def test_two_cancels_at_once_cancel_it_once(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("requests run at once against one database only on PostgreSQL")
    app = make_app(database_url)
    app.extensions["clock"] = Clock(MORNING)
    api = ApiClient(app.test_client())
    api.post("/api/v1/customers", json={"external_id": "cust-1", "phone": "+39 333 123 4567"})
    callback_id = queue(api)
    racers = 4
    start = threading.Barrier(racers)
    statuses: list[int] = []

    def cancel() -> None:
        client = ApiClient(app.test_client())
        start.wait()
        statuses.append(client.delete(f"/api/v1/callbacks/{callback_id}").status_code)

    threads = [threading.Thread(target=cancel) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(statuses) == [200] + [409] * (racers - 1)
        assert len(audit(api, callback_id, CALLBACK_DONE)) == 1
        assert len(core_notices(app, "callback.cancelled")) == 1
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def cancel_racing_a_claim(app, callback_id: str) -> tuple[int, list[uuid.UUID]]:
    """A DELETE and a worker's claim at the same moment: the DELETE's status, what was claimed."""
    start = threading.Barrier(2)
    answers: list[int] = []
    claimed: list[list[uuid.UUID]] = []

    def cancel() -> None:
        client = ApiClient(app.test_client())
        start.wait()
        answers.append(client.delete(f"/api/v1/callbacks/{callback_id}").status_code)

    def claim() -> None:
        start.wait()
        claimed.append(claim_due(app, MORNING))

    threads = [threading.Thread(target=cancel), threading.Thread(target=claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(claimed) == 1  # neither died on the way
    return answers[0], claimed[0]


def test_a_cancel_racing_a_workers_claim_either_cancels_it_or_leaves_it_to_the_call(
    database_url,
):
    if not database_url.startswith("postgresql"):
        pytest.skip("a worker claims while a request runs only on PostgreSQL")
    app = make_app(database_url)
    app.extensions["clock"] = Clock(MORNING)
    api = ApiClient(app.test_client())
    api.post("/api/v1/customers", json={"external_id": "cust-1", "phone": "+39 333 123 4567"})
    try:
        for number in range(5):
            callback_id = queue(api, f"reg-{number}")

            status, claimed = cancel_racing_a_claim(app, callback_id)

            shown = api.get(f"/api/v1/callbacks/{callback_id}").get_json()
            if status == 200:
                assert claimed == []
                assert (shown["status"], shown["outcome"]) == ("done", "cancelled")
                continue
            assert status == 409
            assert claimed == [uuid.UUID(callback_id)]
            assert shown["status"] == "claimed"
            assert audit(api, callback_id, CALLBACK_DONE) == []
            with app.app_context():  # its call ends: the next round starts with none live
                item = db.session.get_one(Callback, uuid.UUID(callback_id))
                lifecycle.finish(
                    db.session, item, Outcome.CONFIRMED, MORNING, actor=Actor("test"), why="test"
                )
                db.session.commit()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# ----- PATCH: a new time -----


@pytest.mark.usefixtures("customer")
def test_a_new_time_is_when_the_callback_is_first_dialed(api, app):
    callback_id = queue(api)

    answer = api.patch(f"/api/v1/callbacks/{callback_id}", json={"call_at": ROME_EVENING})

    assert answer.status_code == 200
    shown = api.get(f"/api/v1/callbacks/{callback_id}").get_json()
    at = datetime.fromisoformat(ROME_EVENING)
    assert datetime.fromisoformat(shown["next_attempt_at"]) == at
    assert shown["waiting_for"] == "the time asked for"
    assert claim_due(app, at - timedelta(minutes=1)) == []
    assert claim_due(app, at) == [uuid.UUID(callback_id)]
    [entry] = audit(api, callback_id, "callback.rescheduled")
    assert entry["actor"].startswith("api_key:")


@pytest.mark.usefixtures("customer")
def test_a_new_time_after_the_deadline_moves_the_deadline_past_it(api):
    callback_id = queue(api)
    later = "2026-11-26T10:00:00+01:00"  # the registration's deadline is 24 hours from now

    answer = api.patch(f"/api/v1/callbacks/{callback_id}", json={"call_at": later})

    assert answer.status_code == 200
    shown = answer.get_json()
    assert datetime.fromisoformat(shown["due_by"]) == datetime.fromisoformat(later) + timedelta(
        hours=2
    )


@pytest.mark.usefixtures("customer")
@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"call_at": "2026-11-23T09:00:00+01:00"}, "call_at_past", "passed"),
        ({"call_at": ROME_NIGHT}, "call_at_outside_calling_hours", "08:00-21:00"),
        ({"call_at": "2027-06-01T10:00:00+02:00"}, "call_at_too_late", "90 days"),
        ({"call_at": "2026-11-23T18:30:00"}, "invalid_type", "aware"),
        ({}, "required", "call_at"),
    ],
)
def test_a_time_we_cannot_keep_is_refused_naming_call_at(api, body, code, words):
    callback_id = queue(api)

    answer = api.patch(f"/api/v1/callbacks/{callback_id}", json=body)

    assert answer.status_code == 422
    assert error(answer)["field"] == "call_at"
    assert error(answer)["code"] == code
    assert words in error(answer)["message"]
    shown = api.get(f"/api/v1/callbacks/{callback_id}").get_json()
    assert datetime.fromisoformat(shown["next_attempt_at"]) == MORNING


@pytest.mark.usefixtures("customer")
def test_a_night_time_is_told_the_next_opening(api):
    callback_id = queue(api)

    answer = api.patch(f"/api/v1/callbacks/{callback_id}", json={"call_at": ROME_NIGHT})

    assert "Europe/Rome" in error(answer)["message"]
    assert "2026-11-24T07:00:00+00:00" in error(answer)["message"]


@pytest.mark.usefixtures("customer")
def test_a_new_time_refuses_other_fields_and_ended_callbacks(api):
    callback_id = queue(api)
    unknown_field = api.patch(
        f"/api/v1/callbacks/{callback_id}", json={"call_at": ROME_EVENING, "priority": "high"}
    )
    api.delete(f"/api/v1/callbacks/{callback_id}")
    ended = api.patch(f"/api/v1/callbacks/{callback_id}", json={"call_at": ROME_EVENING})
    unknown = api.patch(f"/api/v1/callbacks/{uuid.uuid4()}", json={"call_at": ROME_EVENING})

    assert unknown_field.status_code == 422
    assert (error(unknown_field)["code"], error(unknown_field)["field"]) == (
        "unknown_field",
        "priority",
    )
    assert (ended.status_code, error(ended)["code"]) == (409, "already_cancelled")
    assert unknown.status_code == 404


@pytest.mark.usefixtures("customer")
def test_the_same_new_time_sent_again_changes_nothing_more(api, app):
    callback_id = queue(api)

    answers = [
        api.patch(f"/api/v1/callbacks/{callback_id}", json={"call_at": ROME_EVENING})
        for _ in range(3)
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].get_json() == answers[2].get_json()
    # A request retried after a lost answer is not three new times in the audit log.
    assert len(audit(api, callback_id, "callback.rescheduled")) == 1


@pytest.mark.usefixtures("customer")
def test_a_new_time_with_a_control_character_is_refused_and_keeps_the_old_time(api):
    callback_id = queue(api)
    before = api.get(f"/api/v1/callbacks/{callback_id}").get_json()["next_attempt_at"]

    # Python reads a time with a trailing NUL as the time; every other text refuses it.
    answer = api.patch(f"/api/v1/callbacks/{callback_id}", json={"call_at": ROME_EVENING + "\x00"})

    assert answer.status_code == 422
    assert (error(answer)["code"], error(answer)["field"]) == ("control_character", "call_at")
    assert api.get(f"/api/v1/callbacks/{callback_id}").get_json()["next_attempt_at"] == before
    assert audit(api, callback_id, "callback.rescheduled") == []


# ----- GET: look them up -----


@pytest.fixture
def three_matters(api, customer):
    """cust-1: a registration (cancelled), then a withdrawal; cust-2: a registration."""
    api.post("/api/v1/customers", json={"external_id": "cust-2", "phone": "+39 333 765 4321"})
    registration = queue(api)
    api.delete(f"/api/v1/callbacks/{registration}")
    withdrawal = queue(
        api,
        "wd-1",
        type="withdrawal_request",
        data={"amount": "500", "account_has_open_problems": True},
    )
    other = queue(api, "reg-2", customer="cust-2")
    return registration, withdrawal, other


def test_a_customers_callbacks_newest_first(api, three_matters):
    registration, withdrawal, _ = three_matters

    answer = api.get("/api/v1/callbacks", query_string={"customer_external_id": "cust-1"})

    assert answer.status_code == 200
    page = answer.get_json()
    assert [c["id"] for c in page["callbacks"]] == [withdrawal, registration]
    assert page["callbacks"][0] == api.get(f"/api/v1/callbacks/{withdrawal}").get_json()
    assert page["next"] is None


def test_callbacks_by_status_and_customer(api, three_matters):
    registration, withdrawal, other = three_matters

    queued = api.get("/api/v1/callbacks", query_string={"status": "queued"}).get_json()
    done = api.get(
        "/api/v1/callbacks", query_string={"status": "done", "customer_external_id": "cust-1"}
    ).get_json()
    none = api.get(
        "/api/v1/callbacks", query_string={"status": "in_call", "customer_external_id": "cust-2"}
    ).get_json()

    assert [c["id"] for c in queued["callbacks"]] == [other, withdrawal]
    assert [c["id"] for c in done["callbacks"]] == [registration]
    assert none == {"callbacks": [], "next": None}


def test_pages_follow_one_another_to_the_last(api, three_matters):
    registration, withdrawal, other = three_matters
    seen, after = [], None

    for _ in range(4):
        query = {"limit": 1, **({"after": after} if after else {})}
        page = api.get("/api/v1/callbacks", query_string=query).get_json()
        seen += [c["id"] for c in page["callbacks"]]
        after = page["next"]
        if after is None:
            break

    assert seen == [other, withdrawal, registration]
    assert after is None


@pytest.mark.usefixtures("customer")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"customer_external_id": "nobody"}, "customer_external_id"),
        ({"after": "not-a-cursor"}, "after"),
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
    ],
)
def test_a_lookup_that_cannot_be_answered_names_its_field(api, query, field):
    answer = api.get("/api/v1/callbacks", query_string=query)

    assert answer.status_code == 422
    assert error(answer)["field"] == field


@pytest.mark.parametrize("query", [{"state": "queued"}, {"customer": "cust-2"}, {"Status": "done"}])
def test_a_filter_the_list_does_not_know_is_refused_not_ignored(api, three_matters, query):
    # Ignored, it would answer every customer's callbacks as if they were the ones asked for.
    answer = api.get("/api/v1/callbacks", query_string=query)

    assert answer.status_code == 422
    [name] = query
    assert (error(answer)["code"], error(answer)["field"]) == ("unknown_field", name)


@pytest.mark.usefixtures("customer")
def test_an_event_whose_time_has_a_control_character_is_refused_and_queues_nothing(api):
    for field in ("occurred_at", "call_at"):
        body = event(f"reg-{field}", call_at=ROME_EVENING)
        body[field] += "\x00"

        answer = api.post("/api/v1/events", json=body)

        assert answer.status_code == 422
        assert (error(answer)["code"], error(answer)["field"]) == ("control_character", field)
    listed = api.get("/api/v1/callbacks", query_string={"customer_external_id": "cust-1"})
    assert listed.get_json()["callbacks"] == []


# ----- call_at on events -----


@pytest.mark.usefixtures("customer")
def test_an_event_with_call_at_is_first_dialed_then_and_keeps_its_deadline(api, app):
    callback_id = queue(api, call_at=ROME_EVENING)

    shown = api.get(f"/api/v1/callbacks/{callback_id}").get_json()
    at = datetime.fromisoformat(ROME_EVENING)
    assert datetime.fromisoformat(shown["next_attempt_at"]) == at
    assert datetime.fromisoformat(shown["due_by"]) == MORNING + timedelta(hours=24)
    assert shown["waiting_for"] == "the time asked for"
    assert claim_due(app, at - timedelta(seconds=1)) == []
    assert claim_due(app, at) == [uuid.UUID(callback_id)]


@pytest.mark.usefixtures("customer")
@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"call_at": "2026-11-23T10:00:00+01:00"}, "call_at_past"),
        ({"call_at": ROME_NIGHT}, "call_at_outside_calling_hours"),
        # A withdrawal on an account with problems is high priority: due within 2 hours.
        (
            {
                "type": "withdrawal_request",
                "data": {"amount": "500", "account_has_open_problems": True},
                "call_at": "2026-11-23T14:30:00+01:00",
            },
            "call_at_too_late",
        ),
    ],
)
def test_an_event_with_a_call_at_we_cannot_keep_is_refused_and_queues_nothing(
    api, app, extra, code
):
    answer = api.post("/api/v1/events", json=event("e-1", **extra))

    assert answer.status_code == 422
    assert (error(answer)["field"], error(answer)["code"]) == ("call_at", code)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Callback)) == 0


@pytest.mark.usefixtures("customer")
def test_in_a_batch_only_the_event_with_a_bad_call_at_is_refused(api):
    answer = api.post(
        "/api/v1/events:batch",
        json={
            "events": [
                event("reg-1", call_at=ROME_NIGHT),
                event(
                    "wd-1",
                    type="withdrawal_request",
                    data={"amount": "500", "account_has_open_problems": True},
                    call_at="2026-11-23T11:30:00+01:00",
                ),
            ]
        },
    ).get_json()

    assert (answer["accepted"], answer["refused"]) == (1, 1)
    assert answer["results"][0]["error"]["field"] == "call_at"
    withdrawal = api.get(f"/api/v1/callbacks/{answer['results'][1]['callback_id']}").get_json()
    assert withdrawal["next_attempt_at"].startswith("2026-11-23T10:30:00")
    assert withdrawal["status"] == CallbackStatus.QUEUED.value

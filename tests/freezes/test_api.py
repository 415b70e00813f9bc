"""Freezing an account through the API: at once, once, told to the core system; lifted only
after strong verification."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.customers.models import Customer
from app.extensions import db
from app.fraud.models import FraudCase
from app.freezes.models import FreezeRequest
from app.messaging.models import OutboxMessage
from app.messaging.webhooks import verify
from tests.engine_fixtures import SECRET, deliver, send_outbox
from tests.freezes.conftest import BIRTH_DATE, KEYED, register
from tests.verification.conftest import enrol

pytestmark = pytest.mark.usefixtures("lines", "clock", "simulator")


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_birth_date_is_kept_only_as_a_keyed_hash_and_never_returned(api, app):
    customer = register(api)

    assert "birth_date" not in customer and "birth_date_hash" not in customer
    assert "birth_date" not in api.get(f"/api/v1/customers/{customer['id']}").get_json()
    with app.app_context():
        stored = db.session.get_one(Customer, __import__("uuid").UUID(customer["id"]))
        assert stored.birth_date_hash and BIRTH_DATE not in stored.birth_date_hash
        everything = json.dumps(
            [list(row) for row in db.session.execute(sa.select(AuditEvent.changes))], default=str
        )
    assert BIRTH_DATE not in everything and KEYED not in everything


def test_a_patch_sets_or_clears_the_birth_date(api, app):
    customer = register(api, birth_date=None)

    changed = api.patch(f"/api/v1/customers/{customer['id']}", json={"birth_date": "1975-01-02"})
    bad = api.patch(f"/api/v1/customers/{customer['id']}", json={"birth_date": "31/12/1975"})

    assert changed.status_code == 200
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "birth_date"
    with app.app_context():
        assert db.session.scalars(sa.select(Customer.birth_date_hash)).one()


@pytest.mark.parametrize(
    ("birth_date", "code"),
    [
        ("2080-04-30", "invalid"),  # a typo for 1980: the customer could never be matched
        ("1899-12-31", "invalid"),
        ("2026-02-31", "invalid_type"),
        ("1980-04-30\x00", "control_character"),
    ],
)
def test_a_birth_date_that_is_no_ones_is_refused_naming_it_and_the_old_one_still_matches(
    api, client, app, birth_date, code
):
    customer = register(api)

    created = api.post(
        "/api/v1/customers",
        json={"external_id": "other", "phone": "+39 333 765 4321", "birth_date": birth_date},
    )
    changed = api.patch(f"/api/v1/customers/{customer['id']}", json={"birth_date": birth_date})

    for answer in (created, changed):
        assert answer.status_code == 422
        assert answer.get_json()["error"]["field"] == "birth_date"
        assert answer.get_json()["error"]["code"] == code
    assert api.get("/api/v1/customers", query_string={"external_id": "other"}).status_code == 404
    page = client.post(
        "/freeze", data={"lang": "it", "phone": "333 123 4567", "birth_date": BIRTH_DATE}
    )
    assert page.status_code == 201  # the date on file is still the one given at registration


def test_a_freeze_tells_the_core_system_once_opens_a_case_and_texts_the_registered_number(
    api, app, clock, core, simulator
):
    customer = register(api)

    first = api.post(f"/api/v1/customers/{customer['id']}/freeze", json={"reason": "lost phone"})
    again = api.post(f"/api/v1/customers/{customer['id']}/freeze", json={})

    assert first.status_code == 201 and again.status_code == 200
    freeze = first.get_json()
    assert again.get_json()["id"] == freeze["id"]
    assert (freeze["status"], freeze["channel"]) == ("frozen", "api")
    assert deliver(app, clock) == 1
    assert deliver(app, clock) == 0
    ((message, signature, body),) = core.received
    assert verify(SECRET, signature, body, now=clock())
    assert message["type"] == "account.freeze_requested"
    assert message["data"]["external_id"] == "cust-it"
    assert message["data"]["fraud_case"] == freeze["fraud_case"]
    case = api.get(f"/api/v1/fraud-cases/{freeze['fraud_case']}").get_json()
    assert (case["status"], case["action"], case["callback_id"]) == (
        "open",
        "freeze_account",
        None,
    )
    assert send_outbox(app, clock) == 1 and send_outbox(app, clock) == 0
    (text,) = simulator.messages
    assert text["to"] == customer["phone"]
    assert "bloccato" in text["body"] and freeze["fraud_case"] in text["body"]
    assert "http" not in text["body"]
    actions = audit_actions(app)
    assert actions.count("account.freeze_requested") == 1
    assert actions.count("fraud_case.opened") == 1


def test_an_unfreeze_needs_strong_verification(api, app, clock):
    customer = register(api)
    url = f"/api/v1/customers/{customer['id']}"
    not_frozen = api.post(f"{url}/unfreeze", json={"verified_by": "branch"})
    api.post(f"{url}/freeze", json={})
    totp = enrol(app, customer["id"])

    nothing = api.post(f"{url}/unfreeze", json={})
    no_code = api.post(f"{url}/unfreeze", json={"verified_by": "app_code"})
    wrong = api.post(f"{url}/unfreeze", json={"verified_by": "app_code", "code": "000000"})
    line = api.post(f"{url}/unfreeze", json={"verified_by": "phone_line"})
    right = api.post(f"{url}/unfreeze", json={"verified_by": "app_code", "code": totp.at(clock())})

    assert not_frozen.status_code == 409
    assert nothing.status_code == 422 and nothing.get_json()["error"]["field"] == "verified_by"
    assert no_code.status_code == 422 and no_code.get_json()["error"]["field"] == "code"
    assert wrong.status_code == 422 and wrong.get_json()["error"]["field"] == "code"
    assert line.status_code == 422
    assert right.status_code == 200, right.get_json()
    assert (right.get_json()["status"], right.get_json()["lifted_verified_by"]) == (
        "lifted",
        "app_code",
    )
    again = api.post(f"{url}/freeze", json={})
    assert again.status_code == 201  # a new freeze after a lifted one
    by_branch = api.post(f"{url}/unfreeze", json={"verified_by": "branch", "note": "ID at Roma 3"})
    assert by_branch.status_code == 200
    assert "account.freeze_lifted" in audit_actions(app)
    with app.app_context():
        types = list(db.session.scalars(sa.select(OutboxMessage.subject)))
    assert types.count("account.unfreeze_requested") == 2


def test_an_unfreeze_note_keeps_its_line_breaks_and_refuses_other_controls(api, app):
    customer = register(api)
    url = f"/api/v1/customers/{customer['id']}"
    api.post(f"{url}/freeze", json={})
    note = "ID card checked at Roma 3\n\tby the branch manager"

    bell = api.post(f"{url}/unfreeze", json={"verified_by": "branch", "note": "ID\x07"})
    lifted = api.post(f"{url}/unfreeze", json={"verified_by": "branch", "note": note})

    assert bell.status_code == 422
    assert (bell.get_json()["error"]["code"], bell.get_json()["error"]["field"]) == (
        "control_character",
        "note",
    )
    assert lifted.status_code == 200, lifted.get_json()
    with app.app_context():
        [kept] = db.session.scalars(sa.select(FreezeRequest.lift_note))
    assert kept == note


def test_an_unknown_customer_is_a_404(api):
    response = api.post("/api/v1/customers/00000000-0000-4000-8000-000000000000/freeze", json={})

    assert response.status_code == 404


def test_two_requests_at_once_make_one_freeze(api, app, database_url):
    customer = register(api)
    start = threading.Barrier(2)
    statuses: list[int] = []

    def ask() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(
            f"/api/v1/customers/{customer['id']}/freeze",
            json={},
            headers=api.headers,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 201]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FreezeRequest)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FraudCase)) == 1
        webhooks = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.subject == "account.freeze_requested")
        ).all()
        assert len(webhooks) == 1

"""A closed complaint texts the complainant a one-time link: how satisfied are they, 1 to 5?
The answer is kept once; the link cannot be used again, nor after it expires."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.callbacks.models import Satisfaction
from app.extensions import db
from tests.engine_fixtures import send_outbox
from tests.support import count_rows

pytestmark = pytest.mark.usefixtures("lines", "clock")

PHONE = "+39 333 123 4567"


def closed_complaint(client, api, app, simulator, clock) -> tuple[str, str]:
    """A complaint filed in Italian and closed; its reference and the link its text carried."""
    reference = client.post(
        "/api/v1/complaints", json={"phone": PHONE, "text": "Charged twice", "lang": "it"}
    ).get_json()["reference"]
    path = f"/api/v1/complaint-queue/{reference}"
    for status in ("acknowledged", "resolved", "closed"):
        assert api.patch(path, json={"status": status}).status_code == 200
    send_outbox(app, clock)
    (text,) = [m for m in simulator.messages if "/satisfaction/" in m["body"]]
    assert text["to"] == "+393331234567"
    assert reference in text["body"] and "da 1 a 5" in text["body"]
    link = re.search(r"https?://\S+", text["body"]).group()
    return reference, link.split("://", 1)[1].split("/", 1)[1]


def test_a_closed_complaint_texts_a_link_and_the_answer_is_kept_once(
    client, api, app, simulator, clock
):
    reference, path = closed_complaint(client, api, app, simulator, clock)

    page = client.get(f"/{path}")
    answered = client.post(f"/{path.split('?')[0]}", data={"score": "2", "reason": "too_long"})
    again = client.post(f"/{path.split('?')[0]}", data={"score": "5"})

    assert page.status_code == 200
    assert reference in page.get_data(as_text=True)
    assert 'name="score"' in page.get_data(as_text=True)
    assert "Il Suo reclamo" in page.get_data(as_text=True)  # the complainant's language
    assert answered.status_code == 200
    assert 'data-testid="thanks"' in answered.get_data(as_text=True)
    assert again.status_code == 404
    with app.app_context():
        (kept,) = db.session.scalars(sa.select(Satisfaction)).all()
        assert (kept.complaint_reference, kept.score, kept.reason) == (reference, 2, "too_long")
        assert (
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "satisfaction.recorded")
            )
            .one()
            .subject_id
            == reference
        )


def test_a_wrong_score_is_said_on_the_page_and_the_link_still_works(
    client, api, app, simulator, clock
):
    _, path = closed_complaint(client, api, app, simulator, clock)
    url = f"/{path.split('?')[0]}"

    wrong = client.post(url, data={"score": "9"})
    bad_reason = client.post(url, data={"score": "1", "reason": "nope"})
    fine = client.post(url, data={"score": "4"})

    assert wrong.status_code == 422 and 'data-field="score"' in wrong.get_data(as_text=True)
    assert bad_reason.status_code == 422
    assert fine.status_code == 200
    assert count_rows(app, Satisfaction) == 1


def test_an_expired_or_unknown_link_says_so_and_keeps_nothing(client, api, app, simulator, clock):
    _, path = closed_complaint(client, api, app, simulator, clock)
    clock.advance(15 * 24 * 3600)

    expired = client.post(f"/{path.split('?')[0]}", data={"score": "5"})
    unknown = client.get("/satisfaction/not-a-token")

    assert expired.status_code == 404 and unknown.status_code == 404
    assert 'data-testid="gone"' in unknown.get_data(as_text=True)
    assert count_rows(app, Satisfaction) == 0

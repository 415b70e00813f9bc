"""Customers with a date of birth on file, and the queue for people as the flows see it."""

from __future__ import annotations

import pytest

from tests.ivr.test_queue import FakeQueue

BIRTH_DATE = "1980-04-30"
KEYED = "30041980"  # the same date, as the caller keys it: DDMMYYYY
PHONES = {
    "en": "+44 20 7946 0123",
    "it": "+39 333 123 4567",
    "pl": "+48 601 234 567",
}
E164 = {lang: phone.replace(" ", "") for lang, phone in PHONES.items()}
HOTLINE = "+14155550101"
SERVICE_LINE = "+14155550104"


def register(api, lang: str = "it", *, birth_date: str | None = BIRTH_DATE) -> dict:
    body = {"external_id": f"cust-{lang}", "phone": PHONES[lang], "locale": lang}
    if birth_date:
        body["birth_date"] = birth_date
    response = api.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def queue(app, simulator) -> FakeQueue:
    fake = FakeQueue(ahead=0)
    app.extensions["queueing"] = fake
    return fake


@pytest.fixture
def service_line(api):
    response = api.post(
        "/api/v1/official-numbers",
        json={
            "phone": SERVICE_LINE,
            "purpose": "service_line",
            "label": "Customer service",
            "inbound_only": True,
        },
    )
    assert response.status_code == 201, response.get_json()

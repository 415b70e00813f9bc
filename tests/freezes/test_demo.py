"""The demo customers have the dates of birth the README gives, so a person trying the product
can freeze one: on the /freeze page and by pressing 9 on the phone."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.calls.service import CallUrls
from app.carriers.simulator import CalleeScript
from app.extensions import db
from app.flows.definition import load_common_prompts
from app.freezes.models import FreezeChannel, FreezeRequest

pytestmark = pytest.mark.usefixtures("clock")
README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(demo-\w\w-1)` \| ([+\d ]+) \| (\d{4}-\d\d-\d\d) \|$", re.MULTILINE)


def documented() -> dict[str, tuple[str, str]]:
    """The README's demo customers: external id -> (number, date of birth)."""
    return {m[1]: (m[2].strip(), m[3]) for m in ROW.finditer(README.read_text(encoding="utf-8"))}


@pytest.fixture
def demo(app) -> str:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def freezes(app) -> list[FreezeRequest]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(FreezeRequest)))
        db.session.expunge_all()
        return rows


def test_the_readme_and_seed_demo_give_every_demo_customers_date(demo):
    customers = documented()

    assert sorted(customers) == ["demo-en-1", "demo-it-1", "demo-pl-1", "demo-zh-1"]
    for external_id, (phone, born) in customers.items():
        assert f"{external_id}: {phone}, born {born}" in demo


@pytest.mark.parametrize(("external_id", "lang"), [("demo-it-1", "it"), ("demo-zh-1", "zh")])
def test_a_demo_customer_is_frozen_on_the_page_with_the_documented_date(
    app, client, demo, external_id, lang
):
    phone, born = documented()[external_id]

    response = client.post("/freeze", data={"lang": lang, "phone": phone, "birth_date": born})

    assert response.status_code == 201
    [freeze] = freezes(app)
    assert freeze.channel is FreezeChannel.WEB


def test_a_demo_customer_presses_9_on_the_hotline_with_the_documented_date(
    app, simulator, demo, queue
):
    phone, born = documented()["demo-pl-1"]
    keyed = date.fromisoformat(born).strftime("%d%m%Y")
    with app.app_context():
        urls = CallUrls(app)
        simulated = simulator.call_in(
            from_=phone.replace(" ", ""),
            to="+14155550101",
            inbound_url=urls.inbound(),
            status_url=urls.status(),
            script=CalleeScript(keys=["", "9", keyed]),
        )

    [freeze] = freezes(app)
    assert (freeze.channel, freeze.status.value) == (FreezeChannel.PHONE, "frozen")
    assert [request.skill for request in queue.requests] == ["fraud"]
    heard = [line.text for line in simulated.lines if line.who == "call"]
    assert load_common_prompts()["freeze_registered"]["pl"] in heard

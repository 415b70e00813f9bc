"""The desk and the wall in people's words and in the staff member's language, on both databases:
labels instead of the values the system keeps, names instead of phone identities, and on the
wall the agents held for a call back and our call backs in progress."""

from __future__ import annotations

import html
import json
import re
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.agents.models import QueueEntry
from app.carriers.carrier import staff_identity
from app.console.desk_call import said
from app.console.labels import FLOW_TITLES
from app.extensions import db
from app.staff.models import StaffUser
from tests.agents.test_call_with_an_agent import an_agent, matter, route
from tests.agents.test_progressive import on_virtual_hold, we_call
from tests.console.conftest import sign_in
from tests.console.test_desk import Recorder, flagged_payment, ringing, text
from tests.telephony_fixtures import VALID_CODE

__all__ = ["matter"]  # the customer's open callback, a fixture

pytestmark = pytest.mark.usefixtures("accounts", "lines", "customer", "clock")
FLOWS = Path(__file__).resolve().parents[2] / "call_flows"
#: Values the system keeps that a person must never read on the desk or the wall.
RAW = re.compile(
    r"\b((?<!possible )fraud|offered|wrap_up|on_call|transaction_alert|staff_[0-9a-f]{32})\b"
)


def speaks(app, role: str, language: str) -> None:
    """The staff member reads the console in this language (Your settings)."""
    with app.app_context():
        staff = db.session.scalar(
            select(StaffUser).where(StaffUser.email == f"{role}@bank.example")
        )
        staff.language = language
        db.session.commit()


def shown(answer) -> str:
    """What a person reads on the page: its text, without markup, scripts or attributes."""
    page = answer.get_data(as_text=True)
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_desk_speaks_italian_to_an_italian_agent_and_shows_no_kept_value(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    speaks(app, "agent", "it")
    desk = Recorder(sign_in(app, "agent"))

    ringing_page = shown(desk.get("/console/desk"))
    state = desk.get("/console/desk/state").get_json()
    answered = shown(desk.post("/console/desk/answer", entry_id=entry_id))
    said = desk.post("/console/desk/say", entry_id=entry_id, words="Buongiorno, sono Anna.")

    assert "Chiamata in arrivo" in ringing_page and "Frodi" in ringing_page
    assert "Italiano" in ringing_page and "Inglese, Italiano" in ringing_page
    assert state["presence_label"] == "Squilla" and state["skill_labels"] == ["Frodi"]
    assert "Risposta data: è in chiamata." in answered
    assert "Verificato con codice dell'app alle" in answered
    assert "Verifica di un pagamento" in answered  # the matter's flow, by its title
    assert "Alta" in answered and "Non chiediamo mai password" in answered
    assert re.search(r"\d{1,2} nov 2026, \d\d:\d\d", answered)  # the event's time, in Italian
    for page in (ringing_page, answered, shown(said)):
        assert not RAW.search(page), RAW.search(page)
    lines = desk.get("/console/desk/state").get_json()["lines"]
    assert {"who": "Lei", "text": "Buongiorno, sono Anna."} in lines
    assert {"who": "Chiamante", "text": "entra nella chiamata"} in lines
    assert not [line for line in lines if RAW.search(line["who"] + " " + line["text"])]
    assert all(VALID_CODE not in body for body in desk.bodies)


def test_the_line_log_names_people_never_their_phones(app, api, simulator, clock, dispatcher):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)
    wall = sign_in(app, "supervisor")
    wall.post(
        "/console/wall/supervise",
        data={"entry_id": entry_id, "mode": "monitor", "csrf_token": wall.csrf},
    )

    lines = desk.get("/console/desk/state").get_json()["lines"]
    on_the_wall = shown(wall.get("/console/wall/live"))

    assert {"who": "Phone line", "text": "rings you"} in lines
    assert {"who": "You", "text": "joins the call"} in lines
    assert {"who": "Phone line", "text": "rings Supervisor"} in lines
    assert {"who": "Supervisor", "text": "will listen in"} in lines
    assert {"who": "Supervisor", "text": "joins the call"} in lines
    assert "Phone line: rings Agent" in on_the_wall and "You: joins the call" in on_the_wall
    assert not RAW.search(str(lines)) and not RAW.search(on_the_wall)


def test_the_wall_shows_the_agent_held_for_a_call_back_and_then_kept_for_the_customer(
    app, clock, dispatcher, simulator, matter
):
    an_agent(app, "Anna Bianchi")
    on_virtual_hold(app, clock, dispatcher, simulator)
    route(app)  # their turn: Anna is held for them, and we call them back
    wall = sign_in(app, "supervisor")

    calling = text(wall.get("/console/wall"))

    assert "Calling the customer back for Anna Bianchi" in calling
    assert re.search(r'data-testid="calling-back">1<', calling)
    assert re.search(r'data-testid="held">Held for a call back<', calling)
    assert "Being called back (Anna Bianchi)" in calling  # the caller's place, on the wall

    we_call(app, dispatcher, simulator, VALID_CODE)  # they answer and verify

    kept = text(wall.get("/console/wall/live"))
    assert "The customer has verified and waits for Anna Bianchi" in kept
    assert "kept for Anna Bianchi" in kept
    assert "Kept for a customer we called back" in kept


def test_the_wall_shows_our_call_for_an_agent_in_italian(app, api):
    matter_id = flagged_payment(api)
    agent = Recorder(sign_in(app, "agent"))
    agent.post(f"/console/callbacks/{matter_id}/call-now")
    speaks(app, "supervisor", "it")

    page = shown(sign_in(app, "supervisor").get("/console/wall"))

    assert "Stiamo chiamando il cliente per Agent" in page
    assert "Richiamate in corso" in page and "Frodi" in page
    assert not RAW.search(page)


def test_every_call_flow_has_a_title() -> None:
    names = {yaml.safe_load(path.read_text())["name"] for path in FLOWS.glob("[!_]*.yaml")}
    assert names and names <= set(FLOW_TITLES)


def test_a_follow_up_time_is_read_in_the_agents_own_zone(app, api, simulator, clock, dispatcher):
    entry_id = ringing(app, api, simulator, dispatcher)
    with app.app_context():
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email == "agent@bank.example"))
        staff.time_zone = "Europe/Rome"
        db.session.commit()
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)

    page = text(desk.get("/console/desk"))
    agreed = desk.post(
        "/console/desk/wrap-up",
        entry_id=entry_id,
        disposition="follow_up",
        follow_up_at="2026-11-24T15:30",  # Rome's 15:30 is 14:30 UTC in November
    )

    assert "Follow-up at (your time, Europe/Rome; for a follow-up call)" in page
    assert "Wrapped up." in text(agreed)
    with app.app_context():
        entry = db.session.get_one(QueueEntry, uuid.UUID(entry_id))
        assert entry.follow_up_at.isoformat() == "2026-11-24T14:30:00+00:00"
    wall = text(sign_in(app, "supervisor").get("/console/wall"))  # the supervisor's zone: London
    assert "We call the customer for Agent at 24 Nov 2026, 14:30 GMT" in wall
    assert re.search(r'data-testid="calling-back">0<', wall)  # not under way yet


def test_the_dashboards_live_figures_and_charts_are_in_the_readers_language(
    app, api, simulator, clock, dispatcher
):
    entry_id = ringing(app, api, simulator, dispatcher)
    desk = Recorder(sign_in(app, "agent"))
    desk.post("/console/desk/answer", entry_id=entry_id)
    desk.post("/console/desk/wrap-up", entry_id=entry_id, disposition="confirmed")
    speaks(app, "supervisor", "it")

    live = sign_in(app, "supervisor").get("/console/live")
    charts = re.search(
        r'<script type="application/json" id="chart-data">(.*?)</script>',
        live.get_data(as_text=True),
    )

    shown = text(live)
    assert "In attesa di chiamata, priorità alta" in shown
    assert "Richiamate oltre la scadenza" in shown
    data = json.loads(charts.group(1))["charts"]
    assert data["titles"]["outcomes"] == "Esiti per ora (24 h, Europe/London)"
    confirmed = next(series for series in data["series"] if series["key"] == "confirmed")
    assert confirmed["label"] == "Confermato dal cliente"  # shown by its label, not its name


def test_the_line_log_follows_who_was_rung_for_each_part_of_the_call(app) -> None:
    """A caller offered to Anna, who declined, then to Marco: each one's words are theirs."""
    anna, marco = uuid.uuid4(), uuid.uuid4()
    names = {staff_identity(anna): "Anna", staff_identity(marco): "Marco"}
    lines = [
        ("caller", "joins"),
        ("carrier", f"rings the agent {staff_identity(anna)}"),
        ("agent", "busy"),
        ("carrier", f"rings the agent {staff_identity(marco)}"),
        ("agent", "joins"),
        ("agent", "Buongiorno."),
        ("carrier", f"rings the supervisor {staff_identity(uuid.uuid4())}"),
        ("supervisor", "will be listening in"),
        ("caller", "leaves (some reason)"),
    ]

    with app.test_request_context():
        read = said(lines, names=names, me=marco)

    assert [(line["who"], line["text"]) for line in read] == [
        ("Caller", "joins the call"),
        ("Phone line", "rings Anna"),
        ("Anna", "declined the call"),
        ("Phone line", "rings you"),
        ("You", "joins the call"),
        ("You", "Buongiorno."),
        ("Phone line", "rings a supervisor"),
        ("Supervisor", "will listen in"),
        ("Caller", "leaves the call"),
    ]

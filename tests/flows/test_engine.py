"""Running flows: every node answers TwiML Twilio accepts; branch and transfer do what they say."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from app.calls.models import Call, CallDirection
from app.calls.service import CallUrls
from app.carriers.signatures import signature_for, signing_token
from app.carriers.simulator import CalleeScript, _parse
from app.extensions import db
from app.flows.definition import FLOWS_DIRECTORY
from app.flows.prompts import LANGUAGES, VOICES
from app.flows.registry import flows
from tests.conftest import make_app
from tests.support import ApiClient


def signed(client, app, url: str, params: dict[str, str]):
    path = url.removeprefix(app.config["PUBLIC_BASE_URL"])
    signature = signature_for(signing_token(app.config), url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_every_node_of_every_flow_answers_valid_twiml_in_every_language(app, client):
    urls = CallUrls(app)
    checked = 0
    with app.app_context():
        every_flow = dict(flows())
    for name, flow in every_flow.items():
        for language in LANGUAGES:
            with app.app_context():
                call = Call(
                    id=uuid.uuid4(),
                    sid="CA" + uuid.uuid4().hex,
                    flow=name,
                    flow_version=flow.version,
                    locale=language,
                    direction=CallDirection(flow.direction),
                    from_number="+14155550100",
                    to_number="+393331234567",
                    reference="482197",
                    variables={
                        "amount": "10",
                        "currency": "EUR",
                        "merchant": "Shop",
                        "time": "2026-11-23T10:00:00+00:00",
                    },
                )
                db.session.add(call)
                db.session.commit()
                call_id, sid = call.id, call.sid
            step = urls.for_call(call_id)
            for node in flow.nodes:
                for url, params in [(step.node(node), {}), (step.input(node, 1), {"Digits": ""})]:
                    response = signed(client, app, url, {"CallSid": sid, **params})
                    assert response.status_code == 200, (name, node, language)
                    root = _parse(response.get_data(as_text=True))  # refuses bad nesting
                    for say in root.iter("Say"):
                        assert (say.get("language"), say.get("voice")) == VOICES[language]
                        assert say.text and "{" not in say.text, (name, node, say.text)
                    checked += 1
    assert checked > 200


@pytest.fixture
def agent_flows(tmp_path: Path) -> Path:
    """The shipped flows plus one that branches and transfers to an agent."""
    for path in FLOWS_DIRECTORY.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    prompt = "\n".join(f'      {lang}: "Text {lang}."' for lang in LANGUAGES)
    (tmp_path / "agent_line.yaml").write_text(f"""
name: agent_line
version: 3
direction: inbound
start: menu
nodes:
  menu:
    type: gather
    prompt:
{prompt}
    choices: {{"0": agent, "1": done}}
    fallback: done
  agent:
    type: transfer
    prompt:
{prompt}
    to: "+14155550188"
    next: after
  after:
    type: branch
    variable: transfer_status
    cases: {{completed: transferred}}
    default: sorry
  transferred:
    type: outcome
    value: transferred
    next: done
  sorry:
    type: outcome
    value: unreachable
    next: done
  done:
    type: hangup
    prompt: "@goodbye"
""")
    return tmp_path


@pytest.mark.parametrize(
    ("dial_status", "outcome"), [("completed", "transferred"), ("no-answer", "unreachable")]
)
def test_a_caller_transferred_to_an_agent_branches_on_how_the_transfer_ended(
    database_url, agent_flows, dial_status, outcome
):
    from app.carriers.simulator import SimulatorTelephony, WsgiTransport

    app = make_app(database_url, FLOWS_DIRECTORY=str(agent_flows))
    line = ApiClient(app.test_client()).post(
        "/api/v1/official-numbers",
        json={
            "phone": "+14155550101",
            "purpose": "inbound_hotline",
            "label": "Agents",
            "inbound_only": True,
            "flow": "agent_line",
        },
    )
    assert line.status_code == 201, line.get_json()
    carrier = SimulatorTelephony(
        transport=WsgiTransport(app), auth_token=signing_token(app.config), synchronous=True
    )
    with app.app_context():
        urls = CallUrls(app)
        simulated = carrier.call_in(
            from_="+393331234567",
            to="+14155550101",
            inbound_url=urls.inbound(),
            script=CalleeScript(keys=["0"], dial_status=dial_status),
        )
        call = db.session.query(Call).filter_by(sid=simulated.sid).one()
        assert (call.flow, call.flow_version) == ("agent_line", 3)
        assert call.outcome == outcome
        assert call.variables["transfer_status"] == dial_status
        db.session.remove()
        db.engine.dispose()
    assert ("carrier", "connects to +14155550188") in [(x.who, x.text) for x in simulated.lines]


def test_an_official_line_must_name_an_inbound_flow(api):
    response = api.post(
        "/api/v1/official-numbers",
        json={
            "phone": "+14155550101",
            "purpose": "inbound_hotline",
            "label": "Hotline",
            "flow": "transaction_alert",
        },
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "flow"


def test_the_waiting_room_says_only_what_twilio_plays_there_and_comes_round_again(
    app, client, simulator
):
    """A conference's waitUrl may hold only Say, Play, Pause and Redirect (Twilio error 13238)."""
    from app.flows.engine import QUEUE

    class Line:
        def position(self, session, call_id):
            return 4

    app.extensions["queueing"] = Line()
    with app.app_context():
        call = Call(
            id=uuid.uuid4(),
            sid="CA" + uuid.uuid4().hex,
            flow="service_line",
            flow_version=flows()["service_line"].version,
            locale="pl",
            direction=CallDirection.INBOUND,
            from_number="+48601234567",
            to_number="+14155550104",
            variables={QUEUE: {"node": "fraud", "conference": "queue-1", "state": "waiting"}},
        )
        db.session.add(call)
        db.session.commit()
        call_id, sid = call.id, call.sid
    step = CallUrls(app).for_call(call_id, step=7)

    first = signed(client, app, step.waiting("fraud", 1), {"CallSid": sid})
    again = signed(client, app, step.waiting("fraud", 1), {"CallSid": sid})  # Twilio retries
    not_a_queue = signed(client, app, step.waiting("department", 1), {"CallSid": sid})

    root = _parse(first.get_data(as_text=True))
    assert {verb.tag for verb in root} == {"Say", "Pause", "Redirect"}
    assert root[0].text == "Miejsce w kolejce: 4."
    # The next round is a step of its own (its URL names the step that answered this one).
    assert root.find("Redirect").text.startswith(step.waiting("fraud", 2).split("&")[0])
    assert root.find("Redirect").text != step.waiting("fraud", 1)
    assert again.get_data() == first.get_data()
    assert [verb.tag for verb in _parse(not_a_queue.get_data(as_text=True))] == ["Say", "Hangup"]

"""A supervisor sets the skills and languages of the staff who take calls, on the staff screen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agents.models import Agent, Skill
from app.audit.models import AuditEvent
from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("accounts")


def staff_id(app, email: str):
    with app.app_context():
        return db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))


def test_a_supervisor_sets_an_agents_skills_and_languages(app, supervisor):
    agent = staff_id(app, "agent@bank.example")
    answer = supervisor.post(
        f"/console/staff/{agent}/agent",
        data={
            "skills": ["fraud", "general"],
            "languages": ["it", "en"],
            "csrf_token": supervisor.csrf,
        },
        follow_redirects=True,
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Skills and languages of Agent saved." in page
    assert 'name="skills" value="fraud" checked' in page
    with app.app_context():
        desk = db.session.get_one(Agent, agent)
        assert (desk.skills, desk.languages) == ((Skill.FRAUD, Skill.GENERAL), ("en", "it"))
        [entry] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "agent.skills")
        ).all()
        assert entry.actor == "staff:supervisor@bank.example"
        assert entry.changes["after"] == {"skills": ["fraud", "general"], "languages": ["en", "it"]}


@pytest.mark.parametrize(
    ("who", "data", "message"),
    [
        ("agent@bank.example", {"languages": ["de"]}, "languages: one of"),
        ("agent@bank.example", {"skills": ["billing"]}, "skills: one of"),
        ("auditor@bank.example", {"skills": ["fraud"]}, "Auditor: this role takes no calls"),
    ],
)
def test_a_wrong_choice_is_refused_with_a_clear_message(app, supervisor, who, data, message):
    answer = supervisor.post(
        f"/console/staff/{staff_id(app, who)}/agent",
        data={**data, "csrf_token": supervisor.csrf},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Agent)).all() == []


def test_an_agent_sees_the_skills_but_cannot_change_them(app):
    agent_client = sign_in(app, "agent")
    agent = staff_id(app, "agent@bank.example")
    page = agent_client.get("/console/staff").get_data(as_text=True)
    assert "Who takes calls" in page and 'name="skills"' not in page
    answer = agent_client.post(
        f"/console/staff/{agent}/agent",
        data={"skills": ["fraud"], "csrf_token": agent_client.csrf},
    )
    assert answer.status_code == 403

"""The console's do-not-call list: in words, searchable and paged."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from app.callbacks.models import DoNotCall
from app.extensions import db
from app.phones import international
from tests.console.conftest import sign_in


def _listed(app, count: int, scope: str = "all") -> list[str]:
    start = datetime.now(UTC) - timedelta(days=1)
    phones = [f"+3933312345{i:02d}" for i in range(count)]
    with app.app_context():
        for i, phone in enumerate(phones):
            reason = "opted out on a campaign call" if scope == "campaigns" else "asked by phone"
            db.session.add(
                DoNotCall(
                    phone=phone, reason=reason, scope=scope, created_at=start + timedelta(minutes=i)
                )
            )
        db.session.commit()
    return phones


def test_the_list_is_in_words_and_pages_newest_first(app, accounts):
    phones = [international(phone) for phone in _listed(app, 27)]  # as the list groups them
    agent = sign_in(app, "agent")

    first = agent.get("/console/do-not-call?size=25").get_data(as_text=True)
    link = html.unescape(first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    second = agent.get(link).get_data(as_text=True)

    assert "Every call" in first and "Asked by phone" in first
    assert phones[26] == "+39 333 123 4526"
    assert phones[26] in first and phones[1] not in first
    assert phones[1] in second and phones[0] in second and phones[2] not in second


def test_a_number_typed_in_any_format_is_found_and_an_empty_search_says_so(app, accounts):
    _listed(app, 1, scope="campaigns")
    agent = sign_in(app, "agent")

    found = agent.get("/console/do-not-call?phone=%2B39+333+123+4500").get_data(as_text=True)
    none = agent.get("/console/do-not-call?phone=%2B39+333+765+4321").get_data(as_text=True)

    assert "+39 333 123 4500" in found and "Campaign calls only" in found
    assert "Opted out on a campaign call" in found
    assert "No number matches." in none


def test_adding_a_number_says_what_was_done(app, accounts):
    supervisor = sign_in(app, "supervisor")

    response = supervisor.post(
        "/console/do-not-call",
        data={"csrf_token": supervisor.csrf, "phone": "+39 333 123 4567", "reason": "asked"},
        follow_redirects=True,
    )

    assert "+39 333 123 4567 is on the do-not-call list." in response.get_data(as_text=True)

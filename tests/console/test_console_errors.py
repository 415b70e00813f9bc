"""An error on a console address: a signed-in member of staff stays in the console, in their own
language; anyone else gets the public page in their browser's language; programs get JSON."""

from __future__ import annotations

import html
import uuid

import pytest
from sqlalchemy import update

from app.extensions import db
from app.staff.models import StaffUser
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("accounts")

A_PERSON = {"Accept": "text/html,application/xhtml+xml", "Accept-Language": "pl"}


def _speaks(app, email: str, language: str) -> None:
    with app.app_context():
        db.session.execute(
            update(StaffUser).where(StaffUser.email == email).values(language=language)
        )
        db.session.commit()


def _read(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "path", ["/console/no-such-screen", f"/console/calls/{uuid.uuid4()}"], ids=["typo", "record"]
)
def test_a_missing_console_page_is_the_consoles_in_the_staff_members_language(app, path):
    _speaks(app, "supervisor@bank.example", "it")
    supervisor = sign_in(app, "supervisor")

    # The browser asks for Polish: the page follows the supervisor's own setting, Italian.
    answer = supervisor.get(path, headers=A_PERSON)

    page = _read(answer)
    assert answer.status_code == 404
    assert '<html lang="it">' in page
    assert "Non troviamo questa pagina" in page
    assert "Cruscotto" in page  # the console's own screens, to carry on from
    assert "Go to our home page" not in page and "Nie możemy" not in page


def test_a_screen_the_role_does_not_open_says_so_inside_the_console(app):
    auditor = sign_in(app, "auditor")

    answer = auditor.get(f"/console/callbacks/{uuid.uuid4()}/call-now", headers=A_PERSON)

    page = _read(answer)
    assert answer.status_code == 403
    assert "This page is not open to you" in page
    assert "Your role does not open this screen" in page
    assert "Audit log" in page  # the console's navigation


def test_someone_not_signed_in_gets_the_public_page_in_their_browsers_language(app):
    answer = app.test_client().get("/console/no-such-screen", headers=A_PERSON)

    page = _read(answer)
    assert answer.status_code == 404
    assert "Nie możemy znaleźć tej strony" in page
    assert "Cruscotto" not in page and "Dashboard" not in page


def test_a_program_still_gets_json_from_a_console_address(app):
    supervisor = sign_in(app, "supervisor")

    answer = supervisor.get("/console/no-such-screen", headers={"Accept": "application/json"})

    assert answer.status_code == 404
    assert answer.is_json

"""The console in the staff member's language and zone, and a label for every value it shows."""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import app as app_package
from app.audit.models import AuditEvent
from app.console.labels import SHOWN
from app.extensions import db
from app.i18n import has_label, label, when
from app.staff.models import StaffUser
from tests.console.conftest import sign_in

#: Enums only the machinery sees (never shown on a page).
INTERNAL = {"AgentCall", "CodeResult"}


def _app_enums() -> list[type[enum.Enum]]:
    found = []
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        if ".migrations" in module.name:
            continue
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if (
                inspect.isclass(value)
                and issubclass(value, enum.Enum)
                and value.__module__ == module.name
            ):
                found.append(value)
    return found


def test_every_value_the_console_shows_has_a_label(app) -> None:
    unlabelled = [
        f"{kind.__name__}.{member.name}"
        for kind in SHOWN
        for member in kind
        if not has_label(member)
    ]
    assert not unlabelled
    unlisted = [
        kind.__name__
        for kind in _app_enums()
        if kind not in SHOWN and kind.__name__ not in INTERNAL and issubclass(kind, str)
    ]
    assert not unlisted, f"add these to app.console.labels (or INTERNAL here): {unlisted}"


def test_a_label_is_read_in_the_staff_members_language(app) -> None:
    from app.callbacks.models import CallbackStatus

    with app.test_request_context("/?lang=it"):
        assert label(CallbackStatus.QUEUED) == "In attesa di chiamata"
    with app.test_request_context("/?lang=zh"):
        assert label(CallbackStatus.QUEUED) == "等待拨打"
    with app.test_request_context("/"):
        assert label(CallbackStatus.QUEUED) == "Waiting to be called"


def test_a_value_without_a_label_fails_in_tests(app) -> None:
    class Unknown(enum.StrEnum):
        ODD = "odd_value"

    with app.test_request_context("/"), pytest.raises(KeyError):
        label(Unknown.ODD)


def test_times_are_shown_in_the_readers_zone_with_the_zone_named(app) -> None:
    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        assert when(moment) == "1 Jul 2026, 13:30 BST"  # the console's default, Europe/London


def test_a_supervisor_picks_italian_and_rome_and_the_console_follows(app, accounts) -> None:
    client = sign_in(app, "supervisor")
    page = client.get("/console/me").get_data(as_text=True)
    assert "Language of the console" in page
    response = client.post(
        "/console/me",
        data={"language": "it", "time_zone": "Europe/Rome", "csrf_token": client.csrf},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="it">' in page
    assert "Impostazioni salvate." in page
    assert "Cruscotto" in page and "Dashboard</a>" not in page
    with app.app_context():
        me = db.session.scalars(
            select(StaffUser).where(StaffUser.email == "supervisor@bank.example")
        ).one()
        assert (me.language, me.time_zone) == ("it", "Europe/Rome")
        entry = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.settings_changed")
        ).one()
        assert entry.changes["after"] == {"language": "it", "time_zone": "Europe/Rome"}


def test_settings_refuse_an_unknown_zone_or_language(app, accounts) -> None:
    client = sign_in(app, "agent")
    response = client.post(
        "/console/me",
        data={"language": "en", "time_zone": "Mars/Olympus", "csrf_token": client.csrf},
    )
    assert response.status_code == 422
    assert "not a time zone we know" in response.get_data(as_text=True)
    response = client.post("/console/me", data={"language": "klingon", "csrf_token": client.csrf})
    assert response.status_code == 422
    with app.app_context():
        me = db.session.scalars(
            select(StaffUser).where(StaffUser.email == "agent@bank.example")
        ).one()
        assert (me.language, me.time_zone) == ("en", None)


def test_the_sign_in_page_follows_the_browser_or_the_chosen_language(app) -> None:
    client = app.test_client()
    page = client.get("/console/login", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="pl">' in page and "Zaloguj się" in page
    page = client.get("/console/login?lang=zh").get_data(as_text=True)
    assert '<html lang="zh">' in page and "登录" in page

"""Every console route declares who may use it, and refuses everyone else.

The test walks the URL map, so a screen added later is checked without being listed here.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from app.console.blueprint import ROLES_ATTRIBUTE
from app.staff.models import Role
from tests.console.conftest import sign_in

pytestmark = pytest.mark.usefixtures("accounts")
# Signing in (both steps, and enrolling a second factor between them), out, and the page a
# password-reset link opens.
PUBLIC = {
    "console.login",
    "console.login_code",
    "console.login_enrol",
    "console.logout",
    "console.reset_password",
}
CALLBACK_CHANGES = ("cancel", "reschedule", "assign")
SAMPLE = {"uuid": uuid.uuid4(), "default": "C-7K3Q-2M", "any": "start"}


def console_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, a URL) for every console route."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console."):
            continue
        converters = {name: type(c).__name__ for name, c in rule._converters.items()}
        values = {
            name: SAMPLE[{"UUIDConverter": "uuid", "AnyConverter": "any"}.get(kind, "default")]
            for name, kind in converters.items()
        }
        with app.test_request_context():
            path = app.url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, path))
    return routes


def test_every_console_route_declares_its_roles(app):
    routes = console_routes(app)

    assert len(routes) > 20
    for endpoint, _, _ in routes:
        roles = getattr(app.view_functions[endpoint], ROLES_ATTRIBUTE, None)
        assert roles is not None, f"{endpoint} declares no roles"
        assert (roles == ()) == (endpoint in PUBLIC), endpoint


def test_every_console_route_refuses_who_it_does_not_name(app):
    clients = {role: sign_in(app, role.value) for role in Role}
    anonymous = app.test_client()
    checked = 0

    for endpoint, method, path in console_routes(app):
        roles = getattr(app.view_functions[endpoint], ROLES_ATTRIBUTE)
        if not roles:
            continue
        answer = anonymous.open(path, method=method)
        assert answer.status_code == 302, (endpoint, method)
        assert "/console/login" in answer.headers["Location"], (endpoint, method)
        for role, client in clients.items():
            if role in roles:
                continue
            refused = client.open(path, method=method, data={"csrf_token": client.csrf})
            assert refused.status_code == 403, (endpoint, method, role)
            checked += 1

    assert checked >= 14  # 6 routes only supervisors use, 2 agents too


def test_the_roles_are_the_products(app):
    """Auditors read, agents also work complaints and fraud reports, supervisors run the rest."""
    roles = {
        (endpoint, method): {
            r.value for r in getattr(app.view_functions[endpoint], ROLES_ATTRIBUTE)
        }
        for endpoint, method, _ in console_routes(app)
    }
    writers = {key: value for key, value in roles.items() if key[1] == "POST" and value}

    takes_calls, supervisors = {"supervisor", "agent"}, {"supervisor"}
    # The desk is for those who take calls, the wall for supervisors; everyone reads the rest.
    pages = {
        ("console.desk", "GET"): takes_calls,
        ("console.desk_state", "GET"): takes_calls,
        ("console.desk_token", "GET"): takes_calls,
        ("console.wall", "GET"): supervisors,
        ("console.wall_live", "GET"): supervisors,
        ("console.staff_account", "GET"): supervisors,  # one account, its sign-ins, actions
        ("console.staff_confirm", "GET"): supervisors,  # "deactivate X?" and the like
        # A supervisor's changes to a callback: each asked on a page of its own first.
        **{(f"console.callback_{a}_ask", "GET"): supervisors for a in CALLBACK_CHANGES},
        ("console.customer_unlock_ask", "GET"): supervisors,  # "let X verify again?"
        ("console.customer_unfreeze_ask", "GET"): supervisors,  # "lift the freeze?"
        ("console.call_now_ask", "GET"): takes_calls,  # "call the customer now?"
        ("console.complaint_call_back_ask", "GET"): takes_calls,  # "call the complainant back?"
    }
    assert all(
        value == pages.get(key, {"supervisor", "agent", "auditor"})
        for key, value in roles.items()
        if key[1] == "GET" and value
    )
    assert writers == {
        ("console.campaign_action", "POST"): {"supervisor"},
        ("console.campaign_create", "POST"): {"supervisor"},
        ("console.segment_create", "POST"): {"supervisor"},
        ("console.numbers_save", "POST"): {"supervisor"},
        ("console.do_not_call_save", "POST"): {"supervisor"},
        ("console.staff_create", "POST"): {"supervisor"},
        ("console.staff_agent", "POST"): {"supervisor"},  # skills and languages
        ("console.complaint_save", "POST"): {"supervisor", "agent"},
        ("console.fraud_save", "POST"): {"supervisor", "agent"},
        **{
            (f"console.desk_{action}", "POST"): takes_calls
            for action in (
                "presence",
                "answer",
                "decline",
                "say",
                "hold",
                "transfer",
                "leave",
                "hang_up",
                "wrap_up",
            )
        },
        ("console.wall_supervise", "POST"): supervisors,
        ("console.call_now", "POST"): takes_calls,  # a callback's "call now", for their desk
        # A complaint's call back: our verified call for their desk, or one made from a phone.
        ("console.complaint_call_back", "POST"): takes_calls,
        ("console.complaint_called_back", "POST"): takes_calls,
        **{(f"console.callback_{a}", "POST"): supervisors for a in CALLBACK_CHANGES},
        ("console.settings", "POST"): {"supervisor", "agent", "auditor"},  # one's own settings
        ("console.my_password", "POST"): {"supervisor", "agent", "auditor"},
        ("console.my_second_factor", "POST"): {"supervisor", "agent", "auditor"},
        ("console.staff_apply", "POST"): {"supervisor"},  # a confirmed action on an account
        ("console.customer_unlock", "POST"): {"supervisor"},  # a locked customer's codes
        ("console.customer_unfreeze", "POST"): {"supervisor"},  # lift a freeze, with a note
    }

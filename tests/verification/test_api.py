"""The integrator API for codes: enrolment and its QR code, app codes, the lock and its end."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from app.flows.engine import CodeResult
from app.verification.models import AppCode
from tests.conftest import make_app
from tests.support import count_rows
from tests.verification.conftest import at, check, enrol, new_call, register

pytestmark = pytest.mark.usefixtures("real_codes", "clock")


def test_enrolment_returns_an_otpauth_uri_for_the_app_and_replaces_the_old_secret(api):
    customer = register(api, name="Giulia Rossi")

    response = api.post(f"/api/v1/customers/{customer['id']}/authenticator")
    again = api.post(f"/api/v1/customers/{customer['id']}/authenticator")

    assert response.status_code == 201 and again.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    uri = urlparse(response.get_json()["otpauth_uri"])
    query = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == "/Demo Bank:cust-it"
    assert query["issuer"] == ["Demo Bank"]
    secret = query["secret"][0]
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) * 8 >= 160
    assert query.get("digits", ["6"]) == ["6"] and query.get("period", ["30"]) == ["30"]
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]
    assert parse_qs(urlparse(again.get_json()["otpauth_uri"]).query)["secret"][0] != secret
    events = api.get("/api/v1/audit-events?subject_type=customer").get_json()
    actions = [e["action"] for e in events if e["subject_id"] == customer["id"]]
    assert actions.count("authenticator.enrolled") == 1
    assert actions.count("authenticator.replaced") == 1


def test_the_qr_code_is_shown_briefly_and_only_before_first_use(api, app, clock):
    customer = register(api)
    body = api.post(f"/api/v1/customers/{customer['id']}/authenticator").get_json()

    svg = api.get(body["qr_svg_url"])
    png = api.get(body["qr_png_url"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).lstrip().startswith(("<?xml", "<svg"))
    assert png.status_code == 200 and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.headers["Cache-Control"] == "no-store"
    assert api.client.get(body["qr_svg_url"]).status_code == 401  # the key is needed

    clock.advance(timedelta(minutes=10, seconds=1).total_seconds())
    late = api.get(body["qr_png_url"])
    assert late.status_code == 410 and late.get_json()["error"]["code"] == "gone"

    body = api.post(f"/api/v1/customers/{customer['id']}/authenticator").get_json()
    assert api.get(body["qr_svg_url"]).status_code == 200
    import pyotp

    secret = re.search(r"secret=([A-Z2-7]+)", body["otpauth_uri"]).group(1)
    code = pyotp.TOTP(secret).at(clock())
    assert check(app, new_call(app, customer["id"]), code) is CodeResult.VERIFIED
    assert api.get(body["qr_svg_url"]).status_code == 410  # used once: the app has it


def test_an_app_code_has_the_configured_length_and_lifetime(database_url, clock):
    from tests.support import ApiClient

    app = make_app(database_url, APP_CODE_DIGITS=8, APP_CODE_TTL_SECONDS=120)
    app.extensions["clock"] = clock
    api = ApiClient(app.test_client())
    customer = register(api)

    response = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json={})

    body = response.get_json()
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"\d{8}", body["code"])
    assert body["expires_at"] == (clock() + timedelta(minutes=2)).isoformat()
    assert body["purpose"] == "callback"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"purpose": "sms"}, 422, "purpose"),
        ({"callback_id": "not-a-uuid"}, 422, "callback_id"),
        ({"callback_id": str(uuid.uuid4())}, 422, "callback_id"),
        ({"code": "123456"}, 422, "code"),  # nobody chooses their own code
    ],
)
def test_bad_app_code_requests_are_refused_and_mint_nothing(api, app, payload, status, field):
    customer = register(api)

    response = api.post(f"/api/v1/customers/{customer['id']}/app-codes", json=payload)

    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert count_rows(app, AppCode) == 0


def test_a_code_for_another_customers_callback_is_refused(api, app, clock):
    register(api)
    other = register(api, "cust-2", "+39 333 765 4321")
    callback_id = api.post(
        "/api/v1/events",
        json={
            "id": "reg-2",
            "type": "registration",
            "customer_external_id": "cust-2",
            "occurred_at": clock().isoformat(),
        },
    ).get_json()["callback_id"]
    mine = api.get("/api/v1/customers?external_id=cust-it").get_json()

    response = api.post(
        f"/api/v1/customers/{mine['id']}/app-codes", json={"callback_id": callback_id}
    )

    assert response.status_code == 422 and other
    assert count_rows(app, AppCode) == 0


def test_unknown_customers_are_404(api):
    missing = uuid.uuid4()
    for path in ("authenticator", "app-codes"):
        response = api.post(f"/api/v1/customers/{missing}/{path}", json={})
        assert response.status_code == 404, path
    assert api.get(f"/api/v1/customers/{missing}/verification").status_code == 404


def fail(app, call, times: int, wrong: str = "000000") -> list[CodeResult]:
    return [check(app, call, wrong) for _ in range(times)]


def test_ten_failures_in_24_hours_lock_the_customer_across_restarts_until_cleared(
    api, app, clock, database_url
):
    customer = register(api)
    totp = enrol(app, customer["id"])
    call = new_call(app, customer["id"])
    wrong = f"{(int(at(totp, clock())) + 5) % 1_000_000:06d}"

    results = fail(app, call, 10, wrong)

    assert results == [CodeResult.WRONG] * 9 + [CodeResult.LOCKED]
    assert check(app, call, at(totp, clock())) is CodeResult.LOCKED  # even the right code
    state = api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()
    assert (state["locked"], state["failures"], state["max_failures"]) == (True, 10, 10)

    # A restart (a new app on the same database), a day later: still locked.
    restarted = make_app(database_url)
    restarted.extensions["clock"] = clock
    restarted.extensions["telephony"] = app.extensions["telephony"]
    clock.advance(timedelta(days=1, minutes=1).total_seconds())
    assert check(restarted, call, at(totp, clock())) is CodeResult.LOCKED

    from tests.support import ApiClient

    again = ApiClient(restarted.test_client())
    cleared = again.post(
        f"/api/v1/customers/{customer['id']}/verification/unlock",
        json={"cleared_by": "app", "note": "signed in to the app with a passkey"},
    )
    assert cleared.status_code == 200 and cleared.get_json()["locked"] is False
    assert cleared.get_json()["failures"] == 0  # failures before the unlock no longer count
    clock.advance(30)
    assert check(restarted, call, at(totp, clock())) is CodeResult.VERIFIED
    actions = [e["action"] for e in again.get("/api/v1/audit-events").get_json()]
    assert "verification.locked" in actions and "verification.unlocked" in actions


def test_failures_older_than_24_hours_do_not_count(api, app, clock):
    customer = register(api)
    call = new_call(app, customer["id"])
    enrol(app, customer["id"])

    fail(app, call, 9)
    clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    last = fail(app, call, 1)

    assert last == [CodeResult.WRONG]
    assert api.get(f"/api/v1/customers/{customer['id']}/verification").get_json()["locked"] is False


@pytest.mark.parametrize(
    ("payload", "status"),
    [({"cleared_by": "anyone"}, 422), ({}, 422), ({"cleared_by": "supervisor"}, 409)],
)
def test_unlock_needs_a_reason_and_a_lock(api, payload, status):
    customer = register(api)

    response = api.post(f"/api/v1/customers/{customer['id']}/verification/unlock", json=payload)

    assert response.status_code == status
    assert response.get_json()["error"]["message"]

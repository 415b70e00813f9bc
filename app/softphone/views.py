"""The softphone page (development and tests only): take simulated calls in the browser."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, current_app, render_template, request
from sqlalchemy import select
from werkzeug.local import LocalProxy

from app.calls.service import CallUrls
from app.carriers.softphone import Softphone
from app.errors import InvalidInput
from app.extensions import db
from app.inputs import refuse_control_characters
from app.numbers.models import OfficialNumber
from app.phones import parse_phone

bp = Blueprint("softphone", __name__, url_prefix="/simulator/phone")


@bp.before_request
def _printable_path() -> None:
    refuse_control_characters(request.view_args or {})


def _app() -> Flask:
    """The app itself, not the context's proxy: the softphone keeps it."""
    return cast("LocalProxy[Flask]", current_app)._get_current_object()


def _softphone() -> Softphone:
    return Softphone(_app(), db.session())


def _json_body() -> dict[str, Any]:
    # JSON only: a cross-site form cannot post it without the browser asking first (CORS).
    if not request.is_json:
        raise InvalidInput("send JSON with 'Content-Type: application/json'")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    return body


@bp.get("")
def page() -> str:
    lines = db.session.scalars(
        select(OfficialNumber)
        .where(OfficialNumber.retired_at.is_(None), OfficialNumber.flow.is_not(None))
        .order_by(OfficialNumber.phone)
    ).all()
    return render_template(
        "softphone.html", lines=lines, company=current_app.config["COMPANY_NAME"]
    )


@bp.get("/calls")
def calls() -> dict[str, Any]:
    return {"calls": _softphone().calls()}


@bp.post("/calls/<sid>/answer")
def answer(sid: str) -> dict[str, Any]:
    return _softphone().answer(sid)


@bp.post("/calls/<sid>/decline")
def decline(sid: str) -> dict[str, Any]:
    return _softphone().decline(sid)


@bp.post("/calls/<sid>/keys")
def keys(sid: str) -> dict[str, Any]:
    pressed = _json_body().get("keys", "")
    if not isinstance(pressed, str):
        raise InvalidInput('keys: send the keys as a string, e.g. "123456"', field="keys")
    return _softphone().press(sid, pressed)


@bp.post("/calls/<sid>/say")
def say(sid: str) -> dict[str, Any]:
    """The person answers the question with words (a menu hears them; a code question does
    not)."""
    words = _json_body().get("words", "")
    if not isinstance(words, str) or not words.strip():
        raise InvalidInput('words: send what is said as a string, e.g. "yes"', field="words")
    return _softphone().say(sid, words)


@bp.post("/calls/<sid>/hangup")
def hang_up(sid: str) -> dict[str, Any]:
    return _softphone().hang_up(sid)


@bp.post("/calls/<sid>/app-code")
def app_code(sid: str) -> dict[str, Any]:
    """The customer's app, simulated: a one-time code for this call, as the app would show it."""
    from datetime import timedelta

    from app import clock
    from app.audit.service import Actor
    from app.calls.models import Call
    from app.errors import Conflict
    from app.verification.checker import app_code_binding, keyring_for
    from app.verification.service import issue_app_code

    call = db.session.scalar(select(Call).where(Call.sid == sid))
    if call is None or call.customer_id is None:
        raise Conflict("this call is not with one of our customers", field="sid")
    # Bound as the call's code checker will want it now: on a callback taken on our line (the
    # customer rang back), that callback, not a code for an inbound call.
    purpose, callback_id = app_code_binding(call)
    code, minted = issue_app_code(
        db.session(),
        call.customer_id,
        keyring=keyring_for(current_app),
        now=clock.now(),
        actor=Actor("simulator:customer-app"),
        ttl=timedelta(seconds=current_app.config["APP_CODE_TTL_SECONDS"]),
        digits=current_app.config["APP_CODE_DIGITS"],
        purpose=purpose,
        callback_id=callback_id,
    )
    db.session.commit()
    return {"code": code, "expires_at": minted.expires_at.isoformat(), "reference": call.reference}


@bp.post("/dial")
def dial() -> dict[str, Any]:
    body = _json_body()
    caller = parse_phone(body.get("from"), field="from").e164
    line = parse_phone(body.get("to"), field="to").e164
    urls = CallUrls(_app())
    return _softphone().dial_in(
        from_=caller, to=line, inbound_url=urls.inbound(), status_url=urls.status()
    )

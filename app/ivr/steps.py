"""A call's flow as the IVR runs it: each webhook step answered once, with the prompts' values."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.calls.models import Call, CallStep
from app.calls.service import CallUrls
from app.customers.models import Customer
from app.flows.definition import Flow
from app.flows.engine import CodeChecker, FlowRun
from app.numbers.lines import hotline_number

#: What the caller did at a step, besides its URL: together they tell a replay from a new step.
STEP_PARAMETERS = (
    "Digits",
    "SpeechResult",
    "RecordingUrl",
    "RecordingDuration",
    "DialCallStatus",
    "AnsweredBy",
)


def step_key(secret: str | bytes, url: str, params: Mapping[str, str]) -> str:
    """A keyed digest of one webhook step: its URL and what the caller did there."""
    message = "\n".join([url, *(f"{name}={params.get(name, '')}" for name in STEP_PARAMETERS)])
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def take_step(session: Session, *, call: Call, key: str) -> tuple[CallStep, bool]:
    """The step's row, and whether it was answered before (a retry or a replay).

    A new row is flushed at once: the same step arriving twice at the same moment waits here for
    the first to commit, then finds its answer.
    """
    seen = session.scalar(select(CallStep).where(CallStep.call_id == call.id, CallStep.key == key))
    if seen is not None:
        return seen, True
    step = CallStep(call_id=call.id, key=key)
    try:
        with session.begin_nested():
            session.add(step)
    except IntegrityError:
        seen = session.scalars(
            select(CallStep).where(CallStep.call_id == call.id, CallStep.key == key)
        ).one()
        return seen, True
    return step, False


def flow_run(
    session: Session,
    *,
    call: Call,
    flow: Flow,
    urls: CallUrls,
    check_code: CodeChecker,
    company: str,
    step: int | None = None,
) -> FlowRun:
    """The flow of a call, with the values its prompts speak."""
    customer = session.get(Customer, call.customer_id) if call.customer_id else None
    values: dict[str, Any] = {
        **(call.variables or {}),
        "company": company,
        "name": customer.name if customer and customer.name else "",
        "reference": call.reference or "",
        "callback_number": hotline_number(session) or "",
    }
    return FlowRun(
        session=session,
        call=call,
        flow=flow,
        urls=urls.for_call(call.id, step=step),
        check_code=check_code,
        values=values,
        time_zone=customer.time_zone if customer else None,
    )


def code_checker_for(app: Flask) -> CodeChecker:
    """The customer's authenticator and app codes (tests may put another checker in place)."""
    if "code_checker" not in app.extensions:
        from app.verification.checker import CallCodeChecker

        app.extensions["code_checker"] = CallCodeChecker(app)
    return app.extensions["code_checker"]

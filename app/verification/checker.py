"""The code checker the IVR's verify nodes use, and the app's keyring and policy."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.calls.models import Call, CallDirection
from app.flows.engine import CodeResult
from app.verification import service
from app.verification.keys import Keyring, keyring
from app.verification.models import AttemptResult, CodePurpose
from app.verification.policy import VerificationPolicy


def keyring_for(app: Flask) -> Keyring:
    if "verification_keyring" not in app.extensions:
        app.extensions["verification_keyring"] = keyring(
            app.config.get("VERIFICATION_KEYS") or (), fallback=app.config.get("SECRET_KEY")
        )
    return app.extensions["verification_keyring"]


def policy_for(app: Flask) -> VerificationPolicy:
    """The verification policy loaded at start-up (config/verification.yaml)."""
    return app.extensions["verification_policy"]


def app_code_binding(call: Call) -> tuple[CodePurpose, uuid.UUID | None]:
    """The purpose and callback of an app code that the checker below accepts for this call.

    For anything that mints a code for a call on the customer's behalf (the softphone's simulated
    app); tests/softphone/test_softphone.py holds it to the checker on each kind of call.
    """
    if call.callback_id is not None:
        # A callback taken on our line (the customer rang back) is still that callback.
        return CodePurpose.CALLBACK, call.callback_id
    if call.direction is CallDirection.INBOUND:
        return CodePurpose.INBOUND_CALL, None
    return CodePurpose.CALLBACK, None


class CallCodeChecker:
    """Checks a code typed in a call against the customer's authenticator and app code."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, session: Session, call: Call, code: str) -> CodeResult:
        if call.customer_id is None:  # nobody to verify (an unknown caller on an inbound line)
            return CodeResult.WRONG
        check = service.check_code(
            session,
            call.customer_id,
            code,
            keyring=keyring_for(self.app),
            now=clock.now(),
            actor=Actor(f"call:{call.id}"),
            policy=policy_for(self.app),
            call_id=call.id,
            callback_id=call.callback_id or _callback_to_take(call),
            inbound=call.direction is CallDirection.INBOUND,
        )
        if check.result is AttemptResult.VERIFIED:
            return CodeResult.VERIFIED
        if check.result is AttemptResult.LOCKED or check.locked_now:
            return CodeResult.LOCKED
        return CodeResult.WRONG

    def locked(self, session: Session, call: Call) -> bool:
        """Whether to skip asking for a code at all (the customer is locked)."""
        return call.customer_id is not None and (
            service.active_lock(session, call.customer_id) is not None
        )


def _callback_to_take(call: Call) -> uuid.UUID | None:
    """The waiting callback a caller on our line verifies for, before it is theirs to take.

    (app/authenticity/line.py names it; its code from the app works there too.)
    """
    value = (call.variables or {}).get("verifying_callback_id")
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None

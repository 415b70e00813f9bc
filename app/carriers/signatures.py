"""X-Twilio-Signature: every webhook is checked against PUBLIC_BASE_URL before it does anything."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, request
from twilio.request_validator import RequestValidator

from app.errors import DomainError

log = logging.getLogger(__name__)


class InvalidSignature(DomainError):
    status = 403
    code = "invalid_signature"


def signing_token(config: Mapping[str, Any]) -> str:
    """Twilio's auth token; the simulator, with no Twilio account, signs with a key of its own."""
    if config.get("TWILIO_AUTH_TOKEN"):
        return str(config["TWILIO_AUTH_TOKEN"])
    secret = str(config["SECRET_KEY"]).encode()
    return hmac.new(secret, b"simulator webhook signing", hashlib.sha256).hexdigest()


def signature_for(token: str, url: str, params: Mapping[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


def public_request_url() -> str:
    """The URL as Twilio called it: the public origin (not what a proxy forwarded), path, query."""
    query = request.query_string.decode()
    return current_app.config["PUBLIC_BASE_URL"] + request.path + (f"?{query}" if query else "")


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403, nothing changed) a request whose signature is missing or not Twilio's."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        signature = request.headers.get("X-Twilio-Signature", "")
        validator = RequestValidator(signing_token(current_app.config))
        if not signature or not validator.validate(public_request_url(), request.form, signature):
            log.warning("webhook refused: bad signature", extra={"path": request.path})
            raise InvalidSignature(
                "X-Twilio-Signature is missing or does not match this request",
                field="X-Twilio-Signature",
            )
        return view(*args, **kwargs)

    return checked

"""Access tokens for the agents' browser phones (Twilio's Voice JavaScript SDK)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from app.carriers.carrier import client_address
from app.config import check_browser_phone_settings

# Twilio accepts access tokens that live at most 24 hours.
MAX_TTL_SECONDS = 24 * 60 * 60


def voice_token(config: Mapping[str, Any], identity: str, ttl: int = 3600) -> str:
    """A signed JWT that lets the browser phone registered as `identity` take calls (an agent
    rung into a conference) and place its own through the TwiML app, for `ttl` seconds."""
    check_browser_phone_settings(config)
    client_address(identity)  # refuse an identity Twilio would not register
    if not 60 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"an access token lives 60 to {MAX_TTL_SECONDS} seconds")
    token = AccessToken(
        config["TWILIO_ACCOUNT_SID"],
        config["TWILIO_API_KEY_SID"],
        config["TWILIO_API_KEY_SECRET"],
        identity=identity,
        ttl=ttl,
    )
    token.add_grant(
        VoiceGrant(
            outgoing_application_sid=config["TWILIO_TWIML_APP_SID"],
            incoming_allow=True,
        )
    )
    return str(token.to_jwt())

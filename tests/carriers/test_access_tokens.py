"""The browser phone's access token: signed by our API key, for one agent, with the voice grants."""

from __future__ import annotations

import time

import jwt
import pytest

from app.carriers.access_tokens import voice_token
from app.config import ConfigurationError

ACCOUNT = "AC" + "a" * 32
KEY_SID = "SK" + "b" * 32
KEY_SECRET = "api-key-secret-for-tests-32-chars!"  # 32 characters, like Twilio's
TWIML_APP = "AP" + "c" * 32
CONFIG = {
    "TWILIO_ACCOUNT_SID": ACCOUNT,
    "TWILIO_API_KEY_SID": KEY_SID,
    "TWILIO_API_KEY_SECRET": KEY_SECRET,
    "TWILIO_TWIML_APP_SID": TWIML_APP,
}


def test_the_token_lets_one_agent_take_calls_and_call_through_the_twiml_app():
    before = int(time.time())

    token = voice_token(CONFIG, "agent_7", ttl=1800)

    # Only our API key's secret verifies it (Twilio holds the same secret).
    claims = jwt.decode(token, KEY_SECRET, algorithms=["HS256"])
    header = jwt.get_unverified_header(token)
    assert header["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == KEY_SID
    assert claims["sub"] == ACCOUNT
    assert claims["grants"] == {
        "identity": "agent_7",
        "voice": {"incoming": {"allow": True}, "outgoing": {"application_sid": TWIML_APP}},
    }
    assert before + 1800 <= claims["exp"] <= int(time.time()) + 1800
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-thirty-two-char", algorithms=["HS256"])


def test_a_token_lives_an_hour_by_default_and_never_more_than_a_day():
    claims = jwt.decode(voice_token(CONFIG, "agent_7"), KEY_SECRET, algorithms=["HS256"])

    assert claims["exp"] - claims["nbf"] == 3600  # valid from its making
    with pytest.raises(ValueError, match="seconds"):
        voice_token(CONFIG, "agent_7", ttl=2 * 24 * 3600)


def test_a_staff_members_identity_is_one_twilio_registers_and_rings():
    import uuid

    from app.carriers.carrier import client_address, staff_identity

    staff_id = uuid.UUID("0b7e6f1c-3a2d-4c5e-9f80-1234567890ab")
    identity = staff_identity(staff_id)

    claims = jwt.decode(voice_token(CONFIG, identity), KEY_SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == identity == "staff_0b7e6f1c3a2d4c5e9f801234567890ab"
    assert client_address(identity) == f"client:{identity}"


def test_no_token_without_the_settings_or_for_an_identity_twilio_refuses():
    with pytest.raises(ConfigurationError, match="TWILIO_TWIML_APP_SID"):
        voice_token({**CONFIG, "TWILIO_TWIML_APP_SID": None}, "agent_7")
    with pytest.raises(ValueError, match="client identity"):
        voice_token(CONFIG, "agent 7")

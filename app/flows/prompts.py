"""What a prompt may never ask, the disclaimer every outbound call speaks, and Twilio voices."""

from __future__ import annotations

import re

LANGUAGES = ("en", "it", "pl", "zh")

# Twilio <Say> language and voice per locale (Amazon Polly voices that Twilio offers).
VOICES = {
    "en": ("en-GB", "Polly.Amy"),
    "it": ("it-IT", "Polly.Bianca"),
    "pl": ("pl-PL", "Polly.Ewa"),
    "zh": ("cmn-CN", "Polly.Zhiyu"),
}

# The one vetted text that may name the secrets, because it promises never to ask for them.
# It lives in code (reviewed), not in call_flows/ (data that the checker forbids them in).
NEVER_ASK = {
    "en": (
        "We will never ask you for your password, your PIN, your card details or a code sent "
        "to you by text message. If anyone does, hang up."
    ),
    "it": (
        "Non ti chiederemo mai la password, il PIN, i dati della carta o un codice ricevuto "
        "via SMS. Se qualcuno lo fa, riattacca."
    ),
    "pl": (
        "Nigdy nie poprosimy o hasło, PIN, dane karty ani kod otrzymany SMS-em. "
        "Jeśli ktoś o to prosi, rozłącz się."
    ),
    "zh": "我们绝不会向您索要密码、PIN码、银行卡信息或短信验证码。如果有人索要，请立即挂断。",
}

# Asking for any of these is what scam callers do; no prompt in call_flows/ may mention them,
# in any of the four languages (patterns are applied to every prompt, whatever its language).
FORBIDDEN = [
    ("password", re.compile(r"pass\s*word|passcode|parola\s+d[’']ordine", re.I)),
    ("PIN", re.compile(r"(?<![A-Za-z])P\.?\s?I\.?\s?N(?![A-Za-z])|codice\s+segreto", re.I)),
    ("card number", re.compile(r"card\s+number|numero\s+(della\s+)?carta|numer\w*\s+kart", re.I)),
    ("CVV", re.compile(r"(?<![A-Za-z])(CVV2?|CVC2?)(?![A-Za-z])|security\s+code", re.I)),
    (
        "SMS code",
        re.compile(
            r"(sms|text(\s+message)?)\s*(-\s*)?code|code\s+(we\s+)?(sent|texted)"
            r"|codice\s+(ricevuto\s+)?(via|per|tramite|nell[’'])\s*sms|codice\s+sms"
            r"|kod\w*\s+(z\s+)?sms|sms\w*\s+kod",
            re.I,
        ),
    ),
    ("password (pl)", re.compile(r"\bhas[łl]\w*", re.I)),
    ("password (zh)", re.compile(r"密码|口令|密碼")),
    ("card number (zh)", re.compile(r"卡号|卡號|银行卡信息|安全码|验证码.{0,4}短信|短信.{0,6}码")),
    ("CVV (pl/it)", re.compile(r"kod\w*\s+(bezpiecze\w+|CVV)|codice\s+di\s+sicurezza", re.I)),
]


def forbidden_asks(text: str) -> list[str]:
    """The names of the secrets a text mentions."""
    return [name for name, pattern in FORBIDDEN if pattern.search(text)]

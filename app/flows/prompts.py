"""The never-ask promise, the safe text spoken instead of a refused prompt, and Twilio voices."""

from __future__ import annotations

from app.flows.safety import refusals

LANGUAGES = ("en", "it", "pl", "zh")

# Twilio <Say> language and voice per locale (Amazon Polly voices that Twilio offers).
VOICES = {
    "en": ("en-GB", "Polly.Amy"),
    "it": ("it-IT", "Polly.Bianca"),
    "pl": ("pl-PL", "Polly.Ewa"),
    "zh": ("cmn-CN", "Polly.Zhiyu"),
}

# The one vetted text that names every secret, because it promises never to ask for them. It
# lives in reviewed code; the safety check (app/flows/safety.py) reads it as the negation it is.
NEVER_ASK = {
    "en": (
        "We will never ask you for your password, your PIN, your card details or a code sent "
        "to you by text message. If anyone does, hang up."
    ),
    "it": (
        "Non Le chiederemo mai la password, il PIN, i dati della carta o un codice ricevuto "
        "via SMS. Se qualcuno lo fa, riattacchi."
    ),
    "pl": (
        "Nigdy nie poprosimy o hasło, PIN, dane karty ani kod otrzymany SMS-em. "
        "Jeśli ktoś o to prosi, należy się rozłączyć."
    ),
    "zh": "我们绝不会向您索要密码、PIN码、银行卡信息或短信验证码。如果有人索要，请立即挂断。",
}

# Spoken instead of a prompt that, once its values were filled in (a campaign's purpose, a
# number's label, the company's name), would ask for a secret (app/flows/engine.py). Neutral for
# both directions of call, and it repeats the promise.
SAFE_FALLBACK = {
    "en": "Sorry, we cannot read out this message. " + NEVER_ASK["en"],
    "it": "Spiacenti, non possiamo leggere questo messaggio. " + NEVER_ASK["it"],
    "pl": "Przepraszamy, nie możemy odczytać tej wiadomości. " + NEVER_ASK["pl"],
    "zh": "抱歉，我们无法播报这条消息。" + NEVER_ASK["zh"],
}


def forbidden_asks(text: str) -> list[str]:
    """What a text asks for that no call of ours may ask, with the words that ask it."""
    return [refusal.describe() for refusal in refusals(text)]

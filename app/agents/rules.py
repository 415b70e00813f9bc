"""The agents' pure rules: priorities, the presence an agent may choose, what a disposition
decides, and which notes are refused."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from app.agents.models import Disposition, Presence
from app.errors import Message
from app.flows import safety
from app.outcomes import Outcome

#: How long an offer rings at an agent's desk before it goes to the next agent (Flex's default
#: reservation timeout is longer; a caller hears hold music meanwhile, so we keep it short).
RING_SECONDS = 20
#: Answered within this long of entering the queue counts towards the service level.
SERVICE_LEVEL_SECONDS = 20

#: A callback's priority (app.callbacks.models.Priority's values) as a queue priority.
PRIORITIES = {"high": 3, "medium": 2, "low": 1}
LOWEST_PRIORITY, HIGHEST_PRIORITY = 1, 3

#: The presences an agent may choose; the others follow their calls.
CHOSEN = frozenset({Presence.AVAILABLE, Presence.AWAY})

#: What each disposition makes of the callback the caller was about (None: it stays open).
#: "resolved" and "complaint_filed" close the matter without a verified yes: cancelled, which
#: tells the core system nothing was confirmed (held withdrawals are rejected, as on any end but
#: confirmed).
DISPOSITION_OUTCOMES: dict[Disposition, Outcome | None] = {
    Disposition.CONFIRMED: Outcome.CONFIRMED,
    Disposition.DENIED: Outcome.DENIED,
    Disposition.RESOLVED: Outcome.CANCELLED,
    Disposition.COMPLAINT_FILED: Outcome.CANCELLED,
    Disposition.FOLLOW_UP: None,
}

#: The longest notes an agent may write.
NOTES_MAX = 4000
#: A follow-up is at least this far ahead, and at most this far.
FOLLOW_UP_SOONEST = timedelta(minutes=5)
FOLLOW_UP_LATEST = timedelta(days=30)


#: The team a matter's flow needs when we call its customer for an agent who is away.
FLOW_SKILLS = {
    "transaction_alert": "fraud",
    "account_change_check": "fraud",
    "withdrawal_check": "withdrawals",
}


def skill_of_flow(flow: str) -> str:
    """The skill a matter of this flow needs (general for any other)."""
    return FLOW_SKILLS.get(flow, "general")


def queue_priority(callback_priority: str | None) -> int:
    """A callback's priority (high, medium, low) as a queue priority (3, 2, 1); low without one."""
    return PRIORITIES.get(callback_priority or "", LOWEST_PRIORITY)


def presence_refused(current: Presence, wanted: Presence) -> Message | None:
    """Why an agent may not choose `wanted` now (None: they may)."""
    if wanted not in CHOSEN:
        return _l("an agent chooses only Available or Away; the rest follows their calls")
    if current is Presence.ON_CALL:
        return _l("hang up the call first")
    if current is Presence.RINGING and wanted is Presence.AVAILABLE:
        return _l("answer the ringing call, or choose Away to let it go to another agent")
    return None


# Digits, with the spaces, dots and dashes people type between groups.
_DIGIT_RUN = re.compile(r"\d(?:[ .\-/]?\d)*")
_CVV_WORDS = re.compile(
    r"\b(?:cvv2?|cvc2?|cv2|csc|security code|codice di sicurezza|kod cvv|安全码)\b", re.IGNORECASE
)
_CODE_WORDS = re.compile(
    r"\b(?:code|codes|pin|otp|passcode|password|codice|kod|hasło|haslo)\b|验证码|密码",
    re.IGNORECASE,
)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def note_refusal(notes: str) -> Message | None:
    """Why notes may not be kept (None: they may): they must hold no card number, CVV or code,
    and ask for no secret (the safety checker of the flows)."""
    if len(notes) > NOTES_MAX:
        return _l("notes are at most %(count)d characters", count=NOTES_MAX)
    for match in _DIGIT_RUN.finditer(notes):
        digits = re.sub(r"\D", "", match.group())
        if 12 <= len(digits) <= 19 and (_luhn(digits) or len(digits) >= 15):
            return _l("the notes look like they hold a card number: never write one down")
        if 3 <= len(digits) <= 4 and _CVV_WORDS.search(notes):
            return _l("the notes look like they hold a card's security code (CVV): never write one")
        if 4 <= len(digits) <= 10 and _CODE_WORDS.search(notes):
            return _l("the notes look like they hold a code or a PIN: never write one down")
        if 6 <= len(digits) <= 8 and digits == match.group():
            return _l("the notes hold a run of digits that looks like a code: never write one down")
    refused = safety.refused_words(notes)
    if refused:
        return _l("the notes ask for a secret (%(words)s): we never ask for one", words=refused)
    return None

"""How a call or a callback ended: one vocabulary for flows, calls and callbacks."""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    """An outcome: a flow's `outcome` node sets one on its call; a callback ends with one."""

    CONFIRMED = "confirmed"
    DENIED = "denied"
    VERIFICATION_FAILED = "verification_failed"
    LOCKED = "locked"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"
    VOICEMAIL = "voicemail"  # an answering machine took the call
    NO_INPUT = "no_input"
    TRANSFERRED = "transferred"
    RECORDED = "recorded"
    NO_MESSAGE = "no_message"  # a complaint filed without a recorded message: we call back
    INFORMED = "informed"
    REPORTED = "reported"
    OPTED_OUT = "opted_out"

    @property
    def decides_callback(self) -> Outcome | None:
        """The outcome a callback ends with when its call ended with this one, if it decides."""
        return _DECIDES.get(self)


#: Call outcomes that end their callback, and how (any other outcome leaves it to the retries).
_DECIDES = {
    Outcome.CONFIRMED: Outcome.CONFIRMED,
    Outcome.DENIED: Outcome.DENIED,
    Outcome.VERIFICATION_FAILED: Outcome.VERIFICATION_FAILED,
    Outcome.LOCKED: Outcome.LOCKED,
    Outcome.OPTED_OUT: Outcome.CANCELLED,  # asked not to be called like this: on do-not-call
}

#: The outcomes a callback may end with.
CALLBACK_OUTCOMES = frozenset(
    {
        Outcome.CONFIRMED,
        Outcome.DENIED,
        Outcome.VERIFICATION_FAILED,
        Outcome.LOCKED,
        Outcome.UNREACHABLE,
        Outcome.CANCELLED,
    }
)

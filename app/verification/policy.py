"""The verification policy (config/verification.yaml): the code lock and the authenticator rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from app.policy import PolicyError, load, positive_duration, setting, whole_number

POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "verification.yaml"


@dataclass(frozen=True)
class VerificationPolicy:
    version: int
    #: Failed codes within `lock_window` that lock code verification for the customer.
    lock_after_failures: int = field(metadata=setting("lock.after_failures", whole_number(1)))
    lock_window: timedelta = field(metadata=setting("lock.within", positive_duration))
    #: Authenticator steps accepted either side of the current one (clock drift).
    totp_steps_either_side: int = field(
        metadata=setting("authenticator.steps_either_side", whole_number(0))
    )
    #: How long after enrolment a new authenticator's QR code can be fetched.
    qr_shown_for: timedelta = field(
        metadata=setting("authenticator.qr_shown_for", positive_duration)
    )

    def __post_init__(self) -> None:
        if self.totp_steps_either_side > 2:
            raise PolicyError(
                "authenticator.steps_either_side: at most 2 (RFC 6238 advises one): each step "
                "more lets a wrong code pass more often"
            )


def load_verification_policy(path: Path | str | None = None) -> VerificationPolicy:
    return load(VerificationPolicy, path or POLICY_FILE)

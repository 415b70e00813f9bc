"""The callback policy file (config/callback_policy.yaml): thresholds live there, not in code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.policy import PolicyError, clock, duration

POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "callback_policy.yaml"


#: The only retry an answering machine gets: the opening of the next day's calling hours.
NEXT_WINDOW = "next_window"


@dataclass(frozen=True)
class DialProfile:
    """How one callback is dialed: its window, retry ladder, attempts, and its group's pacing.

    Stored on the callback (a campaign fills it when it queues its callbacks); a callback
    without one is dialed with the policy's defaults (`Policy.profile`).
    """

    window: tuple[time, time]
    retry_ladder: tuple[timedelta, ...]
    max_attempts: int
    calls_per_second: float | None = None  # its campaign's own pacing, on top of the global one
    max_concurrent: int | None = None  # its campaign's calls at once

    def to_json(self) -> dict[str, Any]:
        return {
            "window": [f"{self.window[0]:%H:%M}", f"{self.window[1]:%H:%M}"],
            "retry_seconds": [int(step.total_seconds()) for step in self.retry_ladder],
            "max_attempts": self.max_attempts,
            "calls_per_second": self.calls_per_second,
            "max_concurrent": self.max_concurrent,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DialProfile:
        return cls(
            window=(clock(data["window"][0], "window"), clock(data["window"][1], "window")),
            retry_ladder=tuple(timedelta(seconds=s) for s in data["retry_seconds"]),
            max_attempts=int(data["max_attempts"]),
            calls_per_second=data.get("calls_per_second"),
            max_concurrent=data.get("max_concurrent"),
        )


@dataclass(frozen=True)
class Policy:
    version: int
    deadlines: dict[str, timedelta]
    triggers: dict[str, dict[str, str]]
    anomaly: dict[str, Any]
    window_start: time
    window_end: time
    cap_per_day: int
    cap_per_7_days: int
    calls_per_second: float
    max_concurrent_calls: int
    retry_no_answer: tuple[timedelta, ...]
    retry_machine: tuple[str, ...]  # one entry per retry an answering machine gets: next_window
    max_attempts: int
    lease: timedelta
    velocity_window: timedelta
    campaign_defaults: DialProfile
    #: After a call we placed ends, nobody rings that number again for this long, unless the
    #: call itself asked for the next one (its own retry); read as `Policy.quiet_after_call`.
    quiet_after_call: timedelta

    def rule(self, name: str) -> dict[str, Any]:
        return self.anomaly["rules"].get(name) or {}

    @property
    def calling_window(self) -> tuple[time, time]:
        """The legal calling hours, in the callee's local time (calling_window)."""
        return self.window_start, self.window_end

    @property
    def frequency_caps(self) -> tuple[tuple[timedelta, int], ...]:
        """The frequency caps (caps): at most this many calls to a customer within this period."""
        return ((timedelta(days=1), self.cap_per_day), (timedelta(days=7), self.cap_per_7_days))

    def profile(self, stored: dict[str, Any] | None) -> DialProfile:
        """A callback's dial profile: its stored one kept inside the legal window, or the defaults.

        The one place the retry ladder (retries.no_answer) and the calling window are read.
        """
        if stored is None:
            return DialProfile(
                window=self.calling_window,
                retry_ladder=self.retry_no_answer,
                max_attempts=self.max_attempts,
            )
        profile = DialProfile.from_json(stored)
        start, end = profile.window
        # Never outside the legal window, even one narrowed after the callback was queued.
        window = (max(start, self.window_start), min(end, self.window_end))
        return DialProfile(
            window=window,
            retry_ladder=profile.retry_ladder,
            max_attempts=profile.max_attempts,
            calls_per_second=profile.calls_per_second,
            max_concurrent=profile.max_concurrent,
        )


def _machine_retries(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise PolicyError(f"{where}: a list of retries, e.g. [next_window, next_window]")
    for value in values:
        if value != NEXT_WINDOW:
            raise PolicyError(
                f"{where}: {value!r} is not supported; an answering machine is tried again only "
                f"at the next day's calling hours ({NEXT_WINDOW})"
            )
    return tuple(values)


def _no_unknown_retries(values: Any, where: str) -> None:
    if values != []:
        raise PolicyError(
            f"{where}: must be [] - an attempt whose outcome is unknown may have placed a call; "
            f"it is reconciled with the carrier, never re-dialed"
        )


def _campaign_defaults(data: dict[str, Any], legal: tuple[time, time]) -> DialProfile:
    where = "campaign_defaults"
    window = (
        clock(data["window"]["start"], f"{where}.window.start"),
        clock(data["window"]["end"], f"{where}.window.end"),
    )
    if not legal[0] <= window[0] < window[1] <= legal[1]:
        raise PolicyError(f"{where}.window: must lie inside calling_window")
    return DialProfile(
        window=window,
        retry_ladder=tuple(duration(v, f"{where}.retries") for v in data["retries"]),
        max_attempts=int(data["max_attempts"]),
        calls_per_second=float(data["calls_per_second"]),
        max_concurrent=int(data["max_concurrent"]),
    )


def load_policy(path: Path | str | None = None) -> Policy:
    path = Path(path or POLICY_FILE)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path.name}: cannot be read: {exc}") from None
    try:
        anomaly = data["anomaly"]
        rules = anomaly["rules"]
        for name in rules:
            int(rules[name]["weight"])
        _no_unknown_retries(data["retries"]["unknown"], f"{path.name}: retries.unknown")
        window = (
            clock(data["calling_window"]["start"], "calling_window.start"),
            clock(data["calling_window"]["end"], "calling_window.end"),
        )
        policy = Policy(
            version=int(data["version"]),
            deadlines={k: duration(v, f"deadlines.{k}") for k, v in data["deadlines"].items()},
            triggers=data["triggers"],
            anomaly=anomaly,
            window_start=window[0],
            window_end=window[1],
            cap_per_day=int(data["caps"]["per_day"]),
            cap_per_7_days=int(data["caps"]["per_7_days"]),
            calls_per_second=float(data["pacing"]["calls_per_second"]),
            max_concurrent_calls=int(data["pacing"]["max_concurrent_calls"]),
            retry_no_answer=tuple(
                duration(v, "retries.no_answer") for v in data["retries"]["no_answer"]
            ),
            retry_machine=_machine_retries(
                data["retries"]["machine"], f"{path.name}: retries.machine"
            ),
            max_attempts=int(data["retries"]["max_attempts"]),
            lease=duration(data["lease"], "lease"),
            velocity_window=duration(
                rules.get("velocity", {}).get("window", "10m"), "anomaly.rules.velocity.window"
            ),
            campaign_defaults=_campaign_defaults(data["campaign_defaults"], window),
            quiet_after_call=duration(data["quiet_after_call"], "quiet_after_call"),
        )
    except (KeyError, TypeError) as exc:
        raise PolicyError(f"{path.name}: missing or malformed {exc}") from None
    if set(policy.deadlines) != {"high", "medium", "low"}:
        raise PolicyError(f"{path.name}: deadlines needs high, medium and low")
    if policy.calls_per_second <= 0 or policy.max_concurrent_calls < 1:
        raise PolicyError(f"{path.name}: pacing must allow at least one call")
    return policy

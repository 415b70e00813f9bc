"""The callback policy file (config/callback_policy.yaml): thresholds live there, not in code.

Read by the shared loader (app/policy.py): each field below declares the key of the file it
fills, and a missing key, a wrong value or a key no field declares stops the app at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any, ClassVar

from app.policy import (
    PolicyError,
    clock,
    duration,
    load,
    mapping,
    only_keys,
    positive_duration,
    setting,
    whole_number,
)

POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "callback_policy.yaml"


#: The only retry an answering machine gets: the opening of the next day's calling hours.
NEXT_WINDOW = "next_window"
PRIORITIES = ("high", "medium", "low")


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


# ----- values -----


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(f"{where}: {value!r} is not a number")
    return float(value)


def _durations(value: Any, where: str) -> tuple[timedelta, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{where}: a list of durations, e.g. [10m, 30m, 2h]")
    return tuple(duration(item, where) for item in value)


def _deadlines(value: Any, where: str) -> dict[str, timedelta]:
    deadlines = {
        key: duration(item, f"{where}.{key}") for key, item in mapping(value, where).items()
    }
    if set(deadlines) != set(PRIORITIES):
        raise PolicyError(f"{where}: needs high, medium and low")
    return deadlines


def _triggers(value: Any, where: str) -> dict[str, dict[str, str]]:
    triggers = {}
    for kind, item in mapping(value, where).items():
        read = only_keys(item, f"{where}.{kind}", {"flow"}, {"priority"})
        trigger = {key: str(text) for key, text in read.items()}
        if "priority" in trigger and trigger["priority"] not in PRIORITIES:
            raise PolicyError(f"{where}.{kind}.priority: {trigger['priority']!r} is not a priority")
        triggers[kind] = trigger
    return triggers


def _anomaly_rules(value: Any, where: str) -> dict[str, dict[str, Any]]:
    rules = {}
    for name, item in mapping(value, where).items():
        rule = mapping(item, f"{where}.{name}")
        if "weight" not in rule:
            raise PolicyError(f"{where}.{name}.weight: missing")
        int(rule["weight"])
        rules[name] = rule
    return rules


def _bands(value: Any, where: str) -> dict[str, float]:
    bands = only_keys(value, where, {"high", "medium"})
    return {name: _number(score, f"{where}.{name}") for name, score in bands.items()}


def _calls_per_second(value: Any, where: str) -> float:
    rate = _number(value, where)
    if rate <= 0:
        raise PolicyError(f"{where}: pacing must allow at least one call")
    return rate


def _machine_retries(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(f"{where}: a list of retries, e.g. [next_window, next_window]")
    for item in value:
        if item != NEXT_WINDOW:
            raise PolicyError(
                f"{where}: {item!r} is not supported; an answering machine is tried again only "
                f"at the next day's calling hours ({NEXT_WINDOW})"
            )
    return tuple(value)


def _no_unknown_retries(value: Any, where: str) -> tuple[()]:
    if value != []:
        raise PolicyError(
            f"{where}: must be [] - an attempt whose outcome is unknown may have placed a call; "
            f"it is reconciled with the carrier, never re-dialed"
        )
    return ()


def _campaign_defaults(value: Any, where: str) -> DialProfile:
    data = only_keys(
        value, where, {"window", "calls_per_second", "max_concurrent", "max_attempts", "retries"}
    )
    window = only_keys(data["window"], f"{where}.window", {"start", "end"})
    return DialProfile(
        window=(
            clock(window["start"], f"{where}.window.start"),
            clock(window["end"], f"{where}.window.end"),
        ),
        retry_ladder=_durations(data["retries"], f"{where}.retries"),
        max_attempts=whole_number(1)(data["max_attempts"], f"{where}.max_attempts"),
        calls_per_second=_calls_per_second(data["calls_per_second"], f"{where}.calls_per_second"),
        max_concurrent=whole_number(1)(data["max_concurrent"], f"{where}.max_concurrent"),
    )


# ----- the policy -----


@dataclass(frozen=True)
class Policy:
    #: Fields the file states only as a promise the loader checks; nothing else reads them.
    CHECKED_ONLY: ClassVar[frozenset[str]] = frozenset({"retry_unknown"})

    version: int
    #: How soon a callback of each priority must be placed.
    deadlines: dict[str, timedelta] = field(metadata=setting("deadlines", _deadlines))
    #: Which trigger gets which flow and priority (a transaction's priority: its score).
    triggers: dict[str, dict[str, str]] = field(metadata=setting("triggers", _triggers))
    #: A transaction's statistics cover this many days of the customer's past ones, at most so many.
    history_days: int = field(metadata=setting("anomaly.history_days", whole_number(1)))
    history_max: int = field(metadata=setting("anomaly.history_max", whole_number(1)))
    #: Fewer past transactions: the amount rules do not fire.
    min_history: int = field(metadata=setting("anomaly.min_history", whole_number(0)))
    #: Each anomaly rule's weight and thresholds, by name (read through `rule`).
    anomaly_rules: dict[str, dict[str, Any]] = field(
        metadata=setting("anomaly.rules", _anomaly_rules)
    )
    #: A score at or above this queues a call, with the priority of the highest band reached.
    call_at: float = field(metadata=setting("anomaly.call_at", _number))
    priority_bands: dict[str, float] = field(metadata=setting("anomaly.priority_bands", _bands))
    window_start: time = field(metadata=setting("calling_window.start", clock))
    window_end: time = field(metadata=setting("calling_window.end", clock))
    cap_per_day: int = field(metadata=setting("caps.per_day", whole_number(0)))
    cap_per_7_days: int = field(metadata=setting("caps.per_7_days", whole_number(0)))
    calls_per_second: float = field(metadata=setting("pacing.calls_per_second", _calls_per_second))
    max_concurrent_calls: int = field(
        metadata=setting("pacing.max_concurrent_calls", whole_number(1))
    )
    retry_no_answer: tuple[timedelta, ...] = field(
        metadata=setting("retries.no_answer", _durations)
    )
    #: One entry per retry an answering machine gets: next_window.
    retry_machine: tuple[str, ...] = field(metadata=setting("retries.machine", _machine_retries))
    #: Always empty: an unknown outcome is reconciled with the carrier, never re-dialed.
    retry_unknown: tuple[()] = field(metadata=setting("retries.unknown", _no_unknown_retries))
    max_attempts: int = field(metadata=setting("retries.max_attempts", whole_number(1)))
    lease: timedelta = field(metadata=setting("lease", positive_duration))
    campaign_defaults: DialProfile = field(
        metadata=setting("campaign_defaults", _campaign_defaults)
    )
    #: After a call we placed ends, nobody rings that number again for this long, unless the
    #: call itself asked for the next one (its own retry); read as `Policy.quiet_after_call`.
    quiet_after_call: timedelta = field(metadata=setting("quiet_after_call", duration))
    #: The velocity rule's window (anomaly.rules.velocity.window; ten minutes if not given).
    velocity_window: timedelta = field(
        default=timedelta(minutes=10),
        metadata=setting("anomaly.rules.velocity.window", positive_duration),
    )

    def __post_init__(self) -> None:
        start, end = self.campaign_defaults.window
        if not self.window_start <= start < end <= self.window_end:
            raise PolicyError("campaign_defaults.window: must lie inside calling_window")

    def rule(self, name: str) -> dict[str, Any]:
        return self.anomaly_rules.get(name) or {}

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


def load_policy(path: Path | str | None = None) -> Policy:
    return load(Policy, path or POLICY_FILE)

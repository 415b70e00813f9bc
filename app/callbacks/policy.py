"""The callback policy file (config/callback_policy.yaml): thresholds live there, not in code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.policy import PolicyError, clock, duration

POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "callback_policy.yaml"


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
    retry_machine: int  # how many "next window" retries an answering machine gets
    max_attempts: int
    lease: timedelta
    velocity_window: timedelta

    def rule(self, name: str) -> dict[str, Any]:
        return self.anomaly["rules"].get(name) or {}


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
        policy = Policy(
            version=int(data["version"]),
            deadlines={k: duration(v, f"deadlines.{k}") for k, v in data["deadlines"].items()},
            triggers=data["triggers"],
            anomaly=anomaly,
            window_start=clock(data["calling_window"]["start"], "calling_window.start"),
            window_end=clock(data["calling_window"]["end"], "calling_window.end"),
            cap_per_day=int(data["caps"]["per_day"]),
            cap_per_7_days=int(data["caps"]["per_7_days"]),
            calls_per_second=float(data["pacing"]["calls_per_second"]),
            max_concurrent_calls=int(data["pacing"]["max_concurrent_calls"]),
            retry_no_answer=tuple(
                duration(v, "retries.no_answer") for v in data["retries"]["no_answer"]
            ),
            retry_machine=len(data["retries"]["machine"]),
            max_attempts=int(data["retries"]["max_attempts"]),
            lease=duration(data["lease"], "lease"),
            velocity_window=duration(
                rules.get("velocity", {}).get("window", "10m"), "anomaly.rules.velocity.window"
            ),
        )
    except (KeyError, TypeError) as exc:
        raise PolicyError(f"{path.name}: missing or malformed {exc}") from None
    if set(policy.deadlines) != {"high", "medium", "low"}:
        raise PolicyError(f"{path.name}: deadlines needs high, medium and low")
    if policy.calls_per_second <= 0 or policy.max_concurrent_calls < 1:
        raise PolicyError(f"{path.name}: pacing must allow at least one call")
    return policy

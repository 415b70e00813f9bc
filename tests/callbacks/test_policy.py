"""The callback policy file: every key is read, and a value nothing could honour is refused."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from app.callbacks.policy import POLICY_FILE, PolicyError, load_policy


def policy_with(tmp_path: Path, old: str, new: str) -> Path:
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "callback_policy.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_shipped_policy_loads_with_its_machine_retries_and_campaign_defaults():
    policy = load_policy()

    assert policy.retry_machine == ("next_window", "next_window")
    assert policy.campaign_defaults.window == (time(9), time(19))
    assert policy.campaign_defaults.retry_ladder == (timedelta(minutes=30), timedelta(hours=2))
    assert policy.frequency_caps == ((timedelta(days=1), 3), (timedelta(days=7), 7))
    assert policy.quiet_after_call == timedelta(minutes=10)


def test_the_quiet_period_after_a_call_is_read_from_the_file(tmp_path):
    path = policy_with(tmp_path, "quiet_after_call: 10m", "quiet_after_call: 30m")
    assert load_policy(path).quiet_after_call == timedelta(minutes=30)

    with pytest.raises(PolicyError, match="quiet_after_call: 'soon' is not a duration"):
        load_policy(policy_with(tmp_path, "quiet_after_call: 10m", "quiet_after_call: soon"))


def test_a_machine_retry_other_than_next_window_is_refused(tmp_path):
    path = policy_with(
        tmp_path, "machine: [next_window, next_window]", "machine: [next_window, 2h]"
    )

    with pytest.raises(PolicyError, match=r"retries.machine: '2h' is not supported"):
        load_policy(path)


def test_fewer_machine_retries_are_honoured(tmp_path):
    path = policy_with(tmp_path, "machine: [next_window, next_window]", "machine: [next_window]")

    assert load_policy(path).retry_machine == ("next_window",)


def test_retries_for_an_unknown_outcome_are_refused_it_is_reconciled_never_redialed(tmp_path):
    path = policy_with(tmp_path, "unknown: []", "unknown: [10m]")

    with pytest.raises(PolicyError, match=r"retries.unknown: must be \[\]"):
        load_policy(path)


def test_a_campaign_default_window_outside_the_calling_hours_is_refused(tmp_path):
    path = policy_with(tmp_path, 'window: {start: "09:00"', 'window: {start: "07:00"')

    with pytest.raises(PolicyError, match=r"campaign_defaults\.window"):
        load_policy(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  low: 72h\n", "", r"deadlines: needs high, medium and low"),
        (
            "calls_per_second: 1\n  max_concurrent_calls",
            "calls_per_second: 0\n  max_concurrent_calls",
            r"pacing\.calls_per_second: pacing must allow at least one call",
        ),
        ("max_concurrent_calls: 10", "max_concurrent_calls: 0", r"pacing\.max_concurrent_calls"),
        ("      weight: 40\n", "", r"anomaly\.rules\.amount_vs_median\.weight: missing"),
        (
            "  max_attempts: 3\n",
            "  max_attempts: 3\n  ring_for: 30s\n",
            r"campaign_defaults\.ring_for",
        ),
    ],
)
def test_a_value_nothing_could_honour_is_refused_naming_the_key(tmp_path, old, new, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(policy_with(tmp_path, old, new))

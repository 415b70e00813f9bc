"""Dial-time rules, as pure decisions: given what we know of a callback, dial, put off, or finish.

Nothing here reads or writes the database: the dialer and the after-call step gather the facts,
ask these functions, and hand the decision to `lifecycle` to carry out. So every rule can be
tested with plain values (tests/callbacks/test_rules.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.callbacks.caps import FrequencyCap
from app.callbacks.models import DialHold
from app.callbacks.policy import NEXT_WINDOW, DialProfile, Policy
from app.callbacks.window import next_day_opening, next_opening
from app.outcomes import Outcome

# Why a callback waits (`Callback.waiting_for`, kept in English; the console shows each in its
# reader's words by these same texts, and `{start}`-like parts as they are).
IN_A_CALL = "the number is in a call with us"
QUIET_PERIOD = "the quiet period after a call"
CAMPAIGN_PAUSED = "campaign paused"
CAMPAIGN_FULL = "the campaign's concurrent calls"
CAMPAIGN_PACING = "the campaign's pacing"
CALLING_HOURS = "calling hours ({start}-{end} local)"
FREQUENCY_CAP = "frequency cap"
NEXT_RETRY = "the next retry"

#: A held callback (its campaign paused) waits until this moment: until it is released.
PAUSED_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
#: A campaign at its concurrent-call limit is asked again this much later.
GROUP_FULL_RETRY = timedelta(seconds=5)
#: A number in a call with us is asked about again at least this much later (or after the quiet
#: period, whichever is longer): the call must end first.
IN_CALL_RETRY = timedelta(minutes=1)
#: A call that has not reported its end after this long is no longer taken as live (the reaper
#: asks the carrier about it after an hour): a lost status report never blocks a number for good.
LIVE_CALL_LIMIT = timedelta(hours=2)


@dataclass(frozen=True)
class Dial:
    """Place the call now."""


@dataclass(frozen=True)
class PutOff:
    """Not now: queue it again for `until`, saying why (`reason` is shown to supervisors).

    A retry put off past the callback's deadline gives up (unreachable) unless `may_give_up` is
    false (a held callback waits for its campaign, whatever the deadline).
    """

    until: datetime
    reason: str
    may_give_up: bool = True


@dataclass(frozen=True)
class Finish:
    """End the callback with this outcome."""

    outcome: Outcome
    reason: str
    notify: bool = False  # a text asks the customer to call us back


Decision = Dial | PutOff | Finish


@dataclass(frozen=True)
class DialFacts:
    """What the dialer knows about one claimed callback when it decides."""

    profile: DialProfile
    zones: tuple[str, ...]  # the callee's possible time zones; empty when unknown
    in_campaign: bool = False
    hold: DialHold | None = None
    do_not_call: str | None = None  # the number's do-not-call scope: "all", "campaigns" or none
    recent_starts: Sequence[datetime] = ()  # the customer's counted attempts (frequency cap)
    group_in_flight: int = 0  # its campaign's calls under way
    group_slot_at: datetime | None = None  # when its campaign's pacing allows the next call
    line: Line | None = None  # the number's calls with us: live now, or the last one's end


@dataclass(frozen=True)
class Line:
    """What we know of the calls on the callback's number (either way, any matter)."""

    in_call: bool = False  # a call with us is live on it now
    last_ended_at: datetime | None = None  # when the last call we placed to it ended
    asked_by_last_call: bool = False  # that call was this callback's own: it asked for the next


def on_the_line(line: Line, quiet: timedelta, now: datetime) -> PutOff | None:
    """One call at a time per person: none while the number is in a call with us, and none
    within the quiet period after one, unless that call asked for this one (its own retry)."""
    if line.in_call:
        return PutOff(now + max(quiet, IN_CALL_RETRY), IN_A_CALL)
    if line.last_ended_at is not None and not line.asked_by_last_call:
        quiet_until = line.last_ended_at + quiet
        if quiet_until > now:
            return PutOff(quiet_until, QUIET_PERIOD)
    return None


def at_dial_time(facts: DialFacts, policy: Policy, now: datetime) -> Decision:
    """Whether a claimed callback may be dialed now, in the order the checks always ran."""
    profile = facts.profile
    if facts.hold is DialHold.CANCELLED:
        return Finish(Outcome.CANCELLED, "campaign cancelled")
    if facts.hold is DialHold.PAUSED:
        return PutOff(PAUSED_UNTIL, CAMPAIGN_PAUSED, may_give_up=False)
    if profile.max_concurrent is not None and facts.group_in_flight >= profile.max_concurrent:
        return PutOff(now + GROUP_FULL_RETRY, CAMPAIGN_FULL)
    if facts.group_slot_at is not None and facts.group_slot_at > now:
        return PutOff(facts.group_slot_at, CAMPAIGN_PACING)
    if facts.do_not_call == "all" or (facts.do_not_call is not None and facts.in_campaign):
        return Finish(Outcome.CANCELLED, "the number is on the do-not-call list")
    if facts.line is not None and (busy := on_the_line(facts.line, policy.quiet_after_call, now)):
        return busy
    start, end = profile.window
    opening = next_opening(now, facts.zones, start, end)
    if opening is None:
        return Finish(
            Outcome.UNREACHABLE,
            "no calling hours: the callee's time zone is unknown or has no window",
        )
    if opening > now:
        return PutOff(opening, CALLING_HOURS.format(start=f"{start:%H:%M}", end=f"{end:%H:%M}"))
    allowed_at = FrequencyCap.of(policy).lifts_at(facts.recent_starts, now)
    if allowed_at is not None:
        return PutOff(allowed_at, FREQUENCY_CAP)
    return Dial()


@dataclass(frozen=True)
class AfterCall:
    """What follows an unanswered call: a retry or the end, and whether a machine retry is used."""

    decision: PutOff | Finish
    machine_retry: bool = False


def after_unanswered_call(
    *,
    profile: DialProfile,
    zones: tuple[str, ...],
    machine: bool,
    attempts: int,
    machine_retries: int,
    due_by: datetime,
    hold: DialHold | None,
    policy: Policy,
    now: datetime,
) -> AfterCall:
    """The retry after a call that decided nothing (no answer, busy, an answering machine)."""
    retry_at: datetime | None = None
    machine_retry = False
    if machine and machine_retries < len(policy.retry_machine):
        machine_retry = True
        kind = policy.retry_machine[machine_retries]
        if kind == NEXT_WINDOW:  # the only kind the loader accepts
            retry_at = next_day_opening(now, zones, *policy.calling_window)
    elif not machine:
        unanswered = attempts - machine_retries
        if 1 <= unanswered <= len(profile.retry_ladder):
            retry_at = now + profile.retry_ladder[unanswered - 1]
    if hold is DialHold.PAUSED and retry_at is not None:
        retry_at = min(PAUSED_UNTIL, due_by)  # waits for the campaign to resume
    if retry_at is None or attempts >= profile.max_attempts or retry_at > due_by:
        return AfterCall(
            Finish(
                Outcome.UNREACHABLE, "no answer within the attempts and the deadline", notify=True
            ),
            machine_retry,
        )
    return AfterCall(PutOff(retry_at, NEXT_RETRY), machine_retry)


def gives_up(attempts: int, due_by: datetime, until: datetime) -> bool:
    """A retry put off past the deadline gives up; a first call is still made, late."""
    return attempts > 0 and until > due_by

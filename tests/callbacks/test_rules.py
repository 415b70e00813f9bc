"""Dial-time rules as pure decisions: no database, no app, only facts, the policy and a time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import pytest

from app.callbacks.models import DialHold
from app.callbacks.policy import DialProfile, load_policy
from app.callbacks.rules import (
    PAUSED_UNTIL,
    Dial,
    DialFacts,
    Finish,
    Line,
    PutOff,
    after_unanswered_call,
    at_dial_time,
)
from app.outcomes import Outcome

POLICY = load_policy()
ROME = ("Europe/Rome",)
# 10:00 UTC: 11:00 in Rome, inside calling hours.
MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def facts(**changes) -> DialFacts:
    return dataclasses.replace(DialFacts(profile=POLICY.profile(None), zones=ROME), **changes)


def campaign_profile(**changes) -> DialProfile:
    profile = DialProfile(
        window=(time(9), time(19)),
        retry_ladder=(timedelta(minutes=30), timedelta(hours=2)),
        max_attempts=3,
        calls_per_second=1.0,
        max_concurrent=2,
    )
    return dataclasses.replace(profile, **changes)


def test_a_callback_inside_calling_hours_with_nothing_against_it_is_dialed():
    assert at_dial_time(facts(), POLICY, MORNING) == Dial()


def test_outside_calling_hours_it_waits_for_the_callees_morning():
    night = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 23:00 in Rome

    decision = at_dial_time(facts(), POLICY, night)

    assert decision == PutOff(
        datetime(2026, 11, 24, 7, 0, tzinfo=UTC), "calling hours (08:00-21:00 local)"
    )


def test_an_unknown_time_zone_has_no_calling_hours_and_ends_unreachable():
    decision = at_dial_time(facts(zones=()), POLICY, MORNING)

    assert isinstance(decision, Finish) and decision.outcome is Outcome.UNREACHABLE


def test_do_not_call_ends_a_callback_and_a_campaign_opt_out_ends_only_campaign_calls():
    assert at_dial_time(facts(do_not_call="all"), POLICY, MORNING) == Finish(
        Outcome.CANCELLED, "the number is on the do-not-call list"
    )
    assert at_dial_time(facts(do_not_call="campaigns"), POLICY, MORNING) == Dial()
    campaign = facts(do_not_call="campaigns", in_campaign=True, profile=campaign_profile())
    assert at_dial_time(campaign, POLICY, MORNING).outcome is Outcome.CANCELLED


def test_the_daily_cap_puts_the_call_off_until_the_oldest_call_of_the_day_is_a_day_old():
    starts = [MORNING - timedelta(hours=h) for h in (1, 2, 3)]  # per_day: 3

    decision = at_dial_time(facts(recent_starts=starts), POLICY, MORNING)

    assert decision == PutOff(MORNING - timedelta(hours=3) + timedelta(days=1), "frequency cap")


def test_the_seven_day_cap_counts_the_week():
    starts = [MORNING - timedelta(days=d, hours=-1) for d in range(1, 8)]  # 7 in the week

    decision = at_dial_time(facts(recent_starts=starts), POLICY, MORNING)

    assert decision == PutOff(starts[-1] + timedelta(days=7), "frequency cap")


def test_a_campaigns_window_pacing_and_concurrency_come_from_the_callbacks_profile():
    early = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 08:30 in Rome: legal, before 09:00
    profile = campaign_profile()

    assert at_dial_time(facts(profile=profile, in_campaign=True), POLICY, early) == PutOff(
        datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "calling hours (09:00-19:00 local)"
    )
    full = facts(profile=profile, in_campaign=True, group_in_flight=2)
    assert at_dial_time(full, POLICY, MORNING) == PutOff(
        MORNING + timedelta(seconds=5), "the campaign's concurrent calls"
    )
    paced = facts(profile=profile, in_campaign=True, group_slot_at=MORNING + timedelta(seconds=1))
    assert at_dial_time(paced, POLICY, MORNING) == PutOff(
        MORNING + timedelta(seconds=1), "the campaign's pacing"
    )


def test_a_stored_window_never_reaches_outside_the_legal_one():
    wide = campaign_profile(window=(time(6), time(23)))

    assert POLICY.profile(wide.to_json()).window == POLICY.calling_window


def test_a_held_callback_waits_for_its_campaign_and_a_cancelled_one_ends():
    paused = at_dial_time(facts(hold=DialHold.PAUSED), POLICY, MORNING)
    cancelled = at_dial_time(facts(hold=DialHold.CANCELLED), POLICY, MORNING)

    assert paused == PutOff(PAUSED_UNTIL, "campaign paused", may_give_up=False)
    assert cancelled == Finish(Outcome.CANCELLED, "campaign cancelled")


def after(**changes):
    arguments = {
        "profile": POLICY.profile(None),
        "zones": ROME,
        "machine": False,
        "attempts": 1,
        "machine_retries": 0,
        "due_by": MORNING + timedelta(days=1),
        "hold": None,
        "policy": POLICY,
        "now": MORNING,
    }
    return after_unanswered_call(**{**arguments, **changes})


def test_an_unanswered_call_is_retried_along_the_ladder_then_given_up():
    ladder = POLICY.retry_no_answer

    assert after(attempts=1).decision == PutOff(MORNING + ladder[0], "the next retry")
    assert after(attempts=2).decision == PutOff(MORNING + ladder[1], "the next retry")
    given_up = after(attempts=POLICY.max_attempts).decision
    assert isinstance(given_up, Finish) and given_up.outcome is Outcome.UNREACHABLE
    assert given_up.notify


def test_a_retry_past_the_deadline_gives_up():
    decision = after(due_by=MORNING + timedelta(minutes=5)).decision

    assert isinstance(decision, Finish) and decision.outcome is Outcome.UNREACHABLE


def test_an_answering_machine_is_tried_again_at_the_next_days_opening_as_the_policy_says():
    first = after(machine=True)
    used_up = after(machine=True, machine_retries=len(POLICY.retry_machine))

    # 08:00 in Rome the next day.
    assert first == type(first)(
        PutOff(datetime(2026, 11, 24, 7, 0, tzinfo=UTC), "the next retry"), machine_retry=True
    )
    assert isinstance(used_up.decision, Finish) and not used_up.machine_retry


def test_a_paused_campaigns_retry_waits_within_the_deadline():
    decision = after(hold=DialHold.PAUSED).decision

    assert decision == PutOff(MORNING + timedelta(days=1), "the next retry")


@pytest.mark.parametrize(
    ("outcome", "decides"),
    [
        (Outcome.CONFIRMED, Outcome.CONFIRMED),
        (Outcome.OPTED_OUT, Outcome.CANCELLED),
        (Outcome.VOICEMAIL, None),
        (Outcome.UNREACHABLE, None),
    ],
)
def test_which_call_outcomes_decide_a_callback(outcome, decides):
    assert outcome.decides_callback is decides


# ----- one call at a time per person -----

QUIET = POLICY.quiet_after_call


def test_a_number_in_a_call_with_us_waits_for_the_call_and_its_quiet_period():
    decision = at_dial_time(facts(line=Line(in_call=True)), POLICY, MORNING)

    assert decision == PutOff(MORNING + QUIET, "the number is in a call with us")


def test_after_a_call_on_the_number_another_matter_waits_for_the_quiet_period():
    ended = MORNING - timedelta(minutes=4)

    decision = at_dial_time(facts(line=Line(last_ended_at=ended)), POLICY, MORNING)

    assert decision == PutOff(ended + QUIET, "the quiet period after a call")


def test_the_quiet_period_over_the_number_is_rung():
    ended = MORNING - QUIET

    assert at_dial_time(facts(line=Line(last_ended_at=ended)), POLICY, MORNING) == Dial()


def test_a_call_that_asked_for_this_callback_needs_no_quiet_period():
    """Its own retry (the flow or the retry ladder scheduled it): the person expects it."""
    line = Line(last_ended_at=MORNING - timedelta(minutes=1), asked_by_last_call=True)

    assert at_dial_time(facts(line=line), POLICY, MORNING) == Dial()


def test_without_a_quiet_period_a_number_in_a_call_is_still_asked_again_later():
    no_quiet = dataclasses.replace(POLICY, quiet_after_call=timedelta(0))

    decision = at_dial_time(facts(line=Line(in_call=True)), no_quiet, MORNING)

    assert isinstance(decision, PutOff) and decision.until > MORNING
    assert at_dial_time(facts(line=Line(last_ended_at=MORNING)), no_quiet, MORNING) == Dial()


def test_do_not_call_still_ends_a_callback_whose_number_is_in_a_call():
    decision = at_dial_time(facts(line=Line(in_call=True), do_not_call="all"), POLICY, MORNING)

    assert isinstance(decision, Finish) and decision.outcome is Outcome.CANCELLED

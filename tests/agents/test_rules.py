"""The agents' pure rules."""

from __future__ import annotations

from app.agents import rules
from app.agents.models import Disposition
from app.callbacks.models import Priority
from app.outcomes import CALLBACK_OUTCOMES, Outcome


def test_a_callbacks_priority_is_the_callers_queue_priority():
    assert [rules.queue_priority(p.value) for p in Priority] == [3, 2, 1]
    assert rules.queue_priority(None) == 1


def test_every_disposition_decides_the_matter_with_an_outcome_a_callback_may_end_with():
    assert set(rules.DISPOSITION_OUTCOMES) == set(Disposition)
    decided = {outcome for outcome in rules.DISPOSITION_OUTCOMES.values() if outcome}
    assert decided <= CALLBACK_OUTCOMES
    assert rules.DISPOSITION_OUTCOMES[Disposition.CONFIRMED] is Outcome.CONFIRMED
    assert rules.DISPOSITION_OUTCOMES[Disposition.DENIED] is Outcome.DENIED
    assert rules.DISPOSITION_OUTCOMES[Disposition.FOLLOW_UP] is None

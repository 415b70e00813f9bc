"""Satisfaction: the 1-5 answers to "how satisfied are you?", asked at the end of verification
calls (and of closed complaints), kept one per call so that a replayed webhook adds nothing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor, record
from app.callbacks.models import Satisfaction

#: A low score's reasons, as the flows' reason menu numbers them (1, 2, 3).
REASONS = {"1": "too_long", "2": "not_clear", "3": "other"}
LOW_SCORES = (1, 2)


def record_call_answer(
    session: Session,
    *,
    call_id: uuid.UUID,
    flow: str,
    customer_id: uuid.UUID | None,
    score: int,
    reason_key: str | None,
    now: datetime,
    actor: Actor,
) -> Satisfaction:
    """Keep a call's answer once; the same call again answers what was kept first."""
    kept = session.scalar(select(Satisfaction).where(Satisfaction.call_id == call_id))
    if kept is not None:
        return kept
    answer = Satisfaction(
        call_id=call_id,
        flow=flow,
        customer_id=customer_id,
        score=score,
        reason=REASONS.get(reason_key or "") if score in LOW_SCORES else None,
        created_at=now,
    )
    session.add(answer)
    session.flush()
    record(
        session,
        actor=actor,
        action="satisfaction.recorded",
        subject_type="call",
        subject_id=call_id,
        changes={"score": score, "reason": answer.reason, "flow": flow},
    )
    return answer

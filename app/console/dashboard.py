"""The dashboard screen: the numbers supervisors watch, read straight from the database,
and the live part the page polls every few seconds."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import format_decimal, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.agents import service as agents
from app.agents.models import QueueEntry
from app.authenticity.service import report_stats
from app.callbacks import do_not_call
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    Priority,
    Satisfaction,
)
from app.calls.models import Call, CallStatus
from app.complaints.models import Complaint, ComplaintStatus
from app.console.blueprint import bp, now, requires_role
from app.console.callbacks import phone_shown
from app.extensions import db
from app.i18n import label, time_of_day
from app.messaging.models import MessageState, OutboxMessage
from app.messaging.outbox import overdue_webhooks
from app.outcomes import Outcome
from app.staff.auth import READ
from app.staff.models import StaffUser
from app.verification.models import AttemptResult, VerificationAttempt

SATISFACTION_SAMPLE = 5000
#: The complaints' categories, as the chart names them.
CATEGORIES: dict[str, Any] = {
    "payments": _l("Payments"),
    "cards": _l("Cards"),
    "account_access": _l("Access to the account"),
    "verification_calls": _l("Our verification calls"),
    "fraud_scam": _l("Fraud or scam"),
    "other": _l("Other"),
}


SATISFACTION_DAYS = 30


@bp.get("/")
@requires_role(READ)
def dashboard() -> str:
    session, moment = db.session(), now()
    return render_template(
        "console/dashboard.html",
        data=_shown(snapshot(session, now=moment)),
        satisfaction=satisfaction_figures(session, now=moment),
    )


def _figures(rows: list[tuple[Any, int, int, int]]) -> list[dict[str, Any]]:
    """(key, answers, sum of scores, answers of 1 or 2) as average, count and share of 1-2."""
    return [
        {
            "key": key,
            "answers": count,
            "average": round(total / count, 1),
            "average_shown": format_decimal(round(total / count, 1)),
            "low_share": round(100 * low / count),
        }
        for key, count, total, low in rows
        if count
    ]


def satisfaction_figures(session: Session, *, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """The last 30 days' answers to "how satisfied are you?", by flow and by agent."""
    since = now - timedelta(days=SATISFACTION_DAYS)
    low = func.sum(case((Satisfaction.score <= 2, 1), else_=0))
    measures = (func.count(), func.sum(Satisfaction.score), low)
    by_flow = session.execute(
        select(Satisfaction.flow, *measures)
        .where(Satisfaction.created_at >= since, Satisfaction.flow.is_not(None))
        .group_by(Satisfaction.flow)
        .order_by(Satisfaction.flow)
    ).all()
    # The agent of an answer is the one who talked with the caller on that call (its queue entry).
    by_agent = session.execute(
        select(StaffUser.name, *measures)
        .join(QueueEntry, QueueEntry.call_id == Satisfaction.call_id)
        .join(StaffUser, StaffUser.id == QueueEntry.agent_id)
        .where(Satisfaction.created_at >= since, QueueEntry.answered_at.is_not(None))
        .group_by(StaffUser.id, StaffUser.name)
        .order_by(StaffUser.name)
    ).all()
    return {
        "by_flow": _figures([(r[0], r[1], r[2] or 0, r[3] or 0) for r in by_flow]),
        "by_agent": _figures([(r[0], r[1], r[2] or 0, r[3] or 0) for r in by_agent]),
    }


@bp.get("/live")
@requires_role(READ, background=True)
def live() -> str:
    return render_template("console/_live.html", data=_shown(snapshot(db.session(), now=now())))


def _shown(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with what the charts say in the reader's words: each hour in their zone
    (named), each outcome by its label, the charts' titles."""
    by_hour = data["outcomes_per_hour"]
    data["charts"] = {
        "hours": [time_of_day(hour) for hour in by_hour["hours"]],
        "series": [
            {"key": key, "label": label(Outcome(key)), "values": values}
            for key, values in by_hour["series"].items()
        ],
        "complaints": {
            "labels": [str(CATEGORIES.get(key, key)) for key in data["complaints_by_category"]],
            "values": list(data["complaints_by_category"].values()),
        },
        "spoofed": {
            "labels": [phone_shown(row["number"]) for row in data["spoofed"]],
            "values": [row["reports"] for row in data["spoofed"]],
        },
        "titles": {
            "outcomes": _("Outcomes per hour (24 h, %(zone)s)", zone=str(get_timezone())),
            "spoofed": _("Scam reports per spoofed number (7 days)"),
            "complaints": _("Open complaints by category"),
            "reports": _("Reports"),
        },
    }
    return data


def snapshot(session: Session, *, now: datetime) -> dict[str, Any]:
    day = now - timedelta(hours=24)
    queue = {
        priority: count
        for priority, count in session.execute(
            select(Callback.priority, func.count())
            .where(Callback.status == CallbackStatus.QUEUED)
            .group_by(Callback.priority)
        )
    }
    open_ = Callback.status != CallbackStatus.DONE
    due_soon = session.scalar(
        select(func.count()).where(
            open_, Callback.due_by <= now + timedelta(hours=1), Callback.due_by > now
        )
    )
    missed = session.scalar(select(func.count()).where(open_, Callback.due_by <= now))
    # Raised by the worker at 80% of their time (or 15 minutes before): the supervisor's alert.
    near = session.scalar(
        select(func.count()).where(open_, Callback.escalated_at.is_not(None), Callback.due_by > now)
    )
    in_progress = session.scalar(
        select(func.count()).where(Call.status.in_([CallStatus.RINGING, CallStatus.IN_PROGRESS]))
    )
    # By the hour each closed in (whole hours in UTC; the page names them in the reader's zone).
    hourly: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for closed_at, outcome in session.execute(
        select(Callback.closed_at, Callback.outcome).where(Callback.closed_at >= day)
    ):
        if outcome is not None and closed_at is not None:  # closed_at >= day: never NULL here
            hour = closed_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            hourly[hour][outcome.value] += 1
    verification = dict(
        session.execute(
            select(VerificationAttempt.result, func.count())
            .where(VerificationAttempt.created_at >= day)
            .group_by(VerificationAttempt.result)
        ).all()
    )
    tries = sum(verification.values())
    attempts = dict(
        session.execute(
            select(CallbackAttempt.result, func.count())
            .where(CallbackAttempt.started_at >= day, CallbackAttempt.status == AttemptStatus.ENDED)
            .group_by(CallbackAttempt.result)
        ).all()
    )
    ended = sum(attempts.values())
    scores = []
    # The newest answers of the day (a sample bounded in size: the page refreshes every few s).
    answered = (
        select(Call.variables)
        .where(Call.created_at >= day, Call.answered_at.is_not(None))
        .order_by(Call.created_at.desc())
        .limit(SATISFACTION_SAMPLE)
    )
    for (variables,) in session.execute(answered):
        value = str((variables or {}).get("satisfaction") or "")
        if value.isdigit() and 1 <= int(value) <= 5:
            scores.append(int(value))
    complaints = dict(
        session.execute(
            select(Complaint.category, func.count())
            .where(Complaint.status.not_in([ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED]))
            .group_by(Complaint.category)
        ).all()
    )
    breached = session.scalar(
        select(func.count()).where(
            Complaint.first_response_breached_at.is_not(None)
            | Complaint.final_response_breached_at.is_not(None)
        )
    )
    escalated = session.scalar(
        select(func.count()).where(
            Complaint.escalated_at.is_not(None),
            Complaint.status.not_in([ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED]),
        )
    )
    # The supervisor's alerts from the outbox: the core system not told yet, messages given up.
    core_overdue = session.scalar(select(func.count()).where(overdue_webhooks(now)))
    given_up = session.scalar(
        select(func.count()).where(
            OutboxMessage.state == MessageState.FAILED, OutboxMessage.alerted_at >= day
        )
    )
    # The people in the loop: service level, abandonment and handle time of the day's callers.
    people = agents.figures(session, since=day, now=now)
    hours = sorted(hourly)
    outcomes = sorted({o for by in hourly.values() for o in by})
    return {
        "queue": {p.value: queue.get(p, 0) for p in Priority},
        "due_soon": due_soon or 0,
        "missed": missed or 0,
        "near_deadline": near or 0,
        "in_progress": in_progress or 0,
        "outcomes_per_hour": {
            "hours": hours,
            "series": {o: [hourly[h].get(o, 0) for h in hours] for o in outcomes},
        },
        "verification_rate": round(100 * verification.get(AttemptResult.VERIFIED, 0) / tries)
        if tries
        else None,
        "answer_rate": round(100 * attempts.get("completed", 0) / ended) if ended else None,
        "opt_outs": do_not_call.added_since(session, day),
        "satisfaction": round(sum(scores) / len(scores), 1) if scores else None,
        "satisfaction_answers": len(scores),
        "spoofed": report_stats(session, days=7, now=now)["by_number"][:8],
        "complaints_by_category": complaints,
        "complaints_breached": breached or 0,
        "complaints_escalated": escalated or 0,
        "core_overdue": core_overdue or 0,
        "messages_given_up": given_up or 0,
        "service_level": round(100 * people.service_level)
        if people.service_level is not None
        else None,
        "abandonment": round(100 * people.abandonment_rate)
        if people.abandonment_rate is not None
        else None,
        "handle_seconds": round(people.average_handle_seconds)
        if people.average_handle_seconds is not None
        else None,
    }

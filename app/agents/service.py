"""Agents and the queue: presence, skills, a caller's place, the router, answering, wrap-up.

Every change of an agent's presence or of a caller's place happens here, with its audit entry.
The interface other parts build on (the IVR's `queue` node, the desk, the Twilio conference):

    profile(session, staff) -> Agent                       # created away on first use
    set_skills(session, agent, skills, languages, actor=)  # a supervisor
    set_presence(session, agent, presence, actor=, now=)   # the agent: available / away
    enqueue(session, call=, skill=, priority=, locale=, ...) -> QueueEntry   # idempotent per call
    position(session, entry) -> int;  waited(entry, now) -> timedelta
    route(session, now=) -> list[Offer]       # THE ROUTER: ring each Offer after the commit
    expire_offers(session, now)               # unanswered offers go back; their agents go away
    accept(session, agent, entry_id, now=)    # the agent answers: connected, on_call
    transfer(session, agent, entry, skill= | to=, actor=, now=) -> Offer | None  # warm
    handoff_of(session, agent) -> Handoff | None  # the call they handed on, not wrapped up
    leave_handoff(session, agent, actor=, now=)   # ... they left its line: their own wrap-up
    hang_up(session, entry, now=)             # ended, the agent in wrap-up
    abandon(session, call_id, now)            # the caller hung up while waiting or ringing
    caller_hung_up(session, call_id, now)     # either of the two above, as the call's end says
    offer_virtual_hold(session, entry, now=)  # "we will call you back", keeping the place
    called_back(session, entry, call, now=)   # the IVR's call back is the caller's leg now
    give_up(session, entry, now=, why=)       # e.g. a virtual-hold caller who did not answer
    call_now(session, agent, matter, actor=, now=, at=) -> Callback   # progressive dialing
    calling_for(session, agent)               # our calls to customers for the agent, not over
    call_back(session, offer, policy_version=, now=)  # virtual hold: their turn, we call them
    caller_verified(session, entry, call, ...)  # ... they verified: kept for their agent
    current_entry(session, agent)             # the caller at an agent's desk, if any
    wrap_up(session, agent, entry, disposition=, notes=, follow_up_at=, actor=, now=)
                                              # (after a handoff: the first agent's own)
    can_take(session, skill, locale)          # somebody not away could take such a caller
    waiting_call_ids(session)                 # the calls whose callers wait on the line
    ringing(session, entry_id, agent_id, call_sid)           # the call ringing the agent
    agent_call(session, entry_id=, agent_id=, call_sid=, status=, now=) -> AgentCall
                                              # what the call to the agent's phone says
    figures(session, since=, now=) -> Figures # the supervisor's wall and dashboard

A callback's priority becomes a queue priority with `rules.queue_priority("high")` (3, 2, 1).
Errors are the product's: InvalidInput for a bad value (422), Conflict when the state does not
allow it (409), NotFound.

The router is atomic: on PostgreSQL it takes the caller's and the agent's rows with FOR UPDATE
SKIP LOCKED, so routers in several processes never wait on each other and never take the same
row (a caller another router holds at that moment waits for the next round, so order is strict
within one router's round); SQLite has a single writer. Everything that changes both rows takes
the caller's first, then the agent's. Two partial unique indexes are the database's own guard (one
offered-or-connected caller per agent, one open place per call). Nothing here rings anybody:
`route` answers the offers, and the worker's `route` tick (app/agents/__init__.py) hands them to
the ringers the desk and the carrier register (`app.agents.ringing`) once they are committed.
Callers and agents are named in logs by ids only.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import wakeup
from app.agents import rules
from app.agents.models import (
    OPEN_STATES,
    WAITING_STATES,
    Agent,
    AgentLanguage,
    AgentSkill,
    Disposition,
    Handoff,
    Presence,
    QueueEntry,
    QueueState,
    Skill,
)
from app.audit.service import Actor, record
from app.callbacks import lifecycle
from app.callbacks import service as callbacks
from app.callbacks.models import Callback, CallbackStatus
from app.calls.models import Call, CallDirection
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import choices, lazy_label
from app.locales import SUPPORTED_LOCALES
from app.outcomes import Outcome
from app.staff.models import StaffUser

#: Who the router and the queue's own changes are recorded as.
ROUTER = Actor("system:router")
#: How many waiting callers one round of the router considers.
ROUTE_LIMIT = 50
_VERIFIED_BY = re.compile(r"^[a-z][a-z_]{0,31}$")


@dataclass(frozen=True)
class Offer:
    """A caller offered to an agent: ring the agent's desk (after the commit) until expires_at.

    `virtual_hold`: the caller hung up to be called back, so call_id is their old, ended leg:
    the hook for the IVR, which places the call to them (`called_back` makes it their leg) once
    the agent accepts.
    """

    entry_id: uuid.UUID
    agent_id: uuid.UUID
    call_id: uuid.UUID
    expires_at: datetime
    virtual_hold: bool = False


# ----- agents -----


def profile(session: Session, staff: StaffUser) -> Agent:
    """The staff member's agent row, created away on first use."""
    agent = session.get(Agent, staff.id)
    if agent is not None:
        return agent
    try:
        with session.begin_nested():
            agent = Agent(staff_id=staff.id, presence=Presence.AWAY)
            session.add(agent)
    except IntegrityError:  # created by a concurrent request: that one
        agent = session.get_one(Agent, staff.id)
    return agent


def get_agent(session: Session, staff_id: uuid.UUID) -> Agent:
    agent = session.get(Agent, staff_id)
    if agent is None:
        raise NotFound(_l("no agent has this id"), field="agent_id")
    return agent


def set_skills(
    session: Session,
    agent: Agent,
    skills: Iterable[str],
    languages: Iterable[str],
    *,
    actor: Actor,
) -> Agent:
    """Set what an agent handles and the languages they speak (a supervisor's change)."""
    chosen_skills = sorted({_skill(value) for value in skills})
    chosen_languages = sorted({_language(value, field="languages") for value in languages})
    before = {"skills": [s.value for s in agent.skills], "languages": list(agent.languages)}
    agent.skill_rows = [AgentSkill(staff_id=agent.staff_id, skill=s) for s in chosen_skills]
    agent.language_rows = [
        AgentLanguage(staff_id=agent.staff_id, locale=lang) for lang in chosen_languages
    ]
    after = {"skills": [s.value for s in chosen_skills], "languages": chosen_languages}
    if after != before:
        record(
            session,
            actor=actor,
            action="agent.skills",
            subject_type="agent",
            subject_id=agent.staff_id,
            changes={"before": before, "after": after},
        )
    return agent


def set_presence(
    session: Session, agent: Agent, presence: Presence | str, *, actor: Actor, now: datetime
) -> Agent:
    """The agent chooses available or away. Away while ringing hands the caller back to the
    queue at once, in their place; a call in progress must be hung up first."""
    wanted = _presence(presence)
    ringing = _offer_of(session, agent)  # the caller's row first, then the agent's: one order
    _lock(session, agent)
    if ringing is None and agent.presence is Presence.RINGING:
        # A router offered them a caller in between: take that row too, without waiting (one
        # that expires, answers or hangs up that caller right now deals with it itself).
        ringing = _offer_of(session, agent, skip_locked=True)
    refused = rules.presence_refused(agent.presence, wanted)
    if refused:
        raise Conflict(refused, field="presence")
    if agent.presence is wanted:
        return agent
    if agent.presence is Presence.RINGING and ringing is not None:
        _back_to_queue(ringing)
        record(
            session,
            actor=actor,
            action="queue.returned",
            subject_type="queue_entry",
            subject_id=ringing.id,
            changes={"agent_id": agent.staff_id, "why": "the agent went away"},
        )
    _change_presence(session, agent, wanted, actor=actor, now=now)
    if wanted is Presence.AVAILABLE:
        wakeup.hint(session, "route")  # a waiting caller gets them at once
    return agent


# ----- the queue -----


def enqueue(
    session: Session,
    *,
    call: Call,
    skill: Skill | str,
    priority: int,
    locale: str,
    customer_id: uuid.UUID | None = None,
    callback_id: uuid.UUID | None = None,
    verified_by: str | None = None,
    verified_at: datetime | None = None,
    reserved_for: uuid.UUID | None = None,
    now: datetime,
) -> QueueEntry:
    """Put a caller in the queue; a call already in it answers its place (idempotent).

    `verified_by` says how the caller was verified ("app_code"): a word, never a code or digits.
    `reserved_for`: the agent the caller is kept for (we called them for that agent).
    """
    wanted_skill = _skill(skill)
    wanted_locale = _language(locale, field="locale")
    if not rules.LOWEST_PRIORITY <= priority <= rules.HIGHEST_PRIORITY:
        raise InvalidInput(
            _l(
                "priority: from %(lowest)d to %(highest)d",
                lowest=rules.LOWEST_PRIORITY,
                highest=rules.HIGHEST_PRIORITY,
            ),
            field="priority",
        )
    if verified_by is not None and not _VERIFIED_BY.match(verified_by):
        raise InvalidInput(
            _l("verified_by: how the caller was verified, as a word (app_code), never a code"),
            field="verified_by",
        )
    for _ in range(2):
        entry = open_entry(session, call.id)
        if entry is not None:
            return entry
        try:
            with session.begin_nested():
                entry = QueueEntry(
                    id=uuid.uuid4(),
                    call_id=call.id,
                    customer_id=customer_id,
                    callback_id=callback_id,
                    skill=wanted_skill,
                    priority=priority,
                    locale=wanted_locale,
                    entered_at=now,
                    state=QueueState.WAITING,
                    verified_by=verified_by,
                    verified_at=verified_at if verified_by else None,
                    reserved_for=reserved_for,
                )
                session.add(entry)
        except IntegrityError:  # the same call, enqueued at the same moment elsewhere
            continue
        record(
            session,
            actor=Actor(f"call:{call.id}"),
            action="queue.entered",
            subject_type="queue_entry",
            subject_id=entry.id,
            changes={
                "call_id": call.id,
                "skill": wanted_skill.value,
                "priority": priority,
                "locale": wanted_locale,
                "callback_id": callback_id,
                "verified_by": verified_by,
                "reserved_for": reserved_for,
            },
        )
        wakeup.hint(session, "route")  # routed at once, not at the next tick
        return entry
    raise Conflict(_l("the call's place in the queue changed while it was being made; try again"))


def open_entry(session: Session, call_id: uuid.UUID) -> QueueEntry | None:
    """The call's open place (waiting, offered, connected or on virtual hold), if any."""
    return session.scalar(
        select(QueueEntry).where(
            QueueEntry.call_id == call_id, QueueEntry.state.in_(sorted(OPEN_STATES))
        )
    )


def get_entry(session: Session, entry_id: uuid.UUID) -> QueueEntry:
    entry = session.get(QueueEntry, entry_id)
    if entry is None:
        raise NotFound(_l("no caller has this place in the queue"), field="entry_id")
    return entry


def position(session: Session, entry: QueueEntry) -> int:
    """The caller's place among those waiting for the same skill (1: next); 0 once they are
    no longer waiting (offered to an agent, connected, gone)."""
    if entry.state not in WAITING_STATES:
        return 0
    ahead = session.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.skill == entry.skill,
            QueueEntry.state.in_(WAITING_STATES),
            QueueEntry.id != entry.id,
            (QueueEntry.priority > entry.priority)
            | (
                (QueueEntry.priority == entry.priority)
                & (
                    (QueueEntry.entered_at < entry.entered_at)
                    | ((QueueEntry.entered_at == entry.entered_at) & (QueueEntry.id < entry.id))
                )
            ),
        )
    )
    return int(ahead or 0) + 1


def waited(entry: QueueEntry, now: datetime) -> timedelta:
    """How long the caller has waited (until an agent answered, or they left)."""
    until = entry.answered_at or entry.ended_at or now
    return max(timedelta(0), until - entry.entered_at)


def offer_virtual_hold(session: Session, entry: QueueEntry, *, now: datetime) -> QueueEntry:
    """The caller takes "we will call you back": they keep their place (entered_at), and when
    their turn comes the router offers them like a waiting caller (`Offer.virtual_hold`)."""
    _lock(session, entry)
    if entry.state is QueueState.VIRTUAL_HOLD:
        return entry
    if entry.state is not QueueState.WAITING:
        raise Conflict(
            _l("the caller's state is %(state)s, not waiting", state=lazy_label(entry.state)),
            field="entry_id",
        )
    entry.state, entry.virtual_hold_at = QueueState.VIRTUAL_HOLD, now
    record(
        session,
        actor=Actor(f"call:{entry.call_id}"),
        action="queue.virtual_hold",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"entered_at": entry.entered_at},
    )
    return entry


def called_back(session: Session, entry: QueueEntry, call: Call, *, now: datetime) -> QueueEntry:
    """The IVR placed the call back to a caller on virtual hold: that call is their leg from now
    on (its end is theirs: `caller_hung_up(session, call.id, ...)`)."""
    _lock(session, entry)
    if entry.virtual_hold_at is None or entry.state not in (
        QueueState.VIRTUAL_HOLD,
        QueueState.OFFERED,
    ):
        raise Conflict(_l("the caller is not waiting for our call back"), field="entry_id")
    before, entry.call_id = entry.call_id, call.id
    record(
        session,
        actor=ROUTER,
        action="queue.called_back",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"call_id": [before, call.id], "at": now},
    )
    return entry


def current_entry(session: Session, agent: Agent) -> QueueEntry | None:
    """The caller at the agent's desk: offered to them, with them, or waiting for their wrap-up
    (the latest); None when their desk is free."""
    return session.scalar(
        select(QueueEntry)
        .where(
            QueueEntry.agent_id == agent.staff_id,
            QueueEntry.state.in_([QueueState.OFFERED, QueueState.CONNECTED])
            | ((QueueEntry.state == QueueState.ENDED) & QueueEntry.wrapped_at.is_(None)),
        )
        .order_by(QueueEntry.offered_at.desc())
        .limit(1)
    )


# ----- the router -----


def route(
    session: Session,
    *,
    now: datetime,
    limit: int = ROUTE_LIMIT,
    ring_seconds: float = rules.RING_SECONDS,
) -> list[Offer]:
    """Offer waiting callers to available agents; answers the offers (at most `limit`), to ring
    after the commit.

    Callers in order (priority, then who entered first), each to the available agent who has the
    skill and speaks the language and has been idle longest. The caller is offered until
    now + ring_seconds and the agent rings; both in the caller's transaction. Only callers some
    free agent can take are read, so callers nobody free can take never hold back one behind
    them whom an agent can take.
    """
    if not session.scalar(select(exists().where(Agent.presence == Presence.AVAILABLE))):
        return []  # nobody to offer to: the callers wait (the common case under load)
    offers: list[Offer] = []
    seen: list[uuid.UUID] = []
    nobody: set[tuple[Skill, str]] = set()  # no agent left (or free to take) for these
    # Agents we are calling a customer for right now: kept for that customer, not offered others.
    calling = _calling_for_agents(session)
    while len(offers) < limit:
        batch = session.scalars(
            select(QueueEntry)
            .where(
                QueueEntry.state.in_(WAITING_STATES),
                QueueEntry.id.not_in(seen) if seen else true(),
                or_(
                    # Kept for an agent who is free now: offered to them.
                    _reserved_agent(Presence.AVAILABLE),
                    # Anyone else's caller (or one whose agent is away): a free agent can take.
                    and_(
                        ~_reserved_agent(),
                        _free_agents(QueueEntry.skill, QueueEntry.locale, calling).exists(),
                    ),
                ),
            )
            .order_by(QueueEntry.priority.desc(), QueueEntry.entered_at, QueueEntry.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        made = len(offers)
        for entry in batch:
            seen.append(entry.id)
            if len(offers) == limit:
                continue
            if entry.reserved_for is not None and _at_work(session, entry.reserved_for):
                # Kept for that agent: offered to them once they are free (another router holding
                # them now: the next round), to anyone with the skill only while they are away.
                kept = _free_agent(session, entry.reserved_for)
                if kept is not None:
                    offers.append(_offer(session, entry, kept, now=now, ring_seconds=ring_seconds))
                continue
            if (entry.skill, entry.locale) in nobody:
                continue
            agent = session.scalar(
                _free_agents(entry.skill, entry.locale, calling)
                .order_by(Agent.presence_since, Agent.staff_id)
                .limit(1)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if agent is None:  # taken by this round, or held by another router right now
                nobody.add((entry.skill, entry.locale))
                continue
            offers.append(_offer(session, entry, agent, now=now, ring_seconds=ring_seconds))
        if len(offers) == made:  # nothing more to offer: every agent left is held or unfit
            break
    session.flush()
    return offers


def _free_agents(skill: Any, locale: Any, calling: Iterable[uuid.UUID] = ()) -> Select[Agent]:
    """SQL: the available agents of active staff with this skill who speak this language (a
    caller's own values, or their columns in a correlated subquery), but for those we are
    calling a customer for (`calling`)."""
    # Everything but their own table is the enclosing query's (the agent, and the caller).
    return select(Agent).where(
        Agent.presence == Presence.AVAILABLE,
        exists()
        .where(AgentSkill.staff_id == Agent.staff_id, AgentSkill.skill == skill)
        .correlate_except(AgentSkill),
        exists()
        .where(AgentLanguage.staff_id == Agent.staff_id, AgentLanguage.locale == locale)
        .correlate_except(AgentLanguage),
        exists()
        .where(StaffUser.id == Agent.staff_id, StaffUser.active.is_(True))
        .correlate_except(StaffUser),
        Agent.staff_id.not_in(list(calling)),
    )


def _reserved_agent(presence: Presence | None = None) -> ColumnElement[bool]:
    """SQL, correlated to the caller read: the caller is kept for an agent of active staff who
    is at work (not away), or, given a `presence`, who is in it."""
    return (
        exists()
        .where(
            Agent.staff_id == QueueEntry.reserved_for,
            (Agent.presence == presence)
            if presence is not None
            else (Agent.presence != Presence.AWAY),
            exists()
            .where(StaffUser.id == Agent.staff_id, StaffUser.active.is_(True))
            .correlate_except(StaffUser),
        )
        .correlate_except(Agent)
    )


def _calling_for_agents(session: Session) -> set[uuid.UUID]:
    """The agents whose customer we are dialing or verifying right now (our agent_callback
    calls claimed or in a call)."""
    agents: set[uuid.UUID] = set()
    for variables in session.scalars(
        select(Callback.variables).where(
            Callback.flow == callbacks.AGENT_CALLBACK_FLOW,
            Callback.status.in_([CallbackStatus.CLAIMED, CallbackStatus.IN_CALL]),
        )
    ):
        with suppress(KeyError, TypeError, ValueError):
            agents.add(uuid.UUID(str(variables["agent_id"])))
    return agents


def _at_work(session: Session, staff_id: uuid.UUID) -> bool:
    """Whether the agent is at work: active and not away (available, or busy for now)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Agent.staff_id == staff_id,
                    Agent.presence != Presence.AWAY,
                    exists().where(StaffUser.id == Agent.staff_id, StaffUser.active.is_(True)),
                )
            )
        )
    )


def _free_agent(session: Session, staff_id: uuid.UUID) -> Agent | None:
    """The agent, locked, if they are available and no other router holds them."""
    return session.scalar(
        select(Agent)
        .where(Agent.staff_id == staff_id, Agent.presence == Presence.AVAILABLE)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _offer(
    session: Session, entry: QueueEntry, agent: Agent, *, now: datetime, ring_seconds: float
) -> Offer:
    virtual_hold = entry.state is QueueState.VIRTUAL_HOLD
    expires = now + timedelta(seconds=ring_seconds)
    entry.state, entry.agent_id = QueueState.OFFERED, agent.staff_id
    entry.offered_at, entry.offer_expires_at = now, expires
    agent.presence, agent.presence_since = Presence.RINGING, now
    record(
        session,
        actor=ROUTER,
        action="queue.offered",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": agent.staff_id, "expires_at": expires, "virtual_hold": virtual_hold},
    )
    return Offer(entry.id, agent.staff_id, entry.call_id, expires, virtual_hold)


def expire_offers(session: Session, now: datetime) -> int:
    """Offers nobody answered in time go back to the queue, in their place; each agent who
    missed one goes away (as Flex does), so callers are not offered to an empty desk again.
    Answers how many."""
    expired = session.scalars(
        select(QueueEntry)
        .where(QueueEntry.state == QueueState.OFFERED, QueueEntry.offer_expires_at <= now)
        .order_by(QueueEntry.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    for entry in expired:
        if entry.virtual_hold_at is not None:
            # Our call back ran out before the customer verified: back in their place; the
            # agent kept for them missed nothing and is free.
            _missed(
                session, entry, why="our call back ran out", now=now, agent_to=Presence.AVAILABLE
            )
        else:
            _missed(session, entry, why="nobody answered", now=now)
    return len(expired) + _calls_back_over(session, now)


def _missed(
    session: Session,
    entry: QueueEntry,
    *,
    why: str,
    now: datetime,
    agent_to: Presence = Presence.AWAY,
) -> None:
    """An offer the agent did not take (the entry locked): the caller goes back in their
    place, and the agent goes away (as Flex does), so callers are not offered to an empty desk
    again; `agent_to` available when it was not theirs to take (the ring was called off)."""
    agent_id = entry.agent_id
    _back_to_queue(entry)
    record(
        session,
        actor=ROUTER,
        action="queue.returned",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": agent_id, "why": why},
    )
    agent = _locked_agent(session, agent_id)
    if agent is not None and agent.presence is Presence.RINGING:
        _change_presence(session, agent, agent_to, actor=ROUTER, now=now)
        if agent_to is not Presence.AWAY:
            return
        record(
            session,
            actor=ROUTER,
            action="agent.missed",
            subject_type="agent",
            subject_id=agent.staff_id,
            changes={"entry_id": entry.id},
        )


# ----- a call with an agent -----


def accept(session: Session, agent: Agent, entry_id: uuid.UUID, *, now: datetime) -> QueueEntry:
    """The agent answers the caller offered to them: connected, and the agent on the call.
    Only that agent, and only while the offer stands."""
    entry = session.scalar(
        select(QueueEntry)
        .where(QueueEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if entry is None:
        raise NotFound(_l("no caller has this place in the queue"), field="entry_id")
    if (
        entry.state is not QueueState.OFFERED
        or entry.agent_id != agent.staff_id
        or entry.offer_expires_at is None
        or entry.offer_expires_at <= now
    ):
        raise Conflict(_l("this caller is no longer offered to you"), field="entry_id")
    if entry.virtual_hold_at is not None:
        raise Conflict(
            _l("we are calling this customer back: your desk rings once they have verified"),
            field="entry_id",
        )
    _lock(session, agent)
    entry.state, entry.answered_at = QueueState.CONNECTED, now
    call = session.get(Call, entry.call_id)
    if call is not None and call.outcome is None:
        # The caller reached a person: their matter waits for the agent's wrap-up (the end of
        # the call neither retries it nor decides it). An outcome the flow set stays.
        call.outcome = Outcome.TRANSFERRED.value
    record(
        session,
        actor=_agent_actor(agent),
        action="queue.answered",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": agent.staff_id},
    )
    _change_presence(session, agent, Presence.ON_CALL, actor=_agent_actor(agent), now=now)
    return entry


def hang_up(session: Session, entry: QueueEntry, *, now: datetime) -> QueueEntry:
    """The call with the agent ended (either side hung up): ended, the agent in wrap-up."""
    _lock(session, entry)
    if entry.state is QueueState.ENDED:
        return entry
    if entry.state is not QueueState.CONNECTED:
        raise Conflict(
            _l("the caller's state is %(state)s, not with an agent", state=lazy_label(entry.state)),
            field="entry_id",
        )
    entry.state, entry.ended_at = QueueState.ENDED, now
    record(
        session,
        actor=ROUTER,
        action="queue.ended",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": entry.agent_id},
    )
    agent = _locked_agent(session, entry.agent_id)
    if agent is not None and agent.presence is Presence.ON_CALL:
        _change_presence(session, agent, Presence.WRAP_UP, actor=ROUTER, now=now)
    if entry.callback_id is not None:
        # The caller's matter waits for the agent's wrap-up, not for a retry of the call.
        callback = session.get(Callback, entry.callback_id, with_for_update=True)
        if callback is not None:
            lifecycle.with_agent(session, callback, now=now, actor=ROUTER)
    return entry


def transfer(
    session: Session,
    agent: Agent,
    entry: QueueEntry,
    *,
    skill: Skill | str | None = None,
    to: uuid.UUID | None = None,
    actor: Actor,
    now: datetime,
    ring_seconds: float = rules.RING_SECONDS,
) -> Offer | None:
    """A warm transfer: the agent hands their caller on, to a named available agent (offered to
    them at once: ring the answered Offer after the commit) or to another skill (the caller waits
    again, first in line, for the router). The caller stays in their conference, and the first
    agent on the line until they leave it (`leave_handoff`, or their phone's end); they are in
    wrap-up from now on, and once they have left they write their own (a handoff's wrap-up:
    `wrap_up`); the caller's matter is decided by whoever ends the call."""
    if (skill is None) == (to is None):
        raise InvalidInput(_l("transfer to a skill or to an agent, one of the two"), field="to")
    wanted = _skill(skill) if skill is not None else None
    _lock(session, entry)
    if entry.agent_id != agent.staff_id or entry.state is not QueueState.CONNECTED:
        raise Conflict(_l("this caller is not on a call with you"), field="entry_id")
    colleague: Agent | None = None
    if to is not None:
        if to == agent.staff_id:
            raise InvalidInput(_l("transfer to someone else"), field="to")
        colleague = _locked_agent(session, to)
        active = colleague is not None and session.scalar(
            select(StaffUser.active).where(StaffUser.id == to)
        )
        if colleague is None or not active:
            raise NotFound(_l("no agent has this id"), field="to")
        if colleague.presence is not Presence.AVAILABLE:
            raise Conflict(_l("that agent is not available now; choose another"), field="to")
    offer: Offer | None = None
    if colleague is not None:
        offer = _offer(session, entry, colleague, now=now, ring_seconds=ring_seconds)
    else:
        assert wanted is not None
        # Waiting on the line (never virtual hold: they are in the call), first in line.
        entry.skill, entry.priority, entry.state = (
            wanted,
            rules.HIGHEST_PRIORITY,
            QueueState.WAITING,
        )
        entry.agent_id = entry.offered_at = entry.offer_expires_at = None
        wakeup.hint(session, "route")
    # The first agent's phone is no longer the caller's agent's: its end ends only their part
    # (the handoff); the router's ringer keeps the next agent's.
    handoff = Handoff(
        id=uuid.uuid4(),
        entry_id=entry.id,
        agent_id=agent.staff_id,
        agent_call_sid=entry.agent_call_sid,
        to_agent_id=to,
        to_skill=wanted,
        handed_at=now,
    )
    session.add(handoff)
    entry.agent_call_sid = None
    record(
        session,
        actor=actor,
        action="queue.transferred",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={
            "from_agent_id": agent.staff_id,
            "to_agent_id": to,
            "skill": wanted.value if wanted else None,
            "handoff_id": handoff.id,
        },
    )
    _lock(session, agent)
    if agent.presence is Presence.ON_CALL:
        _change_presence(session, agent, Presence.WRAP_UP, actor=actor, now=now)
    return offer


def abandon(session: Session, call_id: uuid.UUID, now: datetime) -> QueueEntry | None:
    """The caller hung up while waiting or ringing: abandoned; a ringing agent is free again.
    Answers the entry (None: the call was not waiting)."""
    entry = session.scalar(
        select(QueueEntry)
        .where(
            QueueEntry.call_id == call_id,
            QueueEntry.state.in_([QueueState.WAITING, QueueState.OFFERED]),
            # A caller who took virtual hold hung up on purpose: they keep their place.
            QueueEntry.virtual_hold_at.is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if entry is None:
        return None
    agent_id = entry.agent_id if entry.state is QueueState.OFFERED else None
    entry.state, entry.ended_at = QueueState.ABANDONED, now
    entry.offer_expires_at = None
    record(
        session,
        actor=Actor(f"call:{call_id}"),
        action="queue.abandoned",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": agent_id},
    )
    agent = _locked_agent(session, agent_id)
    if agent is not None and agent.presence is Presence.RINGING:
        _change_presence(session, agent, Presence.AVAILABLE, actor=ROUTER, now=now)
        wakeup.hint(session, "route")
    return entry


def caller_hung_up(session: Session, call_id: uuid.UUID, now: datetime) -> QueueEntry | None:
    """The caller's leg ended: abandoned if they were waiting or ringing, ended if they were
    with an agent; a caller who took virtual hold keeps their place until an agent is with them
    (we call them back)."""
    entry = open_entry(session, call_id)
    if entry is None or (
        entry.virtual_hold_at is not None and entry.state is not QueueState.CONNECTED
    ):
        return entry
    if entry.state is QueueState.CONNECTED:
        return hang_up(session, entry, now=now)
    return abandon(session, call_id, now)


def give_up(session: Session, entry: QueueEntry, *, now: datetime, why: str) -> QueueEntry:
    """The queue gives up on a caller not yet with an agent (e.g. a virtual-hold caller who did
    not answer our call back): abandoned, saying why; an agent it rang is free again."""
    _lock(session, entry)
    if entry.state not in (*WAITING_STATES, QueueState.OFFERED):
        raise Conflict(
            _l("the caller's state is %(state)s", state=lazy_label(entry.state)), field="entry_id"
        )
    agent_id = entry.agent_id if entry.state is QueueState.OFFERED else None
    entry.state, entry.ended_at, entry.offer_expires_at = QueueState.ABANDONED, now, None
    record(
        session,
        actor=ROUTER,
        action="queue.abandoned",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": agent_id, "why": why},
    )
    agent = _locked_agent(session, agent_id)
    if agent is not None and agent.presence is Presence.RINGING:
        _change_presence(session, agent, Presence.AVAILABLE, actor=ROUTER, now=now)
        wakeup.hint(session, "route")
    return entry


def wrap_up(
    session: Session,
    agent: Agent,
    entry: QueueEntry,
    *,
    disposition: Disposition | str,
    notes: str | None,
    follow_up_at: datetime | None,
    actor: Actor,
    now: datetime,
) -> QueueEntry:
    """The agent's disposition and notes: they decide the caller's matter (its callback, through
    the callback lifecycle), a follow-up puts the matter off to the agreed time; the agent is
    available again. An agent who handed the caller on writes their own part's wrap-up instead
    (`Handoff`): it decides nothing, the matter stays with whoever ends the call."""
    chosen = _disposition(disposition)
    notes = (notes or "").strip() or None
    if notes is not None:
        refused = rules.note_refusal(notes)
        if refused:
            raise InvalidInput(refused, field="notes", code="unsafe_notes")
    if entry.agent_id != agent.staff_id:
        handoff = _open_handoff(session, agent, entry.id)
        if handoff is not None:
            _wrap_up_handoff(
                session,
                agent,
                handoff,
                disposition=chosen,
                notes=notes,
                follow_up_at=follow_up_at,
                actor=actor,
                now=now,
            )
            return entry
    if chosen is Disposition.FOLLOW_UP:
        if follow_up_at is None:
            raise InvalidInput(_l("follow_up_at: a follow-up needs a time"), field="follow_up_at")
        if follow_up_at.tzinfo is None:
            raise InvalidInput(
                _l("follow_up_at: give the time with its zone"), field="follow_up_at"
            )
        if not now + rules.FOLLOW_UP_SOONEST <= follow_up_at <= now + rules.FOLLOW_UP_LATEST:
            raise InvalidInput(
                _l("follow_up_at: from 5 minutes to 30 days from now"), field="follow_up_at"
            )
        if entry.callback_id is None:
            raise InvalidInput(
                _l(
                    "disposition: a follow-up calls back about the caller's matter, and this "
                    "caller has none; choose another disposition and write the request in the notes"
                ),
                field="disposition",
            )
    elif follow_up_at is not None:
        raise InvalidInput(_l("follow_up_at: only a follow-up has a time"), field="follow_up_at")
    _lock(session, entry)
    if entry.agent_id != agent.staff_id:
        raise Conflict(_l("this caller was not yours"), field="entry_id")
    if entry.wrapped_at is not None:
        raise Conflict(_l("this call is wrapped up already"), field="entry_id")
    if entry.state is QueueState.CONNECTED:
        hang_up(session, entry, now=now)
    elif entry.state is not QueueState.ENDED:
        raise Conflict(
            _l("the caller's state is %(state)s", state=lazy_label(entry.state)), field="entry_id"
        )
    entry.disposition, entry.notes, entry.follow_up_at = chosen, notes, follow_up_at
    entry.wrapped_at = now
    decided = _decide_matter(session, entry, chosen, agent=agent, actor=actor, now=now)
    record(
        session,
        actor=actor,
        action="queue.wrapped_up",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={
            "disposition": chosen.value,
            "notes": notes,
            "follow_up_at": follow_up_at,
            "callback_id": entry.callback_id,
            "callback": decided,
        },
    )
    _lock(session, agent)
    if agent.presence is Presence.WRAP_UP:
        _change_presence(session, agent, Presence.AVAILABLE, actor=actor, now=now)
        wakeup.hint(session, "route")
    return entry


def handoff_of(session: Session, agent: Agent) -> Handoff | None:
    """The call the agent handed on and has not wrapped up yet (the latest), if any: on its line
    still while `left_at` is None, then theirs to wrap up."""
    return session.scalar(
        select(Handoff)
        .where(Handoff.agent_id == agent.staff_id, Handoff.wrapped_at.is_(None))
        .order_by(Handoff.handed_at.desc(), Handoff.id)
        .limit(1)
    )


def leave_handoff(session: Session, agent: Agent, *, actor: Actor, now: datetime) -> Handoff:
    """The agent leaves the line of the caller they handed on (their introduction is over):
    they stay in wrap-up, with their own to write. Leaving twice changes nothing."""
    handoff = handoff_of(session, agent)
    if handoff is None:
        raise Conflict(_l("you handed no caller on"), field="entry_id")
    _lock(session, handoff)
    if handoff.left_at is None:
        _left(session, handoff, actor=actor, why="they left the call", now=now)
    return handoff


def _open_handoff(
    session: Session, agent: Agent, entry_id: uuid.UUID, *, call_sid: str | None = None
) -> Handoff | None:
    """The agent's handoff of this caller not wrapped up yet (of this phone call, if given)."""
    query = select(Handoff).where(
        Handoff.agent_id == agent.staff_id,
        Handoff.entry_id == entry_id,
        Handoff.wrapped_at.is_(None),
    )
    if call_sid is not None:
        query = query.where(
            or_(Handoff.agent_call_sid.is_(None), Handoff.agent_call_sid == call_sid)
        )
    return session.scalar(
        query.order_by(Handoff.handed_at.desc(), Handoff.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _left(session: Session, handoff: Handoff, *, actor: Actor, why: str, now: datetime) -> None:
    handoff.left_at = now
    record(
        session,
        actor=actor,
        action="queue.handoff_left",
        subject_type="queue_entry",
        subject_id=handoff.entry_id,
        changes={"agent_id": handoff.agent_id, "handoff_id": handoff.id, "why": why},
    )


def _wrap_up_handoff(
    session: Session,
    agent: Agent,
    handoff: Handoff,
    *,
    disposition: Disposition,
    notes: str | None,
    follow_up_at: datetime | None,
    actor: Actor,
    now: datetime,
) -> None:
    """The first agent's own wrap-up of a call they handed on: their disposition and notes,
    audited as theirs; the callback is neither ended nor decided. They are available again."""
    if disposition is Disposition.FOLLOW_UP or follow_up_at is not None:
        raise InvalidInput(
            _l(
                "disposition: you handed this caller on, so the follow-up is for the agent who "
                "ends the call; choose another disposition and write the request in the notes"
            ),
            field="disposition",
        )
    if handoff.left_at is None:  # wrapping up is leaving the line
        _left(session, handoff, actor=actor, why="they wrapped up", now=now)
    handoff.disposition, handoff.notes, handoff.wrapped_at = disposition, notes, now
    record(
        session,
        actor=actor,
        action="queue.handoff_wrapped_up",
        subject_type="queue_entry",
        subject_id=handoff.entry_id,
        changes={
            "agent_id": agent.staff_id,
            "handoff_id": handoff.id,
            "disposition": disposition.value,
            "notes": notes,
        },
    )
    _lock(session, agent)
    if agent.presence is Presence.WRAP_UP:
        _change_presence(session, agent, Presence.AVAILABLE, actor=actor, now=now)
        wakeup.hint(session, "route")


def _decide_matter(
    session: Session,
    entry: QueueEntry,
    disposition: Disposition,
    *,
    agent: Agent,
    actor: Actor,
    now: datetime,
) -> str | None:
    """The callback's change the disposition makes (its lifecycle records it); answers what
    was done, for the wrap-up's audit entry.

    A follow-up is the agent's own call at the agreed time (progressive dialing, kept for them
    while they are at work, else for anyone with the skill); an open matter waits for it, its
    own call put off past that call's deadline, should ours not reach the customer."""
    if entry.callback_id is None:
        return None
    callback = session.get(Callback, entry.callback_id, with_for_update=True)
    if callback is None:
        return None
    why = f"the agent's disposition: {disposition.value}"
    if disposition is Disposition.FOLLOW_UP:
        assert entry.follow_up_at is not None
        calling = call_now(session, agent, callback, actor=actor, now=now, at=entry.follow_up_at)
        if callback.status is not CallbackStatus.DONE:
            lifecycle.follow_up(
                session,
                callback,
                entry.follow_up_at + callbacks.AGENT_CALL_DEADLINE,
                now=now,
                actor=actor,
                why=why,
            )
        return f"follow_up {calling.id}"
    if callback.status is CallbackStatus.DONE:
        return f"already {callback.outcome}"  # decided before the agent: kept as it was
    outcome = rules.DISPOSITION_OUTCOMES[disposition]
    assert outcome is not None
    lifecycle.finish(session, callback, outcome, now, actor=actor, why=why, call_id=entry.call_id)
    return outcome.value


# ----- progressive dialing: we call the customer for an agent -----


def call_now(
    session: Session,
    agent: Agent,
    matter: Callback,
    *,
    actor: Actor,
    now: datetime,
    at: datetime | None = None,
) -> Callback:
    """The agent asks us to call the customer of this matter for them, now (or at `at`: a
    follow-up): our agent_callback call greets the customer, verifies them, and only then is
    the agent rung (their caller's place is kept for them). Answers our callback that calls."""
    calling = callbacks.queue_agent_callback(
        session,
        matter,
        at=at or now,
        agent_call={"agent_id": str(agent.staff_id), "skill": rules.skill_of_flow(matter.flow)},
        actor=actor,
        now=now,
        why="an agent's follow-up" if at is not None and at > now else "an agent's call now",
    )
    record(
        session,
        actor=actor,
        action="agent.call_now" if at is None or at <= now else "agent.call_scheduled",
        subject_type="agent",
        subject_id=agent.staff_id,
        changes={"callback_id": matter.id, "calling": calling.id, "at": at or now},
    )
    return calling


def calling_for(session: Session, agent: Agent) -> list[Callback]:
    """Our calls to customers for this agent not over yet (their desk says "calling the
    customer…" while one is dialed or the customer is being verified)."""
    mine = str(agent.staff_id)
    return [
        callback
        for callback in session.scalars(
            select(Callback)
            .where(
                Callback.flow == callbacks.AGENT_CALLBACK_FLOW,
                Callback.status != CallbackStatus.DONE,
            )
            .order_by(Callback.next_attempt_at)
        )
        if (callback.variables or {}).get("agent_id") == mine
    ]


def agent_call_of(callback: Callback | None) -> dict[str, str] | None:
    """What our call for an agent carries (agent_id, skill, matter_id, entry_id, complaint), or
    None when the callback is not one."""
    if callback is None or callback.flow != callbacks.AGENT_CALLBACK_FLOW:
        return None
    variables = callback.variables or {}
    return {key: str(variables[key]) for key in callbacks.AGENT_CALL_KEYS if key in variables}


# ----- the call back of virtual hold -----


#: How long an agent stays kept for a caller on virtual hold while we call them back (the
#: agent's call is due within AGENT_CALL_DEADLINE; a little more for its last try).
CALL_BACK_HOLDS_AGENT = callbacks.AGENT_CALL_DEADLINE + timedelta(minutes=5)


def call_back(
    session: Session, offer: Offer, *, policy_version: int, now: datetime
) -> Callback | None:
    """A caller on virtual hold was offered to an agent (the router's offer, in its
    transaction, the caller's row locked): we call them back with the agent_callback flow,
    and the agent stays kept for them until they verify (`caller_verified`) or our call fails
    (`give_up`). Answers our callback; None when the caller cannot be called back (unknown to
    us: given up) or is being called already (back in their place, the agent free)."""
    entry = _locked_entry(session, offer.entry_id)
    if entry is None or entry.state is not QueueState.OFFERED or entry.virtual_hold_at is None:
        return None
    call = session.get(Call, entry.call_id)
    matter = session.get(Callback, entry.callback_id) if entry.callback_id else None
    if entry.customer_id is None or call is None:
        give_up(session, entry, why="an unknown caller cannot be verified on our call", now=now)
        return None
    number = call.from_number if call.direction is CallDirection.INBOUND else call.to_number
    try:
        with session.begin_nested():
            calling = callbacks.queue_agent_callback(
                session,
                matter,
                customer_id=entry.customer_id,
                to_number=matter.to_number if matter is not None else number,
                policy_version=policy_version,
                at=now,
                agent_call={
                    "agent_id": str(offer.agent_id),
                    "skill": entry.skill.value,
                    "entry_id": str(entry.id),
                },
                actor=ROUTER,
                now=now,
                why="a caller on virtual hold: their turn",
            )
    except Conflict:  # we are calling this customer for someone right now: next round
        _missed(
            session,
            entry,
            why="the customer is on another call of ours",
            now=now,
            agent_to=Presence.AVAILABLE,
        )
        return None
    entry.offer_expires_at = now + CALL_BACK_HOLDS_AGENT
    record(
        session,
        actor=ROUTER,
        action="queue.calling_back",
        subject_type="queue_entry",
        subject_id=entry.id,
        changes={"agent_id": offer.agent_id, "callback_id": calling.id},
    )
    return calling


def caller_verified(
    session: Session,
    entry: QueueEntry,
    call: Call,
    *,
    verified_by: str | None,
    verified_at: datetime | None,
    now: datetime,
) -> QueueEntry:
    """Our call back reached the caller on virtual hold and they verified: this call is their
    leg, they wait on the line in their place, kept for the agent who was held for them (rung at
    the router's next round, at once)."""
    called_back(session, entry, call, now=now)
    agent_id = entry.agent_id
    entry.state, entry.virtual_hold_at = QueueState.WAITING, None
    entry.agent_id = entry.offered_at = entry.offer_expires_at = None
    entry.reserved_for = agent_id
    if verified_by is not None and _VERIFIED_BY.match(verified_by):
        entry.verified_by, entry.verified_at = verified_by, verified_at
    agent = _locked_agent(session, agent_id)
    if agent is not None and agent.presence is Presence.RINGING:
        _change_presence(session, agent, Presence.AVAILABLE, actor=ROUTER, now=now)
    wakeup.hint(session, "route")
    return entry


def _calls_back_over(session: Session, now: datetime) -> int:
    """Callers being called back whose call back is over without reaching them (done: no
    answer, a wrong code): given up at once, their agent free. Answers how many."""
    calling = session.scalars(
        select(QueueEntry)
        .where(QueueEntry.state == QueueState.OFFERED, QueueEntry.virtual_hold_at.is_not(None))
        .order_by(QueueEntry.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    over = 0
    for entry in calling:
        ours = session.scalars(
            select(Callback)
            .where(
                Callback.customer_id == entry.customer_id,
                Callback.flow == callbacks.AGENT_CALLBACK_FLOW,
            )
            .order_by(Callback.created_at.desc())
            .limit(5)
        ).all()
        mine = [c for c in ours if (c.variables or {}).get("entry_id") == str(entry.id)]
        if mine and mine[0].status is CallbackStatus.DONE:
            outcome = mine[0].outcome.value if mine[0].outcome else "over"
            give_up(session, entry, why=f"our call back: {outcome}", now=now)
            over += 1
    return over


# ----- the call to the agent's browser phone (a participant in the caller's conference) -----


class AgentCall(enum.StrEnum):
    """What the carrier must do after a report on the call to an agent's phone (committed)."""

    NOTHING = "nothing"
    #: The agent left the talk: take the caller out of the conference, on with their flow.
    RELEASE_CALLER = "release_caller"
    #: The agent answered a caller no longer theirs: hang their phone up.
    DROP_AGENT = "drop_agent"


#: A call to an agent's phone that ended without being answered (Twilio's CallStatus).
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})


def ringing(
    session: Session, entry_id: uuid.UUID, agent_id: uuid.UUID, call_sid: str
) -> QueueEntry | None:
    """The router's ringer rang the agent with this call: remembered on the caller's place while
    it is offered to that agent (answers it), else nothing (the offer is over)."""
    entry = _locked_entry(session, entry_id)
    if entry is None or entry.state is not QueueState.OFFERED or entry.agent_id != agent_id:
        return None
    if entry.agent_call_sid is None:
        entry.agent_call_sid = call_sid
    return entry


def agent_call(
    session: Session,
    *,
    entry_id: uuid.UUID,
    agent_id: uuid.UUID,
    call_sid: str,
    status: str,
    now: datetime,
) -> AgentCall:
    """The call ringing an agent for a caller reports its status (Twilio's participant status
    callback; a retry changes nothing): answered, the agent takes the caller (`accept`);
    unanswered (declined, rang out), the caller goes back in their place at once and the agent
    away; the agent's answered call ended, the talk is over (`hang_up`, the agent in wrap-up)
    and the caller goes on. Answers what the carrier must then do."""
    entry = _locked_entry(session, entry_id)
    if entry is None:
        raise NotFound(_l("no caller has this place in the queue"), field="entry_id")
    agent = get_agent(session, agent_id)
    theirs = entry.agent_id == agent_id and entry.agent_call_sid in (None, call_sid)
    if status == "in-progress":
        if entry.state is QueueState.CONNECTED and theirs:
            return AgentCall.NOTHING  # told again
        if entry.state is not QueueState.OFFERED or not theirs:
            return AgentCall.DROP_AGENT
        try:
            accept(session, agent, entry.id, now=now)
        except Conflict:  # the offer ran out just now: the caller is back in the queue
            _missed(session, entry, why="answered too late", now=now)
            return AgentCall.DROP_AGENT
        entry.agent_call_sid = call_sid
        return AgentCall.NOTHING
    if status in UNANSWERED:
        if entry.state is QueueState.OFFERED and theirs:
            # Declined or rang out: the agent goes away. Called off (the caller's conference
            # ended, say): not theirs to answer, they stay available.
            away = Presence.AVAILABLE if status == "canceled" else Presence.AWAY
            _missed(session, entry, why=f"the agent's phone: {status}", now=now, agent_to=away)
            wakeup.hint(session, "route")  # the next agent, at once
        return AgentCall.NOTHING
    if status == "completed" and not theirs:
        # An agent who handed this caller on hung up their phone: they left the line.
        handoff = _open_handoff(session, agent, entry.id, call_sid=call_sid)
        if handoff is not None and handoff.left_at is None:
            _left(session, handoff, actor=ROUTER, why="their phone hung up", now=now)
        return AgentCall.NOTHING
    if status == "completed":
        if entry.state is QueueState.CONNECTED and theirs:
            hang_up(session, entry, now=now)
            return AgentCall.RELEASE_CALLER
        if entry.state is QueueState.OFFERED and theirs:  # ended before it was answered
            _missed(session, entry, why="the agent's phone ended unanswered", now=now)
            wakeup.hint(session, "route")
        return AgentCall.NOTHING
    if status in ("queued", "initiated", "ringing"):
        ringing(session, entry.id, agent_id, call_sid)
    return AgentCall.NOTHING


def can_take(
    session: Session, skill: Skill | str, locale: str, *, reserved_for: uuid.UUID | None = None
) -> bool:
    """Whether somebody could take a caller of this skill and language now: an active agent
    who has it, speaks it and is not away (available, or busy with another caller); for a caller
    kept for an agent, that agent at work will do."""
    wanted = _skill(skill)
    if reserved_for is not None and _at_work(session, reserved_for):
        return True
    return bool(
        session.scalar(
            select(
                exists().where(
                    Agent.presence != Presence.AWAY,
                    exists().where(
                        AgentSkill.staff_id == Agent.staff_id, AgentSkill.skill == wanted
                    ),
                    exists().where(
                        AgentLanguage.staff_id == Agent.staff_id, AgentLanguage.locale == locale
                    ),
                    exists().where(StaffUser.id == Agent.staff_id, StaffUser.active.is_(True)),
                )
            )
        )
    )


def waiting_call_ids(session: Session) -> list[uuid.UUID]:
    """The calls whose callers wait on the line (not ringing at a desk, not talking, not on
    virtual hold), the longest waiting first."""
    return list(
        session.scalars(
            select(QueueEntry.call_id)
            .where(QueueEntry.state == QueueState.WAITING)
            .order_by(QueueEntry.entered_at, QueueEntry.id)
        )
    )


# ----- figures -----


@dataclass(frozen=True)
class Figures:
    """The supervisor's wall: how the queue did since a moment, and how it is now."""

    entered: int
    answered: int
    abandoned: int
    #: Answered within SERVICE_LEVEL_SECONDS of entering, of those whose wait is decided
    #: (answered, abandoned, or waiting longer than that); None with none.
    service_level: float | None
    abandonment_rate: float | None
    #: Answered to wrapped up, on average, in seconds; None with none wrapped.
    average_handle_seconds: float | None
    waiting_by_skill: dict[str, int] = field(default_factory=dict)
    virtual_hold: int = 0
    longest_wait_seconds: float = 0.0
    agents_by_presence: dict[str, int] = field(default_factory=dict)


def figures(session: Session, *, since: datetime, now: datetime) -> Figures:
    """Service level, abandonment and handle time since `since`; who waits and who is free now."""
    threshold = timedelta(seconds=rules.SERVICE_LEVEL_SECONDS)
    rows = session.execute(
        select(
            QueueEntry.state,
            QueueEntry.entered_at,
            QueueEntry.answered_at,
            QueueEntry.wrapped_at,
        ).where(QueueEntry.entered_at >= since, QueueEntry.entered_at <= now)
    ).all()
    decided = answered_soon = answered = abandoned = 0
    handled: list[float] = []
    for state, entered_at, answered_at, wrapped_at in rows:
        if answered_at is not None:
            answered += 1
            answered_soon += answered_at - entered_at <= threshold
            if wrapped_at is not None:
                handled.append((wrapped_at - answered_at).total_seconds())
        if state is QueueState.ABANDONED:
            abandoned += 1
        if answered_at is not None or state is QueueState.ABANDONED or now - entered_at > threshold:
            decided += 1
    waiting = session.execute(
        select(QueueEntry.skill, func.count(), func.min(QueueEntry.entered_at))
        .where(QueueEntry.state.in_([QueueState.WAITING, QueueState.OFFERED]))
        .group_by(QueueEntry.skill)
    ).all()
    oldest = min((first for _, _, first in waiting if first is not None), default=None)
    on_hold = session.scalar(
        select(func.count()).where(QueueEntry.state == QueueState.VIRTUAL_HOLD)
    )
    presences = Counter(
        dict(session.execute(select(Agent.presence, func.count()).group_by(Agent.presence)).all())
    )
    return Figures(
        entered=len(rows),
        answered=answered,
        abandoned=abandoned,
        service_level=answered_soon / decided if decided else None,
        abandonment_rate=abandoned / decided if decided else None,
        average_handle_seconds=sum(handled) / len(handled) if handled else None,
        waiting_by_skill={skill.value: 0 for skill in Skill}
        | {skill.value: count for skill, count, _ in waiting},
        virtual_hold=int(on_hold or 0),
        longest_wait_seconds=(now - oldest).total_seconds() if oldest is not None else 0.0,
        agents_by_presence={presence.value: presences.get(presence, 0) for presence in Presence},
    )


# ----- inside -----


def _skill(value: Skill | str) -> Skill:
    try:
        return Skill(value)
    except ValueError:
        raise InvalidInput(
            _l("skill: one of %(choices)s", choices=choices(Skill)), field="skill"
        ) from None


def _language(value: str, *, field: str) -> str:
    if value not in SUPPORTED_LOCALES:
        raise InvalidInput(
            _l("%(field)s: one of %(choices)s", field=field, choices=", ".join(SUPPORTED_LOCALES)),
            field=field,
        )
    return value


def _presence(value: Presence | str) -> Presence:
    try:
        return Presence(value)
    except ValueError:
        raise InvalidInput(
            _l("presence: one of %(choices)s", choices=choices(sorted(rules.CHOSEN))),
            field="presence",
        ) from None


def _disposition(value: Disposition | str) -> Disposition:
    try:
        return Disposition(value)
    except ValueError:
        raise InvalidInput(
            _l("disposition: one of %(choices)s", choices=choices(Disposition)),
            field="disposition",
        ) from None


def _agent_actor(agent: Agent) -> Actor:
    return Actor(f"staff:{agent.staff_id}")


def _lock(session: Session, row: QueueEntry | Agent | Handoff) -> None:
    """Read a caller's or an agent's row again, locked (PostgreSQL), before changing it; this
    transaction's own changes are written first (a refresh would drop them)."""
    session.flush()
    session.refresh(row, with_for_update=True)


def _locked_entry(session: Session, entry_id: uuid.UUID) -> QueueEntry | None:
    return session.scalar(
        select(QueueEntry)
        .where(QueueEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _locked_agent(session: Session, staff_id: uuid.UUID | None) -> Agent | None:
    if staff_id is None:
        return None
    session.flush()  # populate_existing would drop this transaction's unwritten changes
    return session.get(Agent, staff_id, with_for_update=True, populate_existing=True)


def _offer_of(session: Session, agent: Agent, *, skip_locked: bool = False) -> QueueEntry | None:
    """The caller offered to the agent, locked, if any."""
    return session.scalar(
        select(QueueEntry)
        .where(QueueEntry.agent_id == agent.staff_id, QueueEntry.state == QueueState.OFFERED)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


def _back_to_queue(entry: QueueEntry) -> None:
    """An offer that did not hold: the caller waits again, in their place (entered_at kept)."""
    entry.state = (
        QueueState.VIRTUAL_HOLD if entry.virtual_hold_at is not None else QueueState.WAITING
    )
    entry.agent_id = entry.offered_at = entry.offer_expires_at = None
    entry.agent_call_sid = None


def _change_presence(
    session: Session, agent: Agent, presence: Presence, *, actor: Actor, now: datetime
) -> None:
    before = agent.presence
    agent.presence, agent.presence_since = presence, now
    record(
        session,
        actor=actor,
        action="agent.presence",
        subject_type="agent",
        subject_id=agent.staff_id,
        changes={"presence": [before.value, presence.value]},
    )

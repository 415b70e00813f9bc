"""The dialer: claim due callbacks atomically, check them at dial time, place each once.

The database is the schedule. A claim takes due callbacks under a short lock on the shared
pacing row (so the calls-per-second and concurrent-call limits hold across workers) with
FOR UPDATE SKIP LOCKED on PostgreSQL, and commits before any call is placed. The pacing row
hands out dialing moments (slots) one interval apart, at most a second ahead and never behind:
a slot whose moment has passed (a late carrier answer, a slow batch) is dropped, never spent
late, and a worker short of slots takes new ones from the row, so that no second holds more
than its calls per second, whatever the backlog, the number of workers or the pauses.

Each attempt is committed as `dialing` before the carrier is asked; an attempt whose answer was
lost is reconciled with the carrier by the reaper, never re-dialed blindly. Whether a claimed
callback may be dialed is decided by `rules.at_dial_time`; every change of its status is
`lifecycle`'s.

A worker asks the carrier for several calls at once (`creates_at_once`): each create of a
prepared batch goes at once to a pool of threads that touch no database session; its thread
waits for the slot and sends it, so that a slow create never holds up the next slot, and a
create whose thread comes after its slot's half interval is not sent (`SlotMissed`: the callback
is queued again at once). Meanwhile the dispatching thread claims the next batch, and records
each batch once all its answers are in. A claim takes no more than the worker can send within
the horizon (`CreateTimes`). With a backlog, a run claims again as soon as a batch is handed
over, or as soon as the horizon has room again (`backlog_run`), rather than waiting for its
tick.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time as clock
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.callbacks import lifecycle
from app.callbacks.caps import FrequencyCap, counted
from app.callbacks.matters import CARRIED, MATTERS
from app.callbacks.models import (
    AttemptStatus,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    DialPacing,
    DoNotCall,
)
from app.callbacks.policy import DialProfile, Policy
from app.callbacks.rules import LIVE_CALL_LIMIT, DialFacts, Finish, Line, PutOff, at_dial_time
from app.callbacks.window import callee_zones
from app.calls.models import Call, CallDirection, CallStatus
from app.calls.service import CallUrls, prepare_outbound_call, record_carrier_answer
from app.carriers.carrier import (
    InvalidNumber,
    OutboundCall,
    OutcomeUnknown,
    RetryLater,
    Telephony,
    TelephonyError,
)
from app.customers.models import Customer
from app.database import rows_matched
from app.errors import Conflict
from app.flows.definition import Flow
from app.numbers.lines import CallerIds
from app.outcomes import Outcome

log = logging.getLogger(__name__)

PACING = "outbound"
RATE_LIMIT_BACKOFF = timedelta(seconds=30)
REFUSED_RETRY = timedelta(minutes=15)
#: How far ahead a claim takes slots (and so callbacks): what a worker dials in this time.
HORIZON = timedelta(seconds=1)
#: A worker's run goes on claiming while a backlog lasts, up to this long (then its next tick).
BACKLOG_RUN = timedelta(seconds=5)
#: When no slot is booked ahead, a claim's first slot comes this long after it: the batch is
#: prepared meanwhile, so that its first call goes out on time rather than late.
PREPARE_LEAD = timedelta(milliseconds=200)
#: Above this rate a slot is shorter than one create takes: slots are kept up to LATE_AT_SPEED
#: late there, else every call would find its planned slot passed and take the shared row again.
SLOT_PACED_UP_TO = 1000.0
LATE_AT_SPEED = timedelta(milliseconds=50)

#: What the carrier answered for one call: its sid, or why not.
Answer = tuple[str | None, TelephonyError | None]


@dataclass(frozen=True)
class Calls:
    """The calls on one number the dialer has seen: one live, or the last one's end and callback."""

    live: bool = False
    last_ended_at: datetime | None = None
    last_of: uuid.UUID | None = None

    def seen(self, ended_at: datetime | None, callback_id: uuid.UUID | None) -> Calls:
        if ended_at is None:
            return replace(self, live=True)
        if self.last_ended_at is None or ended_at > self.last_ended_at:
            return replace(self, last_ended_at=ended_at, last_of=callback_id)
        return self

    def line(self, callback_id: uuid.UUID) -> Line:
        """What the rules see for this callback: the last call asked for it if it was its own."""
        return Line(
            in_call=self.live,
            last_ended_at=self.last_ended_at,
            asked_by_last_call=self.last_of is not None and self.last_of == callback_id,
        )


@dataclass
class Prepared:
    """A callback of the batch, ready to dial: its attempt and call rows are committed."""

    callback_id: uuid.UUID
    attempt: CallbackAttempt
    call_id: uuid.UUID
    request: OutboundCall
    attempt_id: int = 0
    #: Its campaign's own pacing: the campaign, its interval, and the slot it was given.
    group: tuple[uuid.UUID, timedelta, datetime] | None = None


class Holding:
    """The callbacks each dispatcher of this process is dialing right now, by worker name.

    The reaper runs in a parallel thread of the same worker: it never takes one of these, even
    when its lease has run out, because the batch holding it is still at work.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = defaultdict(set)

    @contextmanager
    def hold(self, worker: str, ids: Iterable[str]) -> Iterator[None]:
        ids = set(ids)
        with self._lock:
            self._held[worker] |= ids
        try:
            yield
        finally:
            with self._lock:
                self._held[worker] -= ids

    def of(self, worker: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._held[worker])


HOLDING = Holding()


class SlotMissed(TelephonyError):
    """The create's thread came after its slot (a busy machine): it was not sent, so that no
    second holds more than its calls; the callback is queued again at once."""

    retry = True


def _average(old: float | None, new: float) -> float:
    return new if old is None else 0.8 * old + 0.2 * new


class CreateTimes:
    """How long this process's carrier creates take: a moving average of real seconds.

    A claim takes no more callbacks than the worker's threads can ask the carrier for within
    the horizon, so that a slow carrier leaves the rest of the backlog to other workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: float | None = None

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds = seconds if self.seconds is None else 0.8 * self.seconds + 0.2 * seconds

    def capacity(self, threads: int) -> int | None:
        """How many creates `threads` threads can start within the horizon (None: not known)."""
        with self._lock:
            seconds = self.seconds
        if seconds is None:
            return None
        return threads * (1 + int(HORIZON.total_seconds() / max(seconds, 0.001)))


CREATE_TIMES = CreateTimes()


def creates_at_once(calls_per_second: float, max_concurrent: int, create_seconds: float) -> int:
    """A worker's carrier creates at once (threads): enough for its calls per second when each
    create waits up to the horizon for its slot and takes `create_seconds`, never more than the
    calls allowed at once."""
    seconds = HORIZON.total_seconds() + create_seconds
    return max(1, min(max_concurrent, math.ceil(calls_per_second * seconds)))


def _place(telephony: Telephony, call: OutboundCall, times: CreateTimes | None) -> Answer:
    """Ask the carrier for one call (in a pool thread: no database session is touched)."""
    started = clock.monotonic()
    try:
        return telephony.place_call(call), None
    except TelephonyError as exc:
        return None, exc
    finally:
        if times is not None:
            times.add(clock.monotonic() - started)


def _answered(answer: Answer) -> Future[Answer]:
    done: Future[Answer] = Future()
    done.set_result(answer)
    return done


@dataclass
class _Batch:
    """A claimed batch being dialed: held from this process's reaper until it is recorded."""

    hold: ExitStack
    leased_until: datetime
    prepared: list[Prepared] = field(default_factory=list)
    sent: list[tuple[Prepared, Future[Answer]]] = field(default_factory=list)


@dataclass
class _Run:
    """One dispatch run: its pool of create threads and its batches not recorded yet."""

    pool: ThreadPoolExecutor | None
    batches: deque[_Batch] = field(default_factory=deque)
    running: set[Future[Answer]] = field(default_factory=set)
    halted: list[RetryLater] = field(default_factory=list)  # the carrier's 429, once one came


def group_pacing_name(campaign_id: uuid.UUID) -> str:
    """The pacing row of a campaign's calls (its own calls per second)."""
    return f"c:{campaign_id.hex[:24]}"


@dataclass
class Dispatcher:
    """One worker's dialing job: claim, check, dial, record."""

    session: Session
    policy: Policy
    telephony: Telephony
    urls: CallUrls
    flows: dict[str, Flow]
    worker: str
    now: Callable[[], datetime]
    sleep: Callable[[float], None] = clock.sleep
    batch: int = 50
    placed: list[str] = field(default_factory=list)
    #: Carrier creates in flight at once (1: one after the other, in the dispatching thread).
    creates_at_once: int = 1
    #: With a backlog, claim again at once after a batch, for this long to twice as long (so
    #: that workers started together do not stop together; 0: one batch).
    backlog_run: timedelta = timedelta(0)
    #: The process's create times, which bound a claim (None: not bounded by them).
    times: CreateTimes | None = None
    #: When the horizon has room again, if the last claim found it full (else None).
    room_at: datetime | None = None
    #: When no slot is booked ahead, the first slot comes this long after the claim.
    lead: timedelta = timedelta(0)

    @property
    def actor(self) -> Actor:
        return Actor(f"worker:{self.worker}")

    # ----- claiming -----

    def claim(self, most: int | None = None) -> list[tuple[str, datetime]]:
        """Lease due callbacks to this worker, `most` at most (its free create threads); each
        comes with the moment it may be dialed."""
        now = self.now()
        session = self.session
        pacing = self._lock_pacing(now)
        in_flight = (
            session.scalar(
                select(func.count())
                .select_from(Callback)
                .where(Callback.status.in_([CallbackStatus.CLAIMED, CallbackStatus.IN_CALL]))
            )
            or 0
        )
        start = max(pacing.next_slot_at, now + self.lead)
        interval = 1.0 / self.policy.calls_per_second
        # Slots that start within the horizon; later ones are the next claim's.
        paced = int((now + HORIZON - start).total_seconds() // interval) + 1
        budget = max(0, min(self.batch, self.policy.max_concurrent_calls - in_flight, paced))
        capacity = self.times.capacity(self.creates_at_once) if self.times else None
        if capacity is not None:  # no more than this worker can ask the carrier for meanwhile
            budget = min(budget, capacity)
        if most is not None:
            budget = min(budget, most)
        self.room_at = None
        if budget == 0:
            if paced <= 0:  # every slot of the horizon is taken: a quarter of it is free then
                self.room_at = start - HORIZON + HORIZON / 4
            session.commit()
            return []
        try:
            claimed = list(
                session.scalars(
                    lifecycle.claim_statement(
                        worker=self.worker, now=now, lease=self.policy.lease, limit=budget
                    )
                )
            )
        except IntegrityError:
            # Another worker's claim took a callback of the same number at the same moment
            # (uq_callbacks_live_number): this claim takes nothing; the next tick sees theirs.
            session.rollback()
            log.info("claim lost a race for a number to another worker")
            return []
        slots = [start + timedelta(seconds=i * interval) for i in range(len(claimed))]
        if claimed:
            pacing.next_slot_at = start + timedelta(seconds=len(claimed) * interval)
        session.commit()  # the claim is durable before any call is placed
        return [(str(callback_id), slot) for callback_id, slot in zip(claimed, slots, strict=True)]

    def _lock_pacing(self, now: datetime) -> DialPacing:
        """Take the shared pacing row for this transaction (a write, so SQLite locks too)."""
        session = self.session
        lock = text("UPDATE dial_pacing SET name = name WHERE name = :name")
        if not rows_matched(session.execute(lock, {"name": PACING})):
            try:  # the migration seeds the row; this only covers a database emptied by hand
                with session.begin_nested():
                    session.add(DialPacing(name=PACING, next_slot_at=now))
            except IntegrityError:
                pass  # another worker created it first
            session.execute(lock, {"name": PACING})
        return session.get_one(DialPacing, PACING, populate_existing=True)

    # ----- dialing -----

    def dispatch(self) -> int:
        """One run: claim what is due, check it, dial it; answers how many calls were placed.

        Each batch's attempts and call rows are committed before the carrier is asked for any
        of them, and one more commit records what the carrier answered. With one create at a
        time the dispatching thread waits for each slot and sends it; with several, each create
        is handed to a pool thread that waits for its slot (`_send`), and the run claims the
        next batch meanwhile, recording each batch once all its answers are in.

        With `backlog_run`, the run claims again as soon as a batch is handed over, or once the
        horizon has room when other workers took all of it, until nothing is left to claim or
        that time has passed (then the next tick goes on)."""
        spread = 1 + random.random()  # noqa: S311 (spreads workers' stops; no secret)
        placed, until = 0, self.now() + self.backlog_run * spread
        threads = max(1, self.creates_at_once)
        run = _Run(ThreadPoolExecutor(threads, thread_name_prefix="dial") if threads > 1 else None)
        finished = False
        try:
            while True:
                placed += self._record_finished(run)
                if run.pool is not None:  # a call that waited for a thread would go late
                    run.running = {future for future in run.running if not future.done()}
                    if len(run.running) >= threads:
                        wait(run.running, return_when=FIRST_COMPLETED)
                        continue
                claimed = self.claim(threads - len(run.running) if run.pool else None)
                if claimed:
                    self._dial(run, claimed, threads)
                    placed += self._record_finished(run)
                if self.now() >= until:
                    break
                if not claimed:
                    if self.room_at is None or self.room_at >= until:
                        break
                    self.sleep(max(0.0, (self.room_at - self.now()).total_seconds()))
            if run.pool is not None:
                run.pool.shutdown(wait=True)  # every create answers before the last records
            finished = True
            return placed + self._record_finished(run)
        finally:
            if not finished:  # a failure: the creates not sent yet are not sent
                run.halted.append(RetryLater("the dispatcher stopped"))
            if run.pool is not None:
                run.pool.shutdown(wait=True, cancel_futures=True)
            for batch in run.batches:  # not recorded: the reaper reconciles them
                batch.hold.close()

    def _dial(self, run: _Run, claimed: list[tuple[str, datetime]], threads: int) -> None:
        """Prepare a claimed batch and ask the carrier for each call at its slot.

        A create goes to a pool thread at once, whatever the ones before it still wait for;
        when every thread is busy the next call waits for one (its slot may pass: then it
        takes another). Once the carrier asks to wait (a 429), no more creates are sent."""
        ids = [callback_id for callback_id, _ in claimed]
        plan = deque(sorted(slot for _, slot in claimed))
        hold = ExitStack()
        hold.enter_context(HOLDING.hold(self.worker, ids))  # this process's reaper leaves them
        batch = _Batch(hold=hold, leased_until=self.now() + self.policy.lease)
        run.batches.append(batch)
        prepared = self._prepare([uuid.UUID(callback_id) for callback_id in ids], plan)
        batch.prepared = prepared
        for index, item in enumerate(prepared):
            if not run.halted and run.pool is not None and len(run.running) >= threads:
                _, run.running = wait(run.running, return_when=FIRST_COMPLETED)
            if not run.halted:
                slot = self._slot(item, plan, later=len(prepared) - index)
                if run.pool is None:
                    pause = (slot - self.now()).total_seconds()
                    if pause > 0:
                        self.sleep(pause)
            if run.halted:  # the carrier asked to wait: the rest wait too
                refused = RetryLater(str(run.halted[0]), code=run.halted[0].code)
                batch.sent.append((item, _answered((None, refused))))
                continue
            self._renew_held(run)
            if run.pool is None:
                future = _answered(self._place(item.request, run.halted))
            else:  # the pool's threads wait in real time, with no app context
                due = clock.monotonic() + (slot - self.now()).total_seconds()
                late = due + self._late_ok.total_seconds()
                future = run.pool.submit(self._send, item.request, due, late, run.halted)
                run.running.add(future)
            batch.sent.append((item, future))

    def _record_finished(self, run: _Run) -> int:
        """Record the batches whose answers are all in, oldest first; answers the calls placed.
        (Once the pool is shut down, every batch.)"""
        placed = 0
        self._renew_held(run)
        while run.batches and all(future.done() for _, future in run.batches[0].sent):
            batch = run.batches.popleft()
            with batch.hold:
                placed += self._record([(item, *future.result()) for item, future in batch.sent])
        return placed

    def _renew_held(self, run: _Run) -> None:
        """A batch that outlives half its lease renews it for what is not recorded yet, so
        that no other worker's reaper takes them back meanwhile."""
        for batch in run.batches:
            if self.now() >= batch.leased_until - self.policy.lease / 2:
                batch.leased_until = self._renew([p.callback_id for p in batch.prepared])

    def _send(
        self, request: OutboundCall, due: float, late: float, halted: list[RetryLater]
    ) -> Answer:
        """In a pool thread, which touches no database session: wait until `due` (its slot, in
        `time.monotonic` seconds), then ask the carrier for the call. Not sent once the carrier
        asked to wait, nor after `late` (the machine was too busy to send it on time)."""
        pause = due - clock.monotonic()
        if pause > 0:
            clock.sleep(pause)
        if halted:
            return None, RetryLater(str(halted[0]), code=halted[0].code)
        if clock.monotonic() > late:
            return None, SlotMissed("its dialing slot passed before the create was sent")
        return self._place(request, halted)

    def _place(self, request: OutboundCall, halted: list[RetryLater]) -> Answer:
        """Ask the carrier for the call; a 429 halts the creates not sent yet."""
        answer = _place(self.telephony, request, self.times)
        if isinstance(answer[1], RetryLater):
            halted.append(answer[1])
        return answer

    def _renew(self, ids: list[uuid.UUID]) -> datetime:
        """Renew the lease of the batch's callbacks not recorded yet; answers its new end."""
        now = self.now()
        self.session.execute(
            lifecycle.renew_lease_statement(
                ids, worker=self.worker, now=now, lease=self.policy.lease
            )
        )
        self.session.commit()
        return now + self.policy.lease

    @property
    def _interval(self) -> timedelta:
        return timedelta(seconds=1.0 / self.policy.calls_per_second)

    @property
    def _late_ok(self) -> timedelta:
        """How late a slot may still be used: half an interval, so that no second holds more than
        the rate and one; above SLOT_PACED_UP_TO calls a second, LATE_AT_SPEED (then a second
        holds at most 5 % over the rate: no carrier takes creates that fast one at a time)."""
        if self.policy.calls_per_second > SLOT_PACED_UP_TO:
            return max(self._interval / 2, LATE_AT_SPEED)
        return self._interval / 2

    def _slot(self, item: Prepared, plan: deque[datetime], later: int) -> datetime:
        """The moment to dial `item`: the next slot of the plan, unless it has passed.

        A slot may be used up to half an interval after its moment (`_late_ok`); one that passed
        is dropped
        (a second that went by without its calls stays so: they are never made up in a burst).
        When the plan runs out, `later` new slots (this call and the rest of the batch) are taken
        from the shared row. A campaign's call keeps its slot only if the global slot it was
        given is still the plan's next one; else both are taken again, together.
        """
        now = self.now()
        late_ok = self._late_ok
        while plan and plan[0] + late_ok < now:
            plan.popleft()
        if item.group is not None:
            if plan and plan[0] == item.group[2]:  # the slot its campaign's slot was taken at
                return plan.popleft()
            return self._take_slots(now, 1, group=item.group)[0]
        if not plan:
            plan.extend(self._take_slots(now, later))
        return plan.popleft()

    def _take_slots(
        self,
        now: datetime,
        count: int,
        *,
        group: tuple[uuid.UUID, timedelta, datetime] | None = None,
    ) -> list[datetime]:
        """`count` new slots from the shared row, from now on (a short transaction of its own).

        With `group`, one slot that also keeps its campaign's pacing: after the campaign's next
        slot, unless that one is the call's own earlier slot (nobody took one since).
        """
        pacing = self._lock_pacing(now)
        start = max(pacing.next_slot_at, now)
        group_row = None
        if group is not None:
            campaign_id, every, planned = group
            group_row = self._group_slot(campaign_id, now)
            if group_row.next_slot_at != planned + every:
                start = max(start, group_row.next_slot_at)
        pacing.next_slot_at = start + count * self._interval
        if group_row is not None and group is not None:
            group_row.next_slot_at = start + group[1]
        self.session.commit()
        return [start + i * self._interval for i in range(count)]

    def _prepare(self, ids: list[uuid.UUID], plan: deque[datetime]) -> list[Prepared]:
        """Dial-time checks for the claimed batch; attempts and call rows for those that pass.

        Those that pass take the plan's slots in order (one put off leaves its slot to the next);
        a campaign's call takes its campaign's slot at that moment."""
        session, now = self.session, self.now()
        callbacks = [
            callback
            for callback in session.scalars(
                select(Callback)
                .where(Callback.id.in_(ids))
                .order_by(Callback.due_by)
                .execution_options(populate_existing=True)
            )
            if callback.status is CallbackStatus.CLAIMED and callback.lease_owner == self.worker
        ]
        if not callbacks:
            session.commit()
            return []
        customers = {
            c.id: c
            for c in session.scalars(
                select(Customer).where(Customer.id.in_({cb.customer_id for cb in callbacks}))
            )
        }
        scopes = {
            phone: scope
            for phone, scope in session.execute(
                select(DoNotCall.phone, DoNotCall.scope).where(
                    DoNotCall.phone.in_({cb.to_number for cb in callbacks})
                )
            )
        }
        recent: dict[uuid.UUID, list[datetime]] = defaultdict(list)
        for customer_id, started_at in session.execute(
            select(CallbackAttempt.customer_id, CallbackAttempt.started_at).where(
                CallbackAttempt.customer_id.in_(customers),
                counted(),
                CallbackAttempt.started_at > now - FrequencyCap.of(self.policy).longest,
            )
        ):
            recent[customer_id].append(started_at)
        numbers = dict(
            session.execute(
                select(CallbackAttempt.callback_id, func.max(CallbackAttempt.number))
                .where(CallbackAttempt.callback_id.in_(ids))
                .group_by(CallbackAttempt.callback_id)
            ).all()
        )
        try:
            callers = CallerIds(session)
        except Conflict as exc:
            for callback in callbacks:
                lifecycle.put_off(
                    session,
                    callback,
                    now + REFUSED_RETRY,
                    "an official outbound number",
                    now=now,
                    actor=self.actor,
                )
            session.commit()
            log.error("nothing can be dialed", extra={"error": exc.message})
            return []
        lines = self._lines(callbacks, now)
        carried = self._carried(callbacks, now)
        prepared: list[Prepared] = []
        for callback in callbacks:
            customer = customers[callback.customer_id]
            # The moment it will be dialed: the plan's next slot (taken afresh if it passed).
            planned = max(plan[len(prepared)], now) if len(plan) > len(prepared) else now
            facts = self._facts(callback, customer, scopes, recent[customer.id], planned)
            facts = replace(facts, line=lines.get(callback.to_number, Calls()).line(callback.id))
            decision = at_dial_time(facts, self.policy, now)
            if isinstance(decision, PutOff | Finish):
                lifecycle.decide(session, callback, decision, now=now, actor=self.actor)
                continue
            group = None
            if callback.campaign_id is not None and facts.profile.calls_per_second:
                group = self._take_group_slot(callback.campaign_id, facts.profile, planned, now)
            variables = dict(callback.variables or {})
            if others := [str(other) for other in carried.get(callback.id, [])]:
                # One call for the person's matters: this one first, then the others in turn.
                variables.update({CARRIED: others, MATTERS: "several"})
            call, request = prepare_outbound_call(
                session,
                urls=self.urls,
                customer=customer,
                flow=self.flows[callback.flow],
                variables=variables,
                actor=self.actor,
                to_number=callback.to_number,
                callback_id=callback.id,
                caller=callers.for_callee(callback.to_number),
            )
            attempt = lifecycle.start_attempt(
                callback,
                number=(numbers.get(callback.id) or 0) + 1,
                worker=self.worker,
                now=now,
                call_id=call.id,
            )
            recent[customer.id].append(now)  # a second callback of the customer sees this one
            lines[callback.to_number] = Calls(live=True)  # and one of its number waits for it
            prepared.append(Prepared(callback.id, attempt, call.id, request, group=group))
        session.flush()  # the call rows first: attempts refer to them
        session.add_all(item.attempt for item in prepared)
        session.flush()
        for item in prepared:
            item.attempt_id = item.attempt.id
        session.commit()  # every attempt is durable as dialing before the carrier is asked
        return prepared

    def _facts(
        self,
        callback: Callback,
        customer: Customer,
        scopes: dict[str, str],
        recent: list[datetime],
        planned: datetime,
    ) -> DialFacts:
        """What the dial-time rules need to know about one claimed callback, to be dialed at
        `planned` (its slot)."""
        profile = self.policy.profile(callback.dial_profile)
        in_flight, slot_at = 0, None
        if callback.campaign_id is not None:
            if profile.max_concurrent is not None:
                in_flight = (
                    self.session.scalar(
                        select(func.count())
                        .select_from(Callback)
                        .where(
                            Callback.campaign_id == callback.campaign_id,
                            Callback.status == CallbackStatus.IN_CALL,
                        )
                    )
                    or 0
                )
            if profile.calls_per_second:
                next_slot = self._group_slot(callback.campaign_id, planned).next_slot_at
                slot_at = next_slot if next_slot > planned else None
        return DialFacts(
            profile=profile,
            zones=callee_zones(customer, callback.to_number),
            in_campaign=callback.campaign_id is not None,
            hold=callback.dial_hold,
            do_not_call=scopes.get(callback.to_number),
            recent_starts=recent,
            group_in_flight=in_flight,
            group_slot_at=slot_at,
        )

    def _carried(
        self, callbacks: list[Callback], now: datetime
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The customer's other due matters on each callback's number, which its call carries.

        Only event callbacks whose flow can be joined after the verify node (`resume_at`); a
        campaign's call carries nothing and is carried by none. They stay queued: the flow takes
        each into the call in turn (app/callbacks/line.py), or they wait for their own call.
        """
        leads = {
            (callback.to_number, callback.customer_id): callback
            for callback in callbacks
            if callback.campaign_id is None
        }
        if not leads:
            return {}
        joinable = [name for name, flow in self.flows.items() if flow.resume_at]
        carried: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for other in self.session.scalars(
            select(Callback)
            .where(
                Callback.to_number.in_({number for number, _ in leads}),
                Callback.status == CallbackStatus.QUEUED,
                Callback.next_attempt_at <= now,
                Callback.campaign_id.is_(None),
                Callback.dial_hold.is_(None),
                Callback.flow.in_(joinable),
                Callback.id.not_in([callback.id for callback in callbacks]),
            )
            .order_by(Callback.due_by)
        ):
            lead = leads.get((other.to_number, other.customer_id))
            if lead is not None and lead.flow in joinable:
                carried[lead.id].append(other.id)
        return carried

    def _lines(self, callbacks: list[Callback], now: datetime) -> dict[str, Calls]:
        """The calls on each callback's number, either way: live now, or the last one's end."""
        numbers = {callback.to_number for callback in callbacks}
        live = and_(
            Call.status.in_(lifecycle.LIVE_CALL),
            Call.sid.is_not(None),
            Call.created_at > now - LIVE_CALL_LIMIT,
        )
        # The quiet period follows a call we placed that reached the network (a call the person
        # made to us, or one a caller ID faked, never holds back our calls to them).
        ended = and_(
            Call.direction == CallDirection.OUTBOUND,
            Call.ended_at > now - self.policy.quiet_after_call,
            Call.status != CallStatus.FAILED,
        )
        lines: dict[str, Calls] = {}
        for side in (Call.to_number, Call.from_number):
            for number, ended_at, callback_id in self.session.execute(
                select(side, Call.ended_at, Call.callback_id).where(
                    side.in_(numbers), or_(live, ended)
                )
            ):
                lines[number] = lines.get(number, Calls()).seen(ended_at, callback_id)
        return lines

    def _group_slot(self, campaign_id: uuid.UUID, now: datetime) -> DialPacing:
        """A campaign's pacing row, locked for this transaction (created on first use)."""
        name = group_pacing_name(campaign_id)
        pacing = self.session.get(DialPacing, name, with_for_update=True)
        if pacing is None:
            try:
                with self.session.begin_nested():
                    pacing = DialPacing(name=name, next_slot_at=now)
                    self.session.add(pacing)
            except IntegrityError:
                pacing = self.session.get_one(DialPacing, name, with_for_update=True)
        return pacing

    def _take_group_slot(
        self, campaign_id: uuid.UUID, profile: DialProfile, planned: datetime, now: datetime
    ) -> tuple[uuid.UUID, timedelta, datetime]:
        """Take the campaign's dialing slot at `planned` (its calls per second), shared by every
        worker; answers what `_slot` needs to keep it or take it again."""
        every = timedelta(seconds=1.0 / (profile.calls_per_second or 1.0))
        pacing = self._group_slot(campaign_id, now)
        pacing.next_slot_at = planned + every
        return campaign_id, every, planned

    def _record(self, answers: list[tuple[Prepared, str | None, TelephonyError | None]]) -> int:
        """Record the carrier's answers in one transaction; answers how many calls were placed."""
        if not answers:
            return 0
        session, now = self.session, self.now()
        # As they are now: a quick carrier's webhooks may have moved them on meanwhile.
        attempts = _fresh(session, CallbackAttempt, [item.attempt_id for item, _, _ in answers])
        callbacks = _fresh(session, Callback, [item.callback_id for item, _, _ in answers])
        calls = _fresh(session, Call, [item.call_id for item, _, _ in answers])
        placed, slow_down = 0, False
        for item, sid, error in answers:
            attempt, callback = attempts[item.attempt_id], callbacks[item.callback_id]
            record_carrier_answer(
                session, call=calls[item.call_id], sid=sid, error=error, actor=self.actor
            )
            if error is None:
                placed += 1
                self.placed.append(str(callback.id))
                lifecycle.call_placed(callback, attempt)
                continue
            if attempt.status is AttemptStatus.ENDED:
                # The call's end came before the carrier's answer, and its after-call decision
                # is made: a late error does not overwrite the attempt.
                continue
            if isinstance(error, OutcomeUnknown):
                lifecycle.outcome_unknown(callback, attempt, error)
                log.warning(
                    "call outcome unknown: the reaper will reconcile",
                    extra={"callback_id": str(callback.id)},
                )
                continue
            lifecycle.call_refused(callback, attempt, error, now)
            if isinstance(error, InvalidNumber):
                lifecycle.finish(
                    session,
                    callback,
                    Outcome.UNREACHABLE,
                    now,
                    actor=self.actor,
                    why="the carrier says the number cannot be called",
                )
            elif isinstance(error, SlotMissed):
                lifecycle.put_off(
                    session, callback, now, "its dialing slot passed", now=now, actor=self.actor
                )
            elif isinstance(error, RetryLater):
                lifecycle.put_off(
                    session,
                    callback,
                    now + RATE_LIMIT_BACKOFF,
                    "the carrier asked to wait",
                    now=now,
                    actor=self.actor,
                )
                slow_down = True
            else:
                lifecycle.put_off(
                    session,
                    callback,
                    now + REFUSED_RETRY,
                    "the carrier refused the call",
                    now=now,
                    actor=self.actor,
                )
        if slow_down:  # every worker waits: the pacing clock moves forward for all of them
            pacing = self._lock_pacing(now)
            pacing.next_slot_at = max(pacing.next_slot_at, now + RATE_LIMIT_BACKOFF)
        session.commit()
        return placed


_Row = TypeVar("_Row", Callback, CallbackAttempt, Call)


def _fresh(
    session: Session, model: type[_Row], ids: Sequence[uuid.UUID | int]
) -> dict[uuid.UUID | int, _Row]:
    """Rows by id, read again from the database (not from the session's memory)."""
    rows = session.scalars(
        select(model).where(model.id.in_(ids)).execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}

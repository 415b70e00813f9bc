"""From "press 0" to the agent's desk ringing, with real worker processes (scripts/bench).

    scripts/bench --only press0                        # 60 probes per load, 200 callers waiting
    scripts/bench --only press0 --press0-probes 100 --press0-waiting 500

A probe is a verified caller at the registration check's question ("to speak to someone, press
0"): the benchmark POSTs that question's signed input webhook with Digits=0 to the web process
(gunicorn), as Twilio would, and times from its answer (the waiting room: a <Conference> named
after the caller's place) to the moment a worker process asks the carrier to ring the agent's
browser phone into that conference (Conferencing.add_agent, after the router's commit). Each
worker process runs the worker's own scheduler and wake-up listener; its conferencing is a
stand-in that places nothing and keeps that moment. Once the desk rang, the caller hangs up (the
call's signed status callback), so the agent is free again for the next probe.

Two loads: an agent free and nobody else waiting; and the same with callers already waiting
ahead of the probe (entered earlier, same or higher priority) in skills and languages no free
agent has, whom the router must pass over. The baseline is the input webhook's own response time.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import statistics
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from benchmarks.callbacks import (
    BenchmarkFailed,
    WebProcess,
    drop_database,
    expect,
    fresh_database,
    new_database_url,
    raw,
    seed_customers,
)
from benchmarks.pacing import START_SECONDS, TimedCarrier, Workers

FLOW = "registration_check"
QUESTION = "ask_confirm"  # "... To speak to someone, press 0."
LOCALE = "it"
#: The waiting room in the webhook's answer: <Dial><Conference ...>its name</Conference>.
CONFERENCE = re.compile(r"<Dial[^>]*><Conference[^>]*>([0-9a-f-]{36})</Conference>")
#: How long a probe waits for the desk to ring before it hangs up and the next one goes.
RING_WAIT_SECONDS = 5.0
#: The combinations of the callers waiting ahead of the probes: none is the free agent's
#: (general, Italian), so the router must pass over every one of them.
OTHERS = [
    (skill, locale)
    for skill in ("fraud", "withdrawals", "complaints", "general")
    for locale in ("en", "it", "pl", "zh")
    if (skill, locale) != ("general", LOCALE)
]


class TimedConferencing:
    """The carrier's conferences, placing nothing: keeps (conference, moment) of each agent
    rung; with `rings` False every ring fails as a carrier's refusal would (the check's test)."""

    def __init__(self, rings: bool = True) -> None:
        self.lock = threading.Lock()
        self.rung: list[tuple[str, float]] = []
        self.rings = rings

    def add_agent(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        status_callback: str,
        timeout: int = 20,
        label: str = "agent",
    ) -> str:
        from app.carriers.carrier import CarrierRefused

        if not self.rings:
            raise CarrierRefused("the benchmark's silent ringer", status=503)
        with self.lock:
            self.rung.append((conference, time.time()))
        return "CA" + uuid.uuid4().hex

    def remove(self, conference: str, call_sid: str) -> None:
        return None


def _worker(url: str, rings: bool, start: Any, stop: Any, out: Any) -> None:
    """One worker process: the real scheduler and wake-up listener until `stop`."""
    from app import create_app
    from app.worker.process import Wake, build_scheduler, listen_for_hints

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
    app.extensions["telephony"] = TimedCarrier()
    conferencing = TimedConferencing(rings)
    app.extensions["conferencing"] = conferencing
    wakes: dict[str, Wake] = {}
    scheduler = build_scheduler(app, wakes)
    listener = listen_for_hints(app, scheduler, wakes)
    listening = listener.start()
    out.put(("ready", listening))
    start.wait()

    def stop_when_told() -> None:
        stop.wait()
        scheduler.shutdown(wait=True)

    threading.Thread(target=stop_when_told, daemon=True).start()
    scheduler.start()
    listener.stop()
    out.put(("rung", conferencing.rung))


class RingWorkers(Workers):
    """`count` worker processes with the timed conferencing, until finish()."""

    def __init__(self, url: str, count: int, *, rings: bool = True) -> None:
        context = mp.get_context("spawn")
        self.start, self.stop, self.out = context.Event(), context.Event(), context.Queue()
        args = (url, rings, self.start, self.stop, self.out)
        self.processes = [context.Process(target=_worker, args=args) for _ in range(count)]
        self.seconds = START_SECONDS

    def finish(self) -> list[tuple[str, float]]:
        self.stop.set()
        results = [self._get("rung", START_SECONDS) for _ in self.processes]
        return [item for items in results for item in items]


# ----- the database: an agent, the callers waiting, the probes' calls -----


def seed(url: str, *, probes: int, waiting: int) -> list[tuple[uuid.UUID, str]]:
    """One agent available (general, Italian); `waiting` callers already in the queue whom no
    free agent can take; `probes` verified calls at the press-0 question. Answers each probe's
    call id and sid."""
    from app import create_app
    from app.agents import service
    from app.agents.models import Presence
    from app.audit.service import Actor
    from app.calls.models import Call, CallDirection, CallStatus
    from app.extensions import db
    from app.flows.definition import VERIFIED, VERIFIED_AT
    from app.flows.registry import flows
    from app.staff.models import Role, StaffUser

    customers = seed_customers(url, probes + waiting)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_LEVEL": "WARNING"})
    now = datetime.now(UTC)
    with app.app_context():
        version = flows()[FLOW].version
    supervisor = Actor("bench:supervisor")

    def call(i: int, locale: str) -> Call:
        row = Call(
            id=uuid.uuid4(),
            sid=f"CA{uuid.uuid4().hex}",
            direction=CallDirection.OUTBOUND,
            from_number="+14155550100",
            to_number=f"+393331{i:06d}",
            customer_id=customers[i],
            flow=FLOW,
            flow_version=version,
            locale=locale,
            status=CallStatus.IN_PROGRESS,
            answered_at=now - timedelta(minutes=1),
            # The verify node accepted the app's code earlier in this call (never the code).
            variables={VERIFIED: True, VERIFIED_AT: (now - timedelta(seconds=30)).isoformat()},
        )
        db.session.add(row)
        return row

    with app.app_context():
        staff = StaffUser(
            id=uuid.uuid4(),
            email="bench-agent@bank.example",
            name="Bench Agent",
            role=Role.AGENT,
            password_hash=uuid.uuid4().hex,  # nobody signs in
        )
        db.session.add(staff)
        db.session.flush()
        agent = service.profile(db.session, staff)
        service.set_skills(db.session, agent, ["general"], [LOCALE], actor=supervisor)
        service.set_presence(
            db.session, agent, Presence.AVAILABLE, actor=supervisor, now=now - timedelta(hours=1)
        )
        for k in range(waiting):
            skill, locale = OTHERS[k % len(OTHERS)]
            service.enqueue(
                db.session,
                call=call(probes + k, locale),
                skill=skill,
                priority=3 if k % 2 else 2,  # ahead of a probe (2), however it is ordered
                locale=locale,
                customer_id=customers[probes + k],
                now=now - timedelta(minutes=10) + timedelta(milliseconds=k),
            )
        made = [call(i, LOCALE) for i in range(probes)]
        db.session.commit()
        answer = [(row.id, str(row.sid)) for row in made]
        db.engine.dispose()
    with raw(url) as connection:
        connection.execute("ANALYZE")
    return answer


# ----- the probes -----


def conference_of(twiml: str) -> str | None:
    """The conference the caller was sent to wait in, from the answer's TwiML."""
    found = CONFERENCE.search(twiml)
    return found.group(1) if found else None


class Line:
    """Twilio's side of the probes' calls: signed webhooks to the web process."""

    def __init__(self, web: WebProcess) -> None:
        from app.carriers.signatures import signing_token

        self.web = web
        self.token = signing_token(
            {
                "TWILIO_AUTH_TOKEN": web.env.get("TWILIO_AUTH_TOKEN"),
                "SECRET_KEY": web.env["SECRET_KEY"],
            }
        )
        self.http = requests.Session()

    def post(self, path: str, form: dict[str, str]) -> requests.Response:
        from app.carriers.signatures import signature_for

        url = self.web.base + path  # PUBLIC_BASE_URL is the web process's own address
        return self.http.post(
            url,
            data=form,
            headers={"X-Twilio-Signature": signature_for(self.token, url, form)},
            timeout=60,
        )

    def press(self, call_id: uuid.UUID, sid: str, digits: str) -> requests.Response:
        return self.post(
            f"/twilio/voice/calls/{call_id}/nodes/{QUESTION}/input?attempt=1",
            {"CallSid": sid, "Digits": digits, "CallStatus": "in-progress"},
        )

    def hang_up(self, sid: str) -> requests.Response:
        return self.post(
            "/twilio/voice/status",
            {"CallSid": sid, "CallStatus": "completed", "CallDuration": "60"},
        )


def rang(url: str, conference: str, timeout: float) -> bool:
    """Whether the caller's place was offered and the agent's phone rung, within `timeout`."""
    deadline = time.monotonic() + timeout
    with raw(url) as connection:
        connection.autocommit = True
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT agent_call_sid FROM queue_entries WHERE id = %s", (conference,)
            ).fetchone()
            if row is not None and row[0] is not None:
                return True
            time.sleep(0.01)
    return False


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile in ms, interpolated between the values measured (never beyond the
    largest: with 60 probes the default method would extrapolate p99 past it)."""
    if len(values) < 2:
        return round(values[0] * 1000) if values else float("nan")
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000)


def ring_latencies(answered: dict[str, float], rung: list[tuple[str, float]]) -> list[float]:
    """Seconds from each probe's answer to the first ring of its conference; BenchmarkFailed
    when a probe's desk never rang or one conference rang twice."""
    first: dict[str, float] = {}
    twice = 0
    for conference, moment in rung:
        if conference in first:
            twice += 1
        first[conference] = min(moment, first.get(conference, moment))
    missing = [name for name in answered if name not in first]
    expect(not missing, f"{len(missing)} callers of {len(answered)} who pressed 0 never rang")
    expect(twice == 0, f"{twice} callers' conferences rang an agent twice")
    return [max(0.0, first[name] - answered[name]) for name in answered]


def bench_press0(
    probes: int, *, waiting: int, workers: int = 2, rings: bool = True
) -> dict[str, Any]:
    """`probes` callers press 0, one after another, with `waiting` callers nobody free can take
    already in the queue."""
    expect(probes >= 2, "--press0-probes must be at least 2 (percentiles need two)")
    url = new_database_url()
    web = WebProcess(url)
    web.env["PUBLIC_BASE_URL"] = web.base
    try:
        web.start()
        fresh_database(url)
        web.healthy()
        calls = seed(url, probes=probes, waiting=waiting)
        line = Line(web)
        answered: dict[str, float] = {}
        round_trips: list[float] = []
        with RingWorkers(url, workers, rings=rings) as running:
            running.go()
            time.sleep(1.0)  # each scheduler's first ticks, before the first probe
            for i, (call_id, sid) in enumerate(calls):
                sent = time.time()
                response = line.press(call_id, sid, "0")
                at = time.time()
                conference = conference_of(response.text)
                expect(
                    response.status_code == 200 and conference is not None,
                    f"probe {i}: the input webhook answered {response.status_code} without a "
                    f"waiting room: {response.text[:300]}",
                )
                assert conference is not None
                answered[conference] = at
                round_trips.append(at - sent)
                rang(url, conference, RING_WAIT_SECONDS)
                gone = line.hang_up(sid)
                expect(
                    gone.status_code == 204,
                    f"probe {i}: the status callback answered {gone.status_code}: "
                    f"{gone.text[:300]}",
                )
            rung = running.finish()
        with raw(url) as connection:
            still = connection.execute(
                "SELECT count(*) FROM queue_entries WHERE state = 'waiting'"
            ).fetchone()[0]
    except requests.RequestException as exc:
        raise BenchmarkFailed(f"a webhook request failed: {type(exc).__name__}: {exc}") from None
    finally:
        web.stop()
        drop_database(url)
    latencies = ring_latencies(answered, rung)
    expect(still == waiting, f"{still} callers still waiting at the end, not {waiting}")
    return {
        "waiting": waiting,
        "agents_free": 1,
        "probes": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(max(latencies) * 1000),
        "input_webhook_p50_ms": percentile(round_trips, 50),
        "input_webhook_p99_ms": percentile(round_trips, 99),
        "input_webhook_max_ms": round(max(round_trips) * 1000),
        "target_met": percentile(latencies, 99) <= 2000,
    }


def run(probes: int, waiting: int) -> dict[str, dict[str, Any]]:
    from benchmarks.callbacks import progress

    results = {"press0": bench_press0(probes, waiting=0)}
    progress("press 0 to ring, an agent free, measured; its checks passed")
    results["press0_waiting"] = bench_press0(probes, waiting=waiting)
    progress(f"press 0 to ring with {waiting} callers waiting measured; its checks passed")
    return results

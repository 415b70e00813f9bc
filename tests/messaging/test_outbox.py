"""The one outbox: each message goes out once, and no lock is held while the network is asked."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask, Response, request
from werkzeug.serving import make_server

from app.audit.models import AuditEvent
from app.carriers.carrier import TelephonyError
from app.carriers.recording import RecordingTelephony
from app.extensions import db
from app.messaging.models import MessageKind, MessageState, OutboxMessage
from app.messaging.outbox import AuditOnSend, Channels, deliver_due, enqueue, notify_core
from app.messaging.webhooks import verify
from tests.conftest import make_app
from tests.engine_fixtures import SECRET as SECRET_FOR_CORE

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SECRET = "core-secret"


def queue_texts(app: Flask, count: int, *, audit: bool = False) -> None:
    with app.app_context():
        for n in range(count):
            enqueue(
                db.session,
                kind=MessageKind.SMS,
                recipient=f"+3933300{n:05d}",
                sender="+14155550103",
                body=f"text {n}",
                now=NOW,
                dedupe_key=f"test:{n}",
                audit=AuditOnSend("worker:test", "test.text_sent", "test", n) if audit else None,
            )
        db.session.commit()


def states(app: Flask) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.state, OutboxMessage.attempts).order_by(OutboxMessage.id)
        )
        return [(state, attempts) for state, attempts in rows]


def test_a_message_queued_twice_under_one_key_is_sent_once_and_audited(app):
    queue_texts(app, 1, audit=True)
    queue_texts(app, 1, audit=True)  # the same dedupe key again
    carrier = RecordingTelephony()

    with app.app_context():
        first = deliver_due(db.session, channels=Channels(telephony=carrier), worker="w", now=NOW)
        again = deliver_due(db.session, channels=Channels(telephony=carrier), worker="w", now=NOW)
        audited = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action == "test.text_sent")
        ).all()

    assert (first, again) == (1, 0)
    assert carrier.texts == [("+393330000000", "text 0")]
    assert audited == ["test.text_sent"]
    assert states(app) == [("sent", 1)]


def test_a_text_whose_worker_vanished_mid_send_is_never_sent_again(app):
    queue_texts(app, 1)
    with app.app_context():  # a worker claimed it, then died before it could say what happened
        db.session.execute(
            sa.update(OutboxMessage).values(
                claimed_by="dead", claimed_until=NOW + timedelta(minutes=10), attempts=1
            )
        )
        db.session.commit()
    carrier = RecordingTelephony()

    with app.app_context():
        during = deliver_due(db.session, channels=Channels(telephony=carrier), worker="w", now=NOW)
        after = deliver_due(
            db.session,
            channels=Channels(telephony=carrier),
            worker="w",
            now=NOW + timedelta(minutes=11),
        )

    assert (during, after) == (0, 0)
    assert carrier.texts == []
    assert states(app) == [(MessageState.FAILED, 1)]


def test_webhooks_wait_without_a_url_and_texts_without_a_carrier(app):
    queue_texts(app, 1)
    with app.app_context():
        notify_core(db.session, type="callback.confirmed", payload={"a": 1}, now=NOW)
        db.session.commit()
        sent = deliver_due(db.session, channels=Channels(), worker="w", now=NOW)

    assert sent == 0
    assert states(app) == [("pending", 0), ("pending", 0)]


class LockProbe:
    """Asks PostgreSQL, from a connection of its own, whether the outbox rows are free to lock."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.locked: list[str] = []

    def check(self, what: str) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.text("SET lock_timeout = '100ms'"))
            try:
                connection.execute(sa.text("SELECT id FROM outbox_messages FOR UPDATE NOWAIT"))
            except sa.exc.OperationalError:
                self.locked.append(what)
            connection.rollback()
            # Nothing of ours sits in a transaction while a message is on the wire.
            idle = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            if idle:
                self.locked.append(f"{what}: a transaction is open")


class ProbingTelephony(RecordingTelephony):
    def __init__(self, probe: LockProbe) -> None:
        super().__init__()
        self.probe = probe

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        self.probe.check(f"sms to {to}")
        return super().send_sms(to=to, from_=from_, body=body)


@pytest.fixture
def postgres_app(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks and concurrent workers: PostgreSQL")
    return make_app(database_url)


def test_no_lock_or_transaction_is_held_while_a_text_or_a_webhook_is_sent(
    postgres_app, database_url
):
    app = postgres_app
    probe = LockProbe(database_url)
    received: list[tuple[str, bytes]] = []
    core = Flask("core")

    @core.post("/hook")
    def hook() -> Response:
        probe.check("webhook")
        received.append((request.headers["X-Callcenter-Signature"], request.get_data()))
        return Response("ok")

    server = make_server("127.0.0.1", 0, core, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    queue_texts(app, 3)
    with app.app_context():
        notify_core(db.session, type="callback.denied", payload={"x": "y"}, now=NOW)
        db.session.commit()
    channels = Channels(
        telephony=ProbingTelephony(probe),
        webhook_url=f"http://127.0.0.1:{server.port}/hook",
        webhook_secret=SECRET,
    )
    try:
        with app.app_context():
            sent = deliver_due(db.session, channels=channels, worker="w", now=NOW)
    finally:
        server.shutdown()
        probe.engine.dispose()

    assert sent == 4
    assert probe.locked == []
    ((signature, body),) = received
    assert verify(SECRET, signature, body, now=NOW)
    assert json.loads(body)["type"] == "callback.denied"


def test_two_workers_delivering_at_once_send_each_message_once(postgres_app):
    app = postgres_app
    queue_texts(app, 200)
    carrier = RecordingTelephony()
    start = threading.Barrier(2)
    totals: list[int] = []

    def worker(name: str) -> None:
        with app.app_context():
            start.wait()
            total = 0
            while True:  # small batches, so that the two interleave
                sent = deliver_due(
                    db.session,
                    channels=Channels(telephony=carrier),
                    worker=name,
                    now=NOW,
                    limit=7,
                )
                if not sent:
                    break
                total += sent
            totals.append(total)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    recipients = [to for to, _ in carrier.texts]
    assert len(recipients) == 200 and len(set(recipients)) == 200  # each once, none twice
    assert sum(totals) == 200 and all(totals)  # both workers took part
    assert set(states(app)) == {("sent", 1)}


def alerts(app: Flask, action: str) -> list[dict]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(AuditEvent.changes).where(AuditEvent.action == action))
        )


def test_a_core_notification_is_never_given_up_and_a_supervisor_is_alerted_when_overdue(
    app, core, caplog
):
    from app.console.dashboard import snapshot

    channels = Channels(webhook_url=core.url, webhook_secret=SECRET_FOR_CORE)
    core.failing = 10_000  # the core system is down for days
    with app.app_context():
        notify_core(
            db.session,
            type="callback.denied",
            payload={"customer_external_id": "cust-42", "phone": "+393331234567"},
            now=NOW,
        )
        db.session.commit()
    now, waits, overdue_seen = NOW, [], []
    with caplog.at_level("WARNING"):
        while now < NOW + timedelta(hours=50):  # past the old ladder's ~46 hours
            with app.app_context():
                assert deliver_due(db.session, channels=channels, worker="w", now=now) == 0
                message = db.session.scalars(sa.select(OutboxMessage)).one()
                overdue_seen.append(snapshot(db.session, now=now)["core_overdue"])
            assert message.state == MessageState.PENDING
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at

    # 1, 5, 15 minutes, then once an hour, for ever.
    assert waits[:6] == [timedelta(minutes=m) for m in (1, 5, 15, 60, 60, 60)]
    assert set(waits[6:]) == {timedelta(hours=1)}
    # Alerted once, an hour old: an audit entry, the dashboard, a warning without personal data.
    assert [a["type"] for a in alerts(app, "outbox.overdue")] == ["callback.denied"]
    assert overdue_seen[:3] == [0, 0, 0] and overdue_seen[-1] == 1
    warnings = [r for r in caplog.records if r.getMessage() == "core notification overdue"]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert not [
        r
        for r in caplog.records
        if "393331234567" in str(r.__dict__) or "cust-42" in str(r.__dict__)
    ]

    core.failing = 0  # the core system is back: the notification goes
    with app.app_context():
        assert deliver_due(db.session, channels=channels, worker="w", now=now) == 1
        assert snapshot(db.session, now=now)["core_overdue"] == 0
    assert [body["type"] for body, _, _ in core.received] == ["callback.denied"]


class RefusingTelephony(RecordingTelephony):
    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        raise TelephonyError("Twilio 400 (code 21610): unsubscribed recipient")


def test_a_text_that_gives_up_alerts_a_supervisor(app):
    from app.console.dashboard import snapshot

    queue_texts(app, 1)
    with app.app_context():
        deliver_due(
            db.session, channels=Channels(telephony=RefusingTelephony()), worker="w", now=NOW
        )
        given_up = snapshot(db.session, now=NOW)["messages_given_up"]

    assert states(app) == [(MessageState.FAILED, 1)]
    assert [a["type"] for a in alerts(app, "outbox.given_up")] == ["sms"]
    assert given_up == 1

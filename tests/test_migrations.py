"""Migrations build the schema from empty on both databases, and match the models exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.database import Base
from app.extensions import db
from tests.conftest import create_postgres_database, drop_postgres_database, make_app


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = create_postgres_database()
        yield url
        drop_postgres_database(url)


def test_upgrade_from_empty_builds_every_table_and_matches_the_models(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        db.engine.dispose()

    assert {table.name for table in Base.metadata.sorted_tables} | {"alembic_version"} == tables
    assert differences == []


def test_downgrade_to_empty_and_upgrade_again(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "customers" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'wal.db'}")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with app.app_context():
        db.engine.dispose()


def test_upgrading_a_database_with_calls_keeps_every_call_and_its_history(empty_database):
    """Later migrations rebuild tables on SQLite; rows that refer to them must survive."""
    import uuid

    app = make_app(empty_database)
    call_id = uuid.uuid4().hex if "sqlite" in empty_database else str(uuid.uuid4())
    with app.app_context():
        upgrade(revision="e5cc849732ce")  # calls, call events and turns exist; callbacks not yet
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO calls (id, direction, from_number, to_number, flow,"
                    " flow_version, locale, status, variables, created_at)"
                    " VALUES (:id, 'outbound', '+14155550100', '+393331234567',"
                    " 'transaction_alert', 1, 'it', 'completed', '{}', '2026-11-01 10:00:00')"
                ),
                {"id": call_id},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO call_events (call_id, status, received_at) VALUES"
                    " (:id, 'completed', '2026-11-01 10:05:00')"
                ),
                {"id": call_id},
            )
        upgrade()
        with db.engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM call_events")).scalar()
            calls = connection.execute(sa.text("SELECT count(*) FROM calls")).scalar()
        db.engine.dispose()

    assert (calls, events) == (1, 1)


def test_core_notifications_move_into_the_outbox_keeping_their_ids(empty_database):
    """The core system drops a repeated webhook by its id: a pending one keeps it in the outbox."""
    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="7a6d669a0215")
        with db.engine.begin() as connection:
            for id, delivered in ((7, "2026-11-01 10:01:00"), (9, None)):
                connection.execute(
                    sa.text(
                        "INSERT INTO core_notifications (id, type, payload, attempts,"
                        " next_attempt_at, delivered_at, created_at) VALUES (:id,"
                        " 'callback.denied', '{\"callback_id\": \"c1\"}', 1,"
                        " '2026-11-01 10:00:00', :delivered, '2026-11-01 10:00:00')"
                    ),
                    {"id": id, "delivered": delivered},
                )
        upgrade()
        with db.engine.connect() as connection:
            moved = connection.execute(
                sa.text(
                    "SELECT id, kind, subject, body, state, attempts FROM outbox_messages"
                    " ORDER BY id"
                )
            ).all()
        with app.test_request_context():
            from datetime import UTC, datetime

            from app.messaging.outbox import notify_core

            now = datetime(2026, 11, 2, tzinfo=UTC)
            notify_core(db.session, type="callback.confirmed", payload={}, now=now)
            db.session.commit()
            newest = db.session.scalar(sa.text("SELECT max(id) FROM outbox_messages"))
        db.engine.dispose()

    body = '{"callback_id":"c1"}'
    assert [tuple(row) for row in moved] == [
        (7, "webhook", "callback.denied", body, "sent", 1),
        (9, "webhook", "callback.denied", body, "pending", 1),
    ]
    assert newest == 10  # the next message continues after the moved ids

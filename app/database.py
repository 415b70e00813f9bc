"""The declarative base, column types shared by every domain, and SQLite's connection settings."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, Enum, MetaData, Result, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that migrations name the same thing on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so naive values read from it are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def rows_matched(result: Result[Any]) -> int:
    """How many rows the UPDATE or DELETE that gave this result matched.

    Session.execute returns a CursorResult for every INSERT, UPDATE and DELETE, as SQLAlchemy
    documents, but is typed to return a plain Result, which has no rowcount
    (sqlalchemy/sqlalchemy#9185).
    """
    return cast(CursorResult[Any], result).rowcount


# PostgreSQL's SQLSTATEs for a transaction that lost a race and may simply be run again.
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
UNIQUE_VIOLATION = "23505"


def sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error (psycopg), or None (SQLite has none)."""
    return getattr(error.orig, "sqlstate", None)


def lost_a_race(error: DBAPIError) -> bool:
    """The transaction failed only because of concurrent ones, and may be run again whole:
    a deadlock or serialization failure on PostgreSQL, a busy database on SQLite."""
    if sqlstate(error) in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED):
        return True
    return "database is locked" in str(error.orig)


def unique_violation(error: DBAPIError) -> bool:
    """A unique constraint refused the row (on SQLite too)."""
    return sqlstate(error) == UNIQUE_VIOLATION or "UNIQUE constraint failed" in str(error.orig)


def enum_by_value(enum_class: type[enum.Enum], name: str) -> Enum:
    """An Enum column that stores each member's value (not its name) as plain text."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets the web and worker processes read while one writes; foreign keys are enforced."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def insert_new(
    session: Session, model: type[Base], rows: list[dict[str, Any]], key: InstrumentedAttribute[Any]
) -> list[Any]:
    """INSERT these rows in one statement, skipping any whose key another transaction inserted
    first (ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike); answers the keys inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(rows).on_conflict_do_nothing().returning(key)
    return list(session.scalars(statement))

"""Fixtures: every test that takes `app` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.database import Base
from app.extensions import db
from tests.support import API_KEY, ApiClient
from tests.twiml_schema import check_twiml_response

POSTGRES_ADMIN_URL = os.environ.get(
    "DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_required() -> bool:
    """In CI (and when scripts/test found a server) a missing PostgreSQL fails, never skips."""
    return (
        os.environ.get("CI", "").lower() in {"1", "true", "yes"}
        or os.environ.get("REQUIRE_POSTGRES") == "1"
    )


def make_app(database_url: str, **settings: Any) -> Flask:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "API_KEYS": (API_KEY,), **settings})
    app.after_request(check_twiml_response)
    return app


def migrate_to_head(database_url: str) -> None:
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


def _admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


def create_postgres_database() -> str:
    """A new, empty PostgreSQL database; skipped (or failed in CI) when no server answers."""
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            name = f"callcenter_test_{uuid.uuid4().hex[:10]}"
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}"
        if postgres_required():
            pytest.fail(message)
        pytest.skip(message)
    finally:
        engine.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    engine = _admin_engine()
    with engine.connect() as connection:
        name = make_url(url).database
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the session; tables are emptied after each test."""
    url = create_postgres_database()
    migrate_to_head(url)
    yield url
    drop_postgres_database(url)


def empty_postgres_tables(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # The audit log refuses TRUNCATE; only a superuser in replica mode (no triggers) may.
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "callcenter.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        yield url
        empty_postgres_tables(url)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> ApiClient:
    return ApiClient(client)


# The telephony fixtures (simulator, official lines, a customer) serve every domain's tests.
pytest_plugins = ["tests.telephony_fixtures", "tests.engine_fixtures", "tests.browser_fixtures"]

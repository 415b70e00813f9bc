"""The API against its own OpenAPI document, with Schemathesis, in process, on both databases.

Every operation of /api/v1/openapi.json gets Schemathesis's examples, boundary cases (missing
and wrong fields, empty bodies, undeclared methods) and a bounded run of generated requests,
valid and invalid. Each answer must be no 5xx, a status the document lists, with the headers
and the body it describes; a request without the key must get 401, an undeclared method 405
with Allow. A fault in the app fails the test with its traceback (the test app re-raises).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from app import create_app
from app.extensions import db
from app.ratelimit import DEFAULT_LIMITS
from tests.conftest import empty_postgres_tables, make_app
from tests.support import API_KEY

#: Generated requests per operation, on top of the examples and boundary cases. Bounded so the
#: whole run stays within a couple of minutes of the suite on a small machine.
MAX_EXAMPLES = 12


class AppUnderTest:
    """The WSGI app Schemathesis calls: the app of the database being tested."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        assert self.app is not None, "the fuzzed_app fixture sets the app under test"
        return self.app(environ, start_response)


def _document() -> dict[str, Any]:
    """The document the app serves (it does not depend on the database)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return app.test_client().get("/api/v1/openapi.json").get_json()


DOCUMENT = _document()
UNDER_TEST = AppUnderTest()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            # The same cases on every run: a failure here is the code's, never the dice's.
            "seed": 20261130,
            "headers": {"Authorization": f"Bearer {API_KEY}"},
            "checks": {
                # A request can match the document and still mean nothing (a number that is no
                # phone number, a customer never registered): the answer is then a documented
                # 422 naming the field. Every other check runs as Schemathesis ships it.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "404", "409", "422", "429"]
                },
            },
        }
    ),
)
schema.app = UNDER_TEST


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One app per database for every operation, its rate limits too high to hide behaviour."""
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("fuzz")) / "callcenter.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = make_app(url, RATE_LIMITS={name: "1000000/second" for name in DEFAULT_LIMITS})
    UNDER_TEST.app = app
    yield app
    UNDER_TEST.app = None
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        empty_postgres_tables(url)


def test_the_document_is_the_one_the_app_serves(fuzzed_app: Flask) -> None:
    served = fuzzed_app.test_client().get("/api/v1/openapi.json").get_json()

    assert served == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_one_the_document_describes(case: schemathesis.Case, fuzzed_app) -> None:
    case.call_and_validate()

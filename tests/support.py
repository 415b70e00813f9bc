"""Helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db

API_KEY = "test-integrator-key"


class ApiClient:
    """The test client with the integrator key already in the Authorization header."""

    def __init__(self, client: FlaskClient, key: str = API_KEY) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def _headers(self, kwargs: dict[str, Any]) -> dict[str, str]:
        return {**self.headers, **kwargs.pop("headers", {})}

    def get(self, path: str, **kwargs: Any):
        return self.client.get(path, headers=self._headers(kwargs), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any):
        return self.client.post(path, json=json, headers=self._headers(kwargs), **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any):
        return self.client.patch(path, json=json, headers=self._headers(kwargs), **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.client.delete(path, headers=self._headers(kwargs), **kwargs)


def count_rows(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

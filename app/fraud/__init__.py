"""Fraud cases: "it was not me" answers, and the receipt texted to the customer."""

from __future__ import annotations

from flask import Flask

from app.registry import registry_of


def init_app(app: Flask) -> None:
    from app.fraud.views import blp

    registry = registry_of(app)
    registry.api_blueprint(blp)
    # The receipt after "it was not me" should reach the customer while they still remember.
    registry.tick("receipts", 5.0, _receipts)


def _receipts(app: Flask, worker: str) -> None:
    from app import clock
    from app.carriers.service import telephony_for
    from app.extensions import db
    from app.fraud.service import send_receipts

    send_receipts(
        db.session,
        telephony=telephony_for(app),
        company=app.config["COMPANY_NAME"],
        now=clock.now(),
    )

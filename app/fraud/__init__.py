"""Fraud cases: "it was not me" answers, and the receipt texted to the customer."""

from __future__ import annotations

from datetime import datetime

from flask import Config, Flask
from sqlalchemy.orm import Session

from app.registry import registry_of


def init_app(app: Flask) -> None:
    """The fraud-case API; the outbox asks each round for the receipts that are due."""
    from app.fraud.views import blp
    from app.messaging.engine import collecting

    registry = registry_of(app)
    registry.api_blueprint(blp)
    registry.receiver(collecting, queue_receipts_due)


def queue_receipts_due(_: object, *, session: Session, now: datetime, config: Config) -> None:
    from app.fraud.service import queue_receipts

    queue_receipts(session, company=config["COMPANY_NAME"], now=now)

"""The outbox's worker tick: domains queue what is due, then one delivery round sends it."""

from __future__ import annotations

import logging
from datetime import datetime

from blinker import Namespace
from flask import Flask
from sqlalchemy.orm import Session

from app import clock
from app.carriers.service import telephony_for
from app.extensions import db
from app.messaging.models import MessageKind
from app.messaging.outbox import Channels, deliver_due

log = logging.getLogger(__name__)

#: Sent at the start of each outbox tick: receivers (a domain whose messages depend on the state
#: of its rows, e.g. a callback that owes a notice) queue what is due and commit; they get
#: `session`, `now` and the app's `config`.
collecting = Namespace().signal("outbox-collecting")


def channels_for(app: Flask) -> Channels:
    return Channels(
        telephony=telephony_for(app),
        smtp_url=app.config.get("SMTP_URL"),
        mail_from=app.config["MAIL_FROM"],
        webhook_url=app.config.get("CORE_WEBHOOK_URL"),
        webhook_secret=app.config.get("CORE_WEBHOOK_SECRET"),
    )


def run_outbox(
    app: Flask,
    session: Session,
    *,
    worker: str,
    now: datetime,
    kinds: set[MessageKind] | None = None,
) -> int:
    """One round: let the domains queue what is due, then deliver; answers how many went."""
    if kinds is None:
        for receiver in collecting.receivers_for(None):
            try:
                receiver(None, session=session, now=now, config=app.config)
            except Exception:  # one domain's failure does not stop the others' messages
                session.rollback()
                log.exception("queuing messages failed", extra={"receiver": repr(receiver)})
    return deliver_due(session, channels=channels_for(app), worker=worker, now=now, kinds=kinds)


def outbox(app: Flask, worker: str) -> None:
    """The worker's one outbox tick (every 5 s: a fraud receipt should arrive while remembered)."""
    run_outbox(app, db.session(), worker=worker, now=clock.now())

"""The ringing port: who rings an agent's desk when the router offers them a caller.

The router only decides (app.agents.service.route); the worker's `route` tick hands the offers,
once committed, to every ringer registered on the app, in the order they were added: the desk
(a browser phone) and the carrier (a conference participant) add theirs in their init_app with
`add_ringer(app, ringer)`. With none, the offers are only logged, by ids, and the agent sees the
caller on their desk's next look at the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from flask import Flask

if TYPE_CHECKING:
    from app.agents.service import Offer

log = logging.getLogger(__name__)

_KEY = "agent_ringers"


class Ringer(Protocol):
    """Ring the agents of these offers (called after the commit that made them, in an app
    context); a failure is logged and the others still ring. An offer nobody answers expires
    by itself, so a ringer that fails loses no caller."""

    def __call__(self, app: Flask, offers: Sequence[Offer]) -> None: ...


def log_offers(app: Flask, offers: Sequence[Offer]) -> None:
    """The default ringer: a log line per offer (ids only, no personal data)."""
    for offer in offers:
        log.info(
            "caller offered to an agent",
            extra={
                "entry_id": str(offer.entry_id),
                "agent_id": str(offer.agent_id),
                "virtual_hold": offer.virtual_hold,
            },
        )


def add_ringer(app: Flask, ringer: Ringer) -> None:
    """Register a ringer (in a domain's or a face's init_app)."""
    app.extensions.setdefault(_KEY, []).append(ringer)


def ringers(app: Flask) -> tuple[Ringer, ...]:
    """The app's ringers; the logging one when nobody registered any."""
    registered: list[Ringer] = app.extensions.get(_KEY) or []
    return tuple(registered) or (log_offers,)


def ring(app: Flask, offers: Sequence[Offer]) -> None:
    """Hand the offers to every ringer; one that fails does not stop the others."""
    if not offers:
        return
    for ringer in ringers(app):
        try:
            ringer(app, offers)
        except Exception:
            log.exception("a ringer failed", extra={"ringer": getattr(ringer, "__name__", "?")})

"""The app's carrier, chosen by configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask

from app.carriers.carrier import Conferencing, Telephony
from app.carriers.signatures import signing_token

if TYPE_CHECKING:
    from app.carriers.simulator import SimulatedCall


def telephony_for(app: Flask) -> Telephony:
    """The carrier named by TELEPHONY, built once per app."""
    if "telephony" not in app.extensions:
        if app.config["TELEPHONY"] == "twilio":
            from app.carriers.twilio_carrier import TwilioTelephony

            app.extensions["telephony"] = TwilioTelephony(
                account_sid=app.config["TWILIO_ACCOUNT_SID"],
                auth_token=app.config["TWILIO_AUTH_TOKEN"],
                api_base_url=app.config.get("TWILIO_API_BASE_URL"),
            )
        else:
            from app.carriers.simulator import HttpTransport, SimulatorTelephony, room_for

            app.extensions["telephony"] = SimulatorTelephony(
                transport=HttpTransport(),
                auth_token=signing_token(app.config),
                ring_store=_softphone_ring_store(app),
                ring_lookup=_softphone_ring_lookup(app),
                conferences=room_for(app),
            )
    return app.extensions["telephony"]


def conferencing_for(app: Flask) -> Conferencing:
    """The carrier's conferences (agents, supervisors), beside its calls: on Twilio through the
    same client; in the simulator, the simulator itself (the calls and conferences are one)."""
    if "conferencing" not in app.extensions:
        telephony = telephony_for(app)
        from app.carriers.twilio_carrier import TwilioTelephony

        if isinstance(telephony, TwilioTelephony):
            from app.carriers.conference import TwilioConferencing

            app.extensions["conferencing"] = TwilioConferencing.of(telephony)
        else:
            app.extensions["conferencing"] = telephony
    return app.extensions["conferencing"]


def _softphone_ring_store(app: Flask) -> Callable[[SimulatedCall], None]:
    """Unscripted simulated calls ring on the softphone page (kept in the database)."""
    from sqlalchemy.orm import Session as OrmSession

    from app.carriers.softphone import store_ring
    from app.extensions import db

    def store(call: SimulatedCall) -> None:
        # An outbound call's two ringing reports (sequence 0 and 1) follow from the simulator.
        sequence = 1 if call.direction != "inbound" else call.sequence
        with app.app_context(), OrmSession(db.engine) as session:
            store_ring(session, call, sequence=sequence)
            session.commit()

    return store


def _softphone_ring_lookup(app: Flask) -> Callable[[str, datetime, str], str | None]:
    """The simulated call to a number since a moment whose status callback carries a key, from
    the database (any process's)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session as OrmSession

    from app.carriers.models import SimulatorCall
    from app.extensions import db

    def lookup(number: str, since: datetime, key: str) -> str | None:
        with app.app_context(), OrmSession(db.engine) as session:
            rows = session.execute(
                select(SimulatorCall.sid, SimulatorCall.status_callback).where(
                    SimulatorCall.to_number == number, SimulatorCall.created_at >= since
                )
            )
            return next((sid for sid, url in rows if key in (url or "")), None)

    return lookup

"""Conferences on Twilio: agents and supervisors join a waiting caller as participants.

The caller's call waits in a conference whose FriendlyName is their queue entry's id (the TwiML
in app/carriers/twiml.py). Twilio's Create Participant accepts that name in place of the
conference's SID (its OpenAPI description leaves ConferenceSid free there, and creates the
conference if it is not there yet), so adding a person needs no look-up. Updating or removing a
participant needs the conference's SID (CF...): it comes from the created participant, or else
from Conferences?FriendlyName=..., and is kept for the conference's life.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from functools import partial
from typing import Any

from twilio.rest import Client

from app.carriers.carrier import (
    PARTICIPANT_CALLBACK_EVENTS,
    CarrierRefused,
    SupervisorMode,
    client_address,
    supervisor_settings,
)
from app.carriers.twilio_carrier import TwilioTelephony

CONFERENCE_SID = re.compile(r"^CF[0-9a-fA-F]{32}$")
RESOURCE_NOT_FOUND = 20404
# Conference SIDs kept (the newest): a call center has far fewer conferences alive at once.
KEPT_SIDS = 10_000


class TwilioConferencing:
    """The Conferencing interface on Twilio's REST API (the Telephony backend's own Client)."""

    name = "twilio"

    def __init__(self, client: Client) -> None:
        self.client = client
        self._sids: OrderedDict[str, str] = OrderedDict()  # FriendlyName -> SID
        self._lock = threading.Lock()

    @classmethod
    def of(cls, telephony: TwilioTelephony) -> TwilioConferencing:
        """Conferencing that shares a Telephony backend's client (credentials, origin, timeout)."""
        return cls(telephony.client)

    # ----- adding people -----

    def add_agent(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        status_callback: str,
        timeout: int = 20,
        label: str = "agent",
    ) -> str:
        return self._add(
            conference,
            to=client_address(identity),
            from_=from_,
            label=label,
            timeout=timeout,
            early_media=True,
            beep="false",
            start_conference_on_enter=True,
            end_conference_on_exit=False,
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=list(PARTICIPANT_CALLBACK_EVENTS),
        )

    def add_supervisor(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        mode: SupervisorMode,
        agent_call_sid: str | None = None,
        status_callback: str | None = None,
    ) -> str:
        options: dict[str, Any] = {
            "to": client_address(identity),
            "from_": from_,
            "label": "supervisor",
            "beep": "false",
            # A supervisor never starts nor ends the customer's conference.
            "start_conference_on_enter": False,
            "end_conference_on_exit": False,
            **supervisor_settings(mode, agent_call_sid),
        }
        if status_callback:
            options["status_callback"] = status_callback
            options["status_callback_method"] = "POST"
            options["status_callback_event"] = list(PARTICIPANT_CALLBACK_EVENTS)
        return self._add(conference, **options)

    def warm_transfer(
        self,
        conference: str,
        *,
        identity: str,
        from_: str,
        status_callback: str,
        timeout: int = 20,
    ) -> str:
        # The first agent stays until the caller's app removes them: the two talk first.
        return self.add_agent(
            conference,
            identity=identity,
            from_=from_,
            status_callback=status_callback,
            timeout=timeout,
            label="transfer",
        )

    def _add(self, conference: str, **options: Any) -> str:
        participants = self.client.conferences(conference).participants
        created = TwilioTelephony._do(lambda: participants.create(**options))
        if created.conference_sid and not CONFERENCE_SID.match(conference):
            self._keep(conference, str(created.conference_sid))
        return str(created.call_sid)

    # ----- changing people already in -----

    def change_supervisor_mode(
        self,
        conference: str,
        call_sid: str,
        *,
        mode: SupervisorMode,
        agent_call_sid: str | None = None,
    ) -> None:
        self._update(conference, call_sid, **supervisor_settings(mode, agent_call_sid))

    def hold(
        self, conference: str, call_sid: str, on: bool, *, hold_url: str | None = None
    ) -> None:
        options: dict[str, Any] = {"hold": on}
        if on and hold_url:
            options["hold_url"] = hold_url
            options["hold_method"] = "POST"
        self._update(conference, call_sid, **options)

    def remove(self, conference: str, call_sid: str) -> None:
        sid = self.conference_sid(conference)
        participant = self.client.conferences(sid).participants(call_sid)
        TwilioTelephony._do(participant.delete)

    def _update(self, conference: str, call_sid: str, **options: Any) -> None:
        sid = self.conference_sid(conference)
        participant = self.client.conferences(sid).participants(call_sid)
        TwilioTelephony._do(lambda: participant.update(**options))

    # ----- finding the conference -----

    def conference_sid(self, conference: str) -> str:
        """The SID of the live conference with this FriendlyName (or the SID itself).

        A conference waiting for its first agent is "init", one with an agent "in-progress":
        either will do; a completed one (the caller hung up) will not.
        """
        if CONFERENCE_SID.match(conference):
            return conference
        with self._lock:
            known = self._sids.get(conference)
        if known:
            return known
        for status in ("in-progress", "init"):
            found = TwilioTelephony._do(
                partial(
                    self.client.conferences.list, friendly_name=conference, status=status, limit=1
                )
            )
            if found:
                sid = str(found[0].sid)
                self._keep(conference, sid)
                return sid
        raise CarrierRefused(
            "Twilio 404: no conference in progress has this name (the caller has left)",
            code=RESOURCE_NOT_FOUND,
            status=404,
        )

    def _keep(self, conference: str, sid: str) -> None:
        with self._lock:
            self._sids[conference] = sid
            self._sids.move_to_end(conference)
            while len(self._sids) > KEPT_SIDS:
                self._sids.popitem(last=False)

"""Placing calls, recording what the carrier reports, and where a call's webhooks are."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from blinker import Namespace
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.calls.models import (
    FULLY_ATTESTED,
    Call,
    CallDirection,
    CallEvent,
    CallStatus,
    stir_verstat,
)
from app.carriers.carrier import OutboundCall, Telephony, TelephonyError
from app.customers.models import Customer
from app.database import utcnow
from app.errors import InvalidInput
from app.flows.definition import Flow
from app.flows.engine import FlowUrls, choose_language
from app.locales import SUPPORTED_LOCALES, settled_locale
from app.numbers.lines import caller_id_for
from app.numbers.models import OfficialNumber
from app.outcomes import Outcome
from app.phones import parse_phone

log = logging.getLogger(__name__)

#: Sent, inside the transaction that records it, when a call reaches its final status;
#: receivers (the callback engine) get the call and the session as keyword `session`.
call_ended = Namespace().signal("call-ended")
#: Sent when Twilio's transcription of a recording arrives: receivers get the call, `session`
#: and `text` (the complaints domain keeps it on the complaint the recording made).
transcription_received = Namespace().signal("transcription-received")
#: Sent when Twilio reports that it could not transcribe a recording (too short, too long,
#: nothing it could make out): receivers get the call and `session`.
transcription_failed = Namespace().signal("transcription-failed")


def new_reference() -> str:
    """Six digits a person can read out and check in the app."""
    return f"{secrets.randbelow(1_000_000):06d}"


def prepare_outbound_call(
    session: Session,
    *,
    urls: CallUrls,
    customer: Customer,
    flow: Flow,
    variables: dict[str, Any] | None = None,
    actor: Actor,
    to_number: str | None = None,
    callback_id: uuid.UUID | None = None,
    caller: OfficialNumber | None = None,
) -> tuple[Call, OutboundCall]:
    """Add the call's row (not committed) and what to ask the carrier once it is committed."""
    if flow.direction != "outbound":
        raise InvalidInput(f"flow: {flow.name} is not an outbound flow", field="flow")
    to = to_number or customer.phone
    caller = caller or caller_id_for(session, to)
    call_id = uuid.uuid4()
    call = Call(
        id=call_id,
        direction=CallDirection.OUTBOUND,
        from_number=caller.phone,
        to_number=to,
        customer_id=customer.id,
        callback_id=callback_id,
        flow=flow.name,
        flow_version=flow.version,
        locale=customer.locale,
        reference=new_reference(),
        status=CallStatus.QUEUED,
        variables=dict(variables or {}),
    )
    session.add(call)
    record(
        session,
        actor=actor,
        action="call.placed",
        subject_type="call",
        subject_id=call_id,
        changes={"flow": flow.name, "to": to, "from": caller.phone},
    )
    request = OutboundCall(
        to=to, from_=caller.phone, url=urls.start(call_id), status_callback=urls.status(call_id)
    )
    return call, request


def record_carrier_answer(
    session: Session, *, call: Call, sid: str | None, error: TelephonyError | None, actor: Actor
) -> None:
    """What the carrier said about a placed call: its id, or why it was not placed."""
    if error is None:
        if call.sid is None:
            call.sid = sid
        return
    # An unknown outcome stays queued: the call may exist, so it must not be blindly re-dialed.
    # A call whose final status came first (a quick carrier, a slow reply) keeps it: a call's
    # status never moves back.
    if not call.status.is_final:
        call.status = CallStatus.FAILED if error.outcome_known else CallStatus.QUEUED
    call.error = f"{type(error).__name__}: {error}"[:200]
    record(
        session,
        actor=actor,
        action="call.failed",
        subject_type="call",
        subject_id=call.id,
        changes={"error": call.error, "retry": error.retry},
    )


def start_outbound_call(
    session: Session,
    *,
    telephony: Telephony,
    urls: CallUrls,
    customer: Customer,
    flow: Flow,
    variables: dict[str, Any] | None = None,
    actor: Actor,
    to_number: str | None = None,
    callback_id: uuid.UUID | None = None,
) -> Call:
    """Record the call, commit, then ask the carrier to place it.

    The row is committed first so that the carrier's first webhook finds it, and no transaction
    is held open across the carrier's HTTP call.
    """
    call, request = prepare_outbound_call(
        session,
        urls=urls,
        customer=customer,
        flow=flow,
        variables=variables,
        actor=actor,
        to_number=to_number,
        callback_id=callback_id,
    )
    call_id = call.id
    session.commit()
    try:
        sid = telephony.place_call(request)
    except TelephonyError as exc:
        record_carrier_answer(
            session, call=session.get_one(Call, call_id), sid=None, error=exc, actor=actor
        )
        session.commit()
        raise
    call = session.get_one(Call, call_id)
    record_carrier_answer(session, call=call, sid=sid, error=None, actor=actor)
    session.commit()
    return call


def start_inbound_call(
    session: Session,
    *,
    sid: str,
    caller: str,
    called: str,
    flows: dict[str, Flow],
    attestation: str | None = None,
) -> Call | None:
    """The call record of a call to one of our lines; None if the line has no flow.

    `attestation` is Twilio's StirVerstat, kept with the call and noted in its transcript.
    """
    existing = session.scalar(select(Call).where(Call.sid == sid))
    if existing is not None:  # Twilio retried the webhook
        return existing
    try:
        line = parse_phone(called).e164
    except InvalidInput:
        return None
    official = session.scalar(
        select(OfficialNumber).where(
            OfficialNumber.phone == line, OfficialNumber.retired_at.is_(None)
        )
    )
    if official is None or not official.flow or official.flow not in flows:
        return None
    try:
        number = parse_phone(caller)
        from_number, region = number.e164, number.region
    except InvalidInput:  # withheld or malformed caller ID
        from_number, region = "anonymous", None
    known = session.execute(
        select(Customer.id, Customer.locale).where(Customer.phone == from_number).limit(1)
    ).first()
    customer_id = known.id if known else None
    # The caller's language: a known customer's own, else their number's country's, else the
    # caller chooses it (a menu before the flow starts). A known customer's own only when the
    # network vouched for the number (A): a caller ID it did not vouch for may be anyone's, and
    # a greeting in the customer's language would tell them that the number is a customer's.
    vouched = stir_verstat(attestation) == FULLY_ATTESTED
    locale = known.locale if known and vouched and known.locale in SUPPORTED_LOCALES else None
    locale = locale or settled_locale(region)
    flow = flows[official.flow]
    call = Call(
        sid=sid,
        direction=CallDirection.INBOUND,
        from_number=from_number,
        to_number=line,
        customer_id=customer_id,
        flow=flow.name,
        flow_version=flow.version,
        locale=locale or "en",
        caller_id_attestation=stir_verstat(attestation),
        status=CallStatus.IN_PROGRESS,
        answered_at=utcnow(),
        variables={},
    )
    choose_language(call, locale is None)
    try:
        with session.begin_nested():
            session.add(call)
            session.flush()
            # The transcript's first line: how far the network vouched for the caller ID.
            call.add_turn(flow.start, "system", f"[caller_id: {call.caller_id_attestation}]")
    except IntegrityError:  # the same CallSid raced in twice
        return session.scalar(select(Call).where(Call.sid == sid))
    return call


def record_status(
    session: Session,
    *,
    call: Call,
    status: str,
    sequence_number: str | None = None,
    timestamp: str | None = None,
    duration: str | None = None,
    answered_by: str | None = None,
    sid: str | None = None,
) -> bool:
    """Keep each status of a call once; a late or repeated report never moves the call back.

    Answers whether the report was new.
    """
    try:
        reported = CallStatus(status)
    except ValueError:
        log.warning("unknown call status ignored", extra={"status": status})
        return False
    if sid and call.sid is None:
        call.sid = sid
    seen = session.scalar(
        select(CallEvent.id).where(CallEvent.call_id == call.id, CallEvent.status == reported)
    )
    if seen is not None:
        return False
    event = CallEvent(
        call_id=call.id,
        status=reported,
        sequence_number=(
            int(sequence_number) if sequence_number and sequence_number.isdigit() else None
        ),
        reported_at=_parse_timestamp(timestamp),
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:  # the same report raced in twice
        return False
    if reported.rank > call.status.rank:
        call.status = reported
        now = clock.now()  # the app's clock, as the callback engine's (the quiet after a call)
        if reported is CallStatus.IN_PROGRESS:
            call.answered_at = call.answered_at or now
            call.answered_by = answered_by or call.answered_by
        if reported.is_final:
            call.ended_at = now
            if (duration or "").isdigit():
                call.duration_seconds = int(duration or 0)
            if reported is not CallStatus.COMPLETED and call.outcome is None:
                call.outcome = Outcome.UNREACHABLE.value
            call_ended.send(call, session=session)
    return True


def _parse_timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


class CallUrls:
    """Absolute URLs of a call's webhooks on PUBLIC_BASE_URL (what Twilio calls and signs)."""

    def __init__(self, app: Flask) -> None:
        self.base = app.config["PUBLIC_BASE_URL"]
        self.adapter = app.url_map.bind("callcenter.invalid")

    def _url(self, endpoint: str, **values: Any) -> str:
        return self.base + self.adapter.build(endpoint, values)

    def start(self, call_id: uuid.UUID) -> str:
        return self._url("twilio.call_start", call_id=call_id)

    def status(self, call_id: uuid.UUID | None = None) -> str:
        """The status callback; outbound calls name their call, inbound ones go by CallSid."""
        if call_id is None:
            return self._url("twilio.status")
        return self._url("twilio.status", call=str(call_id))

    def inbound(self) -> str:
        return self._url("twilio.inbound")

    def hold_offer(self, call_id: uuid.UUID, node: str, *, offer: int) -> str:
        """Where a waiting caller is brought to be offered a call back (`offer` tells one offer
        from another, so that each is a step of its own)."""
        return self._url("twilio.call_hold_offer", call_id=call_id, node=node, offer=offer)

    def for_call(self, call_id: uuid.UUID, *, step: int | None = None) -> FlowUrls:
        """The flow's URLs for one call; `step` (the step answering now) makes each one unique."""
        return _FlowUrls(self, call_id, step)


class _FlowUrls:
    def __init__(self, urls: CallUrls, call_id: uuid.UUID, step: int | None) -> None:
        self.urls, self.call_id = urls, call_id
        # Where the caller comes back from: a flow that returns to a question it asked before
        # gets a new URL, so its answer is a new step rather than a replay of the old one.
        self.after = {} if step is None else {"step": step}

    def node(self, node: str) -> str:
        return self.urls._url("twilio.call_node", call_id=self.call_id, node=node, **self.after)

    def input(self, node: str, attempt: int) -> str:
        return self.urls._url(
            "twilio.call_input", call_id=self.call_id, node=node, attempt=attempt, **self.after
        )

    def recorded(self, node: str) -> str:
        return self.urls._url("twilio.call_recorded", call_id=self.call_id, node=node, **self.after)

    def transcribed(self, node: str) -> str:
        return self.urls._url("twilio.call_transcribed", call_id=self.call_id, node=node)

    def dialed(self, node: str) -> str:
        return self.urls._url("twilio.call_dialed", call_id=self.call_id, node=node, **self.after)

    def waiting(self, node: str, round_: int) -> str:
        return self.urls._url(
            "twilio.call_waiting", call_id=self.call_id, node=node, round=round_, **self.after
        )

    def conference_events(self, node: str) -> str:
        return self.urls._url("twilio.call_conference_events", call_id=self.call_id, node=node)

"""Twilio's webhooks: inbound calls, status callbacks, and each step of a call's flow.

Every route checks X-Twilio-Signature first; a refused request changes nothing. Each step of a
flow is answered once: the same step again (Twilio retrying, or someone replaying a signed
request) gets the first answer without running anything, and a call that has ended runs no more
steps.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from app.calls import service as calls
from app.calls.models import Call
from app.carriers.signatures import twilio_signed
from app.extensions import db
from app.flows.engine import FlowRun, UnknownNode, left_the_queue
from app.flows.prompts import VOICES
from app.flows.registry import flows, queueing_of
from app.flows.variables import render
from app.ivr.steps import code_checker_for, flow_run, step_key, take_step

bp = Blueprint("twilio", __name__, url_prefix="/twilio/voice")
log = logging.getLogger(__name__)


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _goodbye(prompt: str = "not_in_service", locale: str = "en") -> Response:
    """A polite end for a call we cannot serve (unknown line, unknown call, a call that ended)."""
    response = VoiceResponse()
    locale = locale if locale in VOICES else "en"
    text = next(iter(flows().values())).prompts[prompt][locale]
    language, voice = VOICES[locale]
    response.say(render(text, locale, {}, time_zone=None), language=language, voice=voice)
    response.hangup()
    return twiml(response)


def _run(call: Call, step: int | None = None) -> FlowRun:
    return flow_run(
        db.session(),
        call=call,
        flow=flows()[call.flow],
        urls=calls.CallUrls(current_app),
        check_code=code_checker_for(current_app),
        company=current_app.config["COMPANY_NAME"],
        step=step,
    )


def _answer_once(
    call: Call, advance: Callable[[FlowRun], VoiceResponse], *, after_end: bool = False
) -> Response:
    """Run one step of the call's flow, unless the call has ended or the step was answered.

    `after_end` lets a step through once after the call ended: Twilio reports a recording or a
    transfer to its action URL even when the caller hung up during it.
    """
    call_id, locale = call.id, call.locale
    if call.status.is_final and not after_end:
        db.session.rollback()
        log.warning("a step of a call that has ended was refused", extra={"call_id": str(call_id)})
        return _goodbye("goodbye", locale)
    key = step_key(current_app.secret_key or "", request.full_path, request.form)
    step, answered = take_step(db.session(), call=call, key=key)
    if answered:
        earlier = step.twiml
        db.session.rollback()
        log.info("a step answered before was sent again", extra={"call_id": str(call_id)})
        return Response(earlier, mimetype="text/xml") if earlier else _goodbye("goodbye", locale)
    try:
        response = advance(_run(call, step.id))
    except UnknownNode:
        db.session.rollback()
        return _goodbye("goodbye", locale)
    step.twiml = str(response)
    db.session.commit()
    return twiml(response)


def _call(call_id: uuid.UUID) -> Call | None:
    call = db.session.get(Call, call_id)
    if call is None or call.flow not in flows():
        return None
    sid = request.form.get("CallSid")
    if call.sid is None and sid:
        call.sid = sid
    elif sid and call.sid != sid:
        return None  # a step of one call replayed on another
    return call


@bp.post("/inbound")
@twilio_signed
def inbound() -> Response:
    call = calls.start_inbound_call(
        db.session(),
        sid=request.form.get("CallSid", ""),
        caller=request.form.get("From", ""),
        called=request.form.get("To", ""),
        flows=flows(),
        attestation=request.form.get("StirVerstat"),
    )
    if call is None:
        db.session.rollback()
        return _goodbye()
    return _answer_once(call, lambda run: run.begin())


@bp.post("/status")
@twilio_signed
def status() -> Response:
    form = request.form
    call = None
    if form.get("CallSid"):
        call = db.session.scalar(select(Call).where(Call.sid == form["CallSid"]))
    if call is None and request.args.get("call"):
        try:
            call = db.session.get(Call, uuid.UUID(request.args["call"]))
        except ValueError:
            call = None
    if call is None:
        log.warning("status callback for an unknown call ignored")
        return Response(status=204)
    calls.record_status(
        db.session(),
        call=call,
        status=form.get("CallStatus", ""),
        sequence_number=form.get("SequenceNumber"),
        timestamp=form.get("Timestamp"),
        duration=form.get("CallDuration"),
        answered_by=form.get("AnsweredBy"),
        sid=form.get("CallSid"),
    )
    if call.status.is_final:  # a caller still waiting for a person has left
        left_the_queue(db.session(), call, queueing_of(current_app))
    db.session.commit()
    return Response(status=204)


@bp.post("/calls/<uuid:call_id>/start")
@twilio_signed
def call_start(call_id: uuid.UUID) -> Response:
    return _step(call_id, lambda run: run.begin(answered_by=request.form.get("AnsweredBy")))


@bp.post("/calls/<uuid:call_id>/nodes/<node>")
@twilio_signed
def call_node(call_id: uuid.UUID, node: str) -> Response:
    return _step(call_id, lambda run: run.resume(node))


@bp.post("/calls/<uuid:call_id>/nodes/<node>/input")
@twilio_signed
def call_input(call_id: uuid.UUID, node: str) -> Response:
    attempt = request.args.get("attempt", "1")
    attempt_number = int(attempt) if attempt.isdigit() and 0 < int(attempt) < 100 else 1
    digits = request.form.get("Digits", "")
    # What Twilio heard, on a menu that listens for words (never on a code's question).
    speech = request.form.get("SpeechResult", "")[:200]
    return _step(call_id, lambda run: run.on_input(node, attempt_number, digits, speech))


@bp.post("/calls/<uuid:call_id>/nodes/<node>/recorded")
@twilio_signed
def call_recorded(call_id: uuid.UUID, node: str) -> Response:
    return _step(
        call_id,
        lambda run: run.on_recording(
            node, request.form.get("RecordingUrl", ""), request.form.get("RecordingDuration", "")
        ),
        after_end=True,
    )


@bp.post("/calls/<uuid:call_id>/nodes/<node>/transcribed")
@twilio_signed
def call_transcribed(call_id: uuid.UUID, node: str) -> Response:
    """Twilio's transcription of a recording (it comes later, after the call)."""
    call = db.session.get(Call, call_id)
    if call is None or (call.variables or {}).get("transcription"):
        return Response(status=204)  # unknown, or already heard (Twilio retries)
    text = request.form.get("TranscriptionText", "").strip()
    if request.form.get("TranscriptionStatus") == "completed" and text:
        call.variables = {**(call.variables or {}), "transcription": "completed"}
        calls.transcription_received.send(call, session=db.session, text=text)
    else:  # "failed", or nothing Twilio could make out: someone must listen to the recording
        call.variables = {**(call.variables or {}), "transcription": "failed"}
        calls.transcription_failed.send(call, session=db.session)
    db.session.commit()
    return Response(status=204)


@bp.post("/calls/<uuid:call_id>/nodes/<node>/dialed")
@twilio_signed
def call_dialed(call_id: uuid.UUID, node: str) -> Response:
    # The caller's own CallStatus says whether they hung up during the <Dial>.
    caller_gone = request.form.get("CallStatus") == "completed"
    return _step(
        call_id,
        lambda run: run.on_dial(
            node, request.form.get("DialCallStatus", ""), caller_gone=caller_gone
        ),
        after_end=True,
    )


@bp.post("/calls/<uuid:call_id>/nodes/<node>/waiting")
@twilio_signed
def call_waiting(call_id: uuid.UUID, node: str) -> Response:
    """The conference's waitUrl: the caller's place in line, again each round."""
    number = request.args.get("round", "1")
    round_ = int(number) if number.isdigit() and 0 < int(number) < 100_000 else 1
    return _step(call_id, lambda run: run.waiting(node, round_))


@bp.post("/calls/<uuid:call_id>/nodes/<node>/hold")
@twilio_signed
def call_hold_offer(call_id: uuid.UUID, node: str) -> Response:
    """Where the worker brings a caller who has waited long: the offer of a call back."""
    return _step(call_id, lambda run: run.offer_hold(node))


@bp.post("/calls/<uuid:call_id>/nodes/<node>/conference")
@twilio_signed
def call_conference_events(call_id: uuid.UUID, node: str) -> Response:
    """The waiting caller's conference: join, leave, end. The call's own status callback tells
    the queue that a caller left; the agents' desk follows the conference on its own."""
    return Response(status=204)


def _step(
    call_id: uuid.UUID,
    advance: Callable[[FlowRun], VoiceResponse],
    *,
    after_end: bool = False,
) -> Response:
    call = _call(call_id)
    if call is None:
        return _goodbye()
    return _answer_once(call, advance, after_end=after_end)

"""The complaints line's actions (call_flows/complaints_line.yaml): file a recorded complaint,
read out a complaint's status by its reference keyed on the keypad."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.calls.models import Call
from app.complaints import service, texts
from app.complaints.models import ComplaintChannel
from app.flows.actions import ActionResult
from app.registry import Registry

#: The line's category menu.
CATEGORY_KEYS = {
    "1": "payments",
    "2": "cards",
    "3": "account_access",
    "4": "verification_calls",
    "5": "fraud_scam",
    "6": "other",
}
LANGUAGES = ("en", "it", "pl", "zh")


def _in_every_language(function: Callable[[str], str]) -> dict[str, str]:
    return {lang: function(lang) for lang in LANGUAGES}


def file_complaint(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    if not call.from_number.startswith("+"):  # a withheld number: no way to reach them back
        return ActionResult("no_number")
    variables = call.variables or {}
    policy = current_app.extensions["complaints_policy"]
    seconds = variables.get("recording_seconds")
    recording_url = variables.get("recording_url")
    # A caller who chose a category has complained even if they said nothing: the complaint is
    # filed (and its clock runs) so that staff call them back, rather than losing it.
    text = (
        texts.pick(texts.PHONE_TEXT, call.locale).format(seconds=seconds or "?")
        if recording_url
        else texts.pick(texts.NO_MESSAGE_TEXT, call.locale)
    )
    complaint = service.file_complaint(
        session,
        policy=policy,
        phone=call.from_number,
        text=text,
        category=CATEGORY_KEYS.get(str(variables.get("category_key")), "other"),
        channel=ComplaintChannel.PHONE,
        now=clock.now(),
        actor=Actor(f"call:{call.id}"),
        company=current_app.config["COMPANY_NAME"],
        locale=call.locale,
        call_id=call.id,
        recording_url=recording_url,
        recording_seconds=seconds if recording_url else None,
    )
    return ActionResult(
        "filed" if recording_url else "no_message",
        {
            "complaint_reference": complaint.reference,
            "due": _in_every_language(
                lambda lang: service.due_date(complaint.first_response_due, lang, policy)
            ),
        },
    )


def complaint_status(session: Session, call: Call, values: dict[str, Any]) -> ActionResult:
    keyed = str((call.variables or {}).get("keyed_reference") or "")
    complaint = (
        service.find_by_keypad(session, keyed, call.from_number)
        if call.from_number.startswith("+")
        else None
    )
    if complaint is None:  # the same answer for a wrong reference and a wrong phone
        return ActionResult("not_found")
    policy = current_app.extensions["complaints_policy"]
    due = service.next_due(complaint)
    return ActionResult(
        "found",
        {
            "complaint_reference": complaint.reference,
            "complaint_status": texts.STATUS[complaint.status.value],
            "reply_by": _in_every_language(
                lambda lang: texts.pick(texts.REPLY_BY, lang).format(
                    due=service.due_date(due, lang, policy)
                )
            )
            if due
            else "",
        },
    )


def register_actions(registry: Registry) -> None:
    """The line's actions, as app.complaints.init_app registers them for the flows."""
    registry.flow_action(
        "file_complaint",
        file_complaint,
        results=("filed", "no_message", "no_number"),
        sets=("complaint_reference", "due"),
    )
    registry.flow_action(
        "complaint_status",
        complaint_status,
        results=("found", "not_found"),
        sets=("complaint_reference", "complaint_status", "reply_by"),
    )

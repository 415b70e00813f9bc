"""A call's transcript in the reader's words: the prompts we spoke and the keys the caller
pressed as they were, and the engine's own notes ("[queue: fraud, verified]", "[report_scam:
filed]") as what happened on the call."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.agents.models import Skill
from app.console.blueprint import bp
from app.i18n import label

#: What each flow action did, in words.
ACTIONS = {
    "complaint_status": _l("Looked up the status of a complaint"),
    "continue_callback": _l("Went on with the callback"),
    "file_complaint": _l("Filed a complaint"),
    "lookup_keyed_number": _l("Checked the number the caller typed"),
    "next_matter": _l("Moved on to the next matter"),
    "opt_out": _l("Took the caller off campaign calls"),
    "recent_call_to_caller": _l("Looked for our recent calls to the caller"),
    "report_scam": _l("Filed a scam report"),
    "verify_for_callback": _l("Looked for the callback the caller verifies for"),
}

#: How it went, in words.
RESULTS = {
    "called": _l("we did call them"),
    "continued": _l("carried on"),
    "done": _l("done"),
    "filed": _l("filed"),
    "found": _l("found"),
    "no_message": _l("no message was left"),
    "no_number": _l("no number was given"),
    "none": _l("none"),
    "not_found": _l("not found"),
    "pending": _l("a callback is waiting"),
    "ready": _l("ready"),
    "status": _l("status told"),
    "unattested": _l("the caller ID was not verified by the network, so a code comes first"),
    "unavailable": _l("not possible right now"),
    "unreadable": _l("could not be read"),
}

#: How far the network vouched for an inbound caller ID (Twilio's StirVerstat), in words.
ATTESTATIONS = {
    "TN-Validation-Passed-A": _l("Caller ID verified by the network (A)"),
    "TN-Validation-Passed-B": _l(
        "Caller ID partly verified (B): the network knows the caller, not that the number is theirs"
    ),
    "TN-Validation-Passed-C": _l(
        "Caller ID not verified (C): the network knows only where the call came from"
    ),
}


@bp.app_template_filter("attestation")
def attestation(value: str | None) -> str:
    """An inbound call's caller-ID attestation, in the reader's words."""
    found = ATTESTATIONS.get(value or "")
    if found is not None:
        return str(found)
    if value and value.startswith("TN-Validation-Failed"):
        return _("Caller ID failed the network's check: not verified")
    return _("Caller ID not verified")


_NOTE = re.compile(r"^\[([a-z_]+): (.*)\]$")


def _words(value: str, known: dict[str, Any]) -> str:
    found = known.get(value)
    return str(found) if found is not None else value.replace("_", " ")


@bp.app_template_filter("turn")
def turn(speaker: str, text: str) -> tuple[str, str]:
    """Who spoke a line of the transcript, and what it says, for a reader."""
    if speaker == "caller":
        return _("The caller"), text
    note = _NOTE.match(text)
    if note is None:
        return _("Our call"), text
    what, how = note.groups()
    if what == "caller_id":
        return _("What happened"), attestation(how)
    if what == "queue":
        if how == "the conversation ended":
            return _("What happened"), _("The caller hung up while waiting for a person")
        if how == "nobody can take the call":
            return _("What happened"), _("Nobody could take the call")
        skill, _comma, verified = how.partition(", ")
        team = label(Skill(skill)) if skill in set(Skill) else skill
        if verified == "verified":
            return _("What happened"), _("Waited for an agent (%(team)s), verified", team=team)
        return _("What happened"), _("Waited for an agent (%(team)s), not verified", team=team)
    return _("What happened"), f"{_words(what, ACTIONS)}: {_words(how, RESULTS)}"

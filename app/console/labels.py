"""The human label of every value the console shows (statuses, kinds, skills, outcomes).

Each is a lazy gettext string, so it is read in the staff member's language when shown, through
the templates' `label` filter (`app.i18n.label`). A test checks that every member of every enum
the console can show has one.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l

from app.agents.models import Disposition, Presence, QueueState, Skill
from app.authenticity.models import ReportChannel, ReportStatus
from app.callbacks import anomaly, lifecycle, rules
from app.callbacks import service as callbacks
from app.callbacks.models import (
    AttemptStatus,
    CallbackStatus,
    DialHold,
    EventType,
    HoldStatus,
    Priority,
)
from app.calls.models import CallDirection, CallStatus
from app.campaigns.models import CampaignStatus
from app.complaints.models import ComplaintChannel, ComplaintStatus
from app.fraud.models import CaseStatus
from app.freezes.models import FreezeChannel, FreezeStatus
from app.messaging.models import MessageKind, MessageState
from app.numbers.models import NumberPurpose
from app.outcomes import Outcome
from app.staff.models import EndReason, Role, SecondFactorUsed, SignInEvent, SignInFailure
from app.verification.models import AttemptResult, CodePurpose

LABELS: list[tuple[Enum, Any]] = [
    # Verification
    (CodePurpose.CALLBACK, _l("Code for a call we made")),
    (CodePurpose.INBOUND_CALL, _l("Code for a call to us")),
    (AttemptResult.VERIFIED, _l("Verified")),
    (AttemptResult.WRONG, _l("Wrong code")),
    (AttemptResult.REPLAYED, _l("Code already used")),
    (AttemptResult.LOCKED, _l("Locked after too many tries")),
    (AttemptResult.NOTHING_ENROLLED, _l("No app enrolled")),
    # Agents
    (Skill.FRAUD, _l("Fraud")),
    (Skill.WITHDRAWALS, _l("Withdrawals")),
    (Skill.COMPLAINTS, _l("Complaints")),
    (Skill.GENERAL, _l("General enquiries")),
    (Presence.AVAILABLE, _l("Available")),
    (Presence.RINGING, _l("Ringing")),
    (Presence.ON_CALL, _l("On a call")),
    (Presence.WRAP_UP, _l("Wrap-up")),
    (Presence.AWAY, _l("Away")),
    (QueueState.WAITING, _l("Waiting")),
    (QueueState.OFFERED, _l("Ringing an agent")),
    (QueueState.CONNECTED, _l("With an agent")),
    (QueueState.VIRTUAL_HOLD, _l("Waiting for our call back")),
    (QueueState.ABANDONED, _l("Hung up while waiting")),
    (QueueState.ENDED, _l("Ended")),
    (Disposition.RESOLVED, _l("Resolved")),
    (Disposition.CONFIRMED, _l("Confirmed by the customer")),
    (Disposition.DENIED, _l("Denied: possible fraud")),
    (Disposition.FOLLOW_UP, _l("Follow-up call")),
    (Disposition.COMPLAINT_FILED, _l("Complaint filed")),
    # Calls
    (CallDirection.OUTBOUND, _l("We called")),
    (CallDirection.INBOUND, _l("They called us")),
    (CallStatus.QUEUED, _l("Queued")),
    (CallStatus.INITIATED, _l("Dialling")),
    (CallStatus.RINGING, _l("Ringing")),
    (CallStatus.IN_PROGRESS, _l("In progress")),
    (CallStatus.COMPLETED, _l("Completed")),
    (CallStatus.BUSY, _l("Busy")),
    (CallStatus.NO_ANSWER, _l("No answer")),
    (CallStatus.FAILED, _l("Failed")),
    (CallStatus.CANCELED, _l("Cancelled")),
    # Fraud and scam reports
    (CaseStatus.OPEN, _l("Open")),
    (CaseStatus.CLOSED, _l("Closed")),
    (ReportStatus.NEW, _l("New")),
    (ReportStatus.REVIEWING, _l("Being reviewed")),
    (ReportStatus.CLOSED, _l("Closed")),
    (ReportChannel.WEB, _l("Web page")),
    (ReportChannel.API, _l("Partner system")),
    (ReportChannel.PHONE, _l("Phone line")),
    (ReportChannel.APP, _l("The customer's app")),
    # Outcomes of a callback or call
    (Outcome.CONFIRMED, _l("Confirmed by the customer")),
    (Outcome.DENIED, _l("Denied by the customer")),
    (Outcome.VERIFICATION_FAILED, _l("Verification failed")),
    (Outcome.LOCKED, _l("Locked after wrong codes")),
    (Outcome.UNREACHABLE, _l("Could not be reached")),
    (Outcome.CANCELLED, _l("Cancelled")),
    (Outcome.VOICEMAIL, _l("Reached voicemail")),
    (Outcome.NO_INPUT, _l("No answer on the keypad")),
    (Outcome.TRANSFERRED, _l("Passed to an agent")),
    (Outcome.RECORDED, _l("Message recorded")),
    (Outcome.NO_MESSAGE, _l("No message left")),
    (Outcome.INFORMED, _l("Informed")),
    (Outcome.REPORTED, _l("Reported as a scam")),
    (Outcome.OPTED_OUT, _l("Asked not to be called")),
    # Callbacks
    (EventType.TRANSACTION, _l("Unusual payment")),
    (EventType.REGISTRATION, _l("New registration")),
    (EventType.WITHDRAWAL_REQUEST, _l("Withdrawal request")),
    (EventType.ACCOUNT_CHANGE, _l("Account change")),
    (EventType.FEEDBACK, _l("Customer feedback")),
    (EventType.CAMPAIGN, _l("Campaign")),
    (EventType.AGENT, _l("Requested by an agent")),
    (Priority.HIGH, _l("High")),
    (Priority.MEDIUM, _l("Medium")),
    (Priority.LOW, _l("Low")),
    (CallbackStatus.QUEUED, _l("Waiting to be called")),
    (CallbackStatus.CLAIMED, _l("About to be dialled")),
    (CallbackStatus.IN_CALL, _l("On a call")),
    (CallbackStatus.DONE, _l("Finished")),
    (DialHold.PAUSED, _l("Paused with its campaign")),
    (DialHold.CANCELLED, _l("Cancelled with its campaign")),
    (AttemptStatus.DIALING, _l("Dialling")),
    (AttemptStatus.PLACED, _l("Placed")),
    (AttemptStatus.FAILED, _l("Not placed")),
    (AttemptStatus.UNKNOWN, _l("Being checked with the carrier")),
    (AttemptStatus.ENDED, _l("Ended")),
    (HoldStatus.VERIFYING, _l("Held until the customer confirms")),
    (HoldStatus.AUTHORIZED, _l("Authorized")),
    (HoldStatus.REJECTED, _l("Rejected")),
    # Messages
    (MessageKind.SMS, _l("Text message")),
    (MessageKind.EMAIL, _l("Email")),
    (MessageKind.WEBHOOK, _l("Message to the core system")),
    (MessageState.PENDING, _l("Waiting to be sent")),
    (MessageState.SENT, _l("Sent")),
    (MessageState.FAILED, _l("Not sent")),
    # Staff
    (Role.SUPERVISOR, _l("Supervisor")),
    (Role.AGENT, _l("Agent")),
    (Role.AUDITOR, _l("Auditor")),
    (SignInEvent.SIGNED_IN, _l("Signed in")),
    (SignInEvent.SIGN_IN_FAILED, _l("Sign-in failed")),
    (SignInEvent.SIGNED_OUT, _l("Signed out")),
    (SecondFactorUsed.NONE, _l("Password only")),
    (SecondFactorUsed.AUTHENTICATOR, _l("Code from the authenticator app")),
    (SecondFactorUsed.RECOVERY_CODE, _l("Recovery code")),
    (SignInFailure.PASSWORD, _l("Wrong password")),
    (SignInFailure.CODE, _l("Wrong or reused code")),
    (SignInFailure.TOO_MANY, _l("Too many attempts")),
    (EndReason.SIGNED_OUT, _l("With the sign-out button")),
    (EndReason.IDLE, _l("Left idle")),
    (EndReason.TOO_OLD, _l("Session too long")),
    (EndReason.DEACTIVATED, _l("Account deactivated")),
    (EndReason.PASSWORD_CHANGED, _l("Password changed")),
    (EndReason.ROLE_CHANGED, _l("Role changed")),
    (EndReason.SECOND_FACTOR_RESET, _l("Second factor reset")),
    # Complaints
    (ComplaintStatus.NEW, _l("New")),
    (ComplaintStatus.ACKNOWLEDGED, _l("Acknowledged")),
    (ComplaintStatus.IN_PROGRESS, _l("Being handled")),
    (ComplaintStatus.WAITING_FOR_CUSTOMER, _l("Waiting for the customer")),
    (ComplaintStatus.RESOLVED, _l("Resolved")),
    (ComplaintStatus.CLOSED, _l("Closed")),
    (ComplaintChannel.WEB, _l("Web page")),
    (ComplaintChannel.API, _l("Partner system")),
    (ComplaintChannel.PHONE, _l("Phone line")),
    # Account freezes
    (FreezeChannel.WEB, _l("Web page")),
    (FreezeChannel.API, _l("Partner system")),
    (FreezeChannel.PHONE, _l("Phone line")),
    (FreezeStatus.FROZEN, _l("Frozen")),
    (FreezeStatus.LIFTED, _l("Lifted")),
    # Numbers
    (NumberPurpose.OUTBOUND_VERIFICATION, _l("Verification calls")),
    (NumberPurpose.INBOUND_HOTLINE, _l("Number check line")),
    (NumberPurpose.COMPLAINTS, _l("Complaints line")),
    (NumberPurpose.SMS, _l("Text messages")),
    (NumberPurpose.SERVICE_LINE, _l("Customer service line")),
    # Campaigns
    (CampaignStatus.DRAFT, _l("Draft")),
    (CampaignStatus.SCHEDULED, _l("Scheduled")),
    (CampaignStatus.RUNNING, _l("Running")),
    (CampaignStatus.PAUSED, _l("Paused")),
    (CampaignStatus.COMPLETED, _l("Completed")),
    (CampaignStatus.CANCELLED, _l("Cancelled")),
]

#: The enums whose values the console may show (every member must have a label above).
SHOWN = (
    CodePurpose, AttemptResult, Skill, Presence, QueueState, Disposition, CallDirection,
    CallStatus, CaseStatus, ReportStatus, ReportChannel, Outcome, EventType, Priority,
    CallbackStatus, DialHold, AttemptStatus, HoldStatus, MessageKind, MessageState, Role,
    ComplaintStatus, ComplaintChannel, NumberPurpose, CampaignStatus, FreezeChannel, FreezeStatus,
    SignInEvent, SecondFactorUsed, SignInFailure, EndReason,
)  # fmt: skip

# desk and wall
#: A short human title of each call flow, by the flow's name (its file in call_flows/).
FLOW_TITLES: dict[str, Any] = {
    "account_change_check": _l("Contact details change check"),
    "agent_callback": _l("Our call for an agent"),
    "campaign_notice": _l("Campaign message"),
    "complaints_line": _l("Complaints line"),
    "feedback_call": _l("Call about feedback"),
    "registration_check": _l("New account check"),
    "service_line": _l("Customer service line"),
    "transaction_alert": _l("Payment check"),
    "verify_caller_line": _l("Number check line"),
    "withdrawal_check": _l("Withdrawal check"),
}
#: The languages callers and agents speak, by code, in the reader's words.
LANGUAGE_LABELS: dict[str, Any] = {
    "en": _l("English"),
    "it": _l("Italian"),
    "pl": _l("Polish"),
    "zh": _l("Chinese"),
}
#: How a caller was verified (queue_entries.verified_by), in the reader's words.
VERIFIED_BY: dict[str, Any] = {"app_code": _l("app code")}
#: A queue priority (3, 2, 1) as the callback priority it came from.
QUEUE_PRIORITIES = {3: Priority.HIGH, 2: Priority.MEDIUM, 1: Priority.LOW}


def flow_title(name: str | None) -> str:
    """A flow's short title; a flow with none is named by its name, spaced."""
    if not name:
        return ""
    return str(FLOW_TITLES.get(name) or name.replace("_", " ").capitalize())


def language_label(code: str | None) -> str:
    """A language code ("it") as the language's name in the reader's words ("Italian")."""
    if not code:
        return ""
    return str(LANGUAGE_LABELS.get(code) or code)


def verified_by_label(method: str | None) -> str:
    if not method:
        return ""
    return str(VERIFIED_BY.get(method) or method.replace("_", " "))


#: What the system writes down in English about a callback, each in the reader's words: why it
#: waits (`waiting_for`) and why we call (`reasons`). Keyed by the text the domain writes; its
#: `{name}` parts (a time, an amount) are carried into the translation's `%(name)s`.
KEPT_TEXTS: list[tuple[str, Any]] = [
    # Why a callback waits
    (rules.IN_A_CALL, _l("the end of the number's call with us")),
    (rules.QUIET_PERIOD, _l("the end of the quiet period after a call")),
    (rules.CAMPAIGN_PAUSED, _l("its campaign to be resumed")),
    (rules.CAMPAIGN_FULL, _l("a free line among the campaign's concurrent calls")),
    (rules.CAMPAIGN_PACING, _l("a free slot in the campaign's pacing")),
    (rules.CALLING_HOURS, _l("calling hours (%(start)s-%(end)s, the customer's time)")),
    (rules.FREQUENCY_CAP, _l("the lifting of the limit on calls to one person")),
    (rules.NEXT_RETRY, _l("the next try")),
    (lifecycle.FOLLOW_UP, _l("an agent's follow-up")),
    (lifecycle.RESCHEDULED, _l("a supervisor's new time")),
    (lifecycle.WITH_AGENT, _l("an agent's wrap-up")),
    # Why we call
    (anomaly.ABOVE_MEDIAN, _l("amount %(ratio)s times this customer's median")),
    (anomaly.ABOVE_USUAL, _l("amount %(deviations)s robust deviations above usual")),
    (anomaly.ABOVE_FLOOR, _l("amount %(amount)s is above the review floor")),
    (anomaly.VELOCITY, _l("%(count)s payments in %(minutes)s minutes")),
    (anomaly.NEW_COUNTRY, _l("first payment from %(country)s")),
    (anomaly.NEW_DEVICE, _l("new device")),
    (anomaly.NEW_BENEFICIARY, _l("new beneficiary")),
    (callbacks.NEW_REGISTRATION, _l("new registration: welcome and verification call")),
    (
        callbacks.WITHDRAWAL_WITH_PROBLEMS,
        _l("withdrawal requested on an account with open problems"),
    ),
    (
        callbacks.CONTACT_CHANGED.format(field="phone"),
        _l("phone number changed: confirming with the previous number"),
    ),
    (
        callbacks.CONTACT_CHANGED.format(field="email"),
        _l("email address changed: confirming with the previous number"),
    ),
    (callbacks.FOR_AN_AGENT, _l("an agent asked us to call")),
    (callbacks.LOW_RATING, _l("feedback: a low rating (%(rating)s of 5)")),
    (callbacks.CALL_ME_ASKED, _l("feedback: the customer asked us to call")),
]


def _pattern(kept: str) -> re.Pattern[str]:
    """The kept text as a pattern: each `{name}` part matches what was written in its place."""
    parts = re.split(r"\{(\w+)\}", kept)
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
    )


_KEPT = [(_pattern(kept), words) for kept, words in KEPT_TEXTS]


def kept_text(text: str | None) -> str:
    """A text the system wrote down in English, in the reader's words; one it does not know (an
    older wording, a campaign's name) as it is."""
    if not text:
        return ""
    for pattern, words in _KEPT:
        found = pattern.fullmatch(text)
        if found:
            return str(words) % found.groupdict() if found.groupdict() else str(words)
    return text

"""Every model, imported so that Alembic and the tests see the whole schema."""

from app.agents.models import Agent, AgentLanguage, AgentSkill, CustomerCallStatus, QueueEntry
from app.apikeys.models import ApiKey
from app.audit.models import AuditEvent
from app.authenticity.models import ScamReport
from app.callbacks.models import (
    Callback,
    CallbackAttempt,
    DialPacing,
    DoNotCall,
    Event,
    Feedback,
    Satisfaction,
    WithdrawalHold,
)
from app.calls.models import Call, CallEvent, CallStep, CallTurn
from app.campaigns.models import Campaign, CampaignRecipient, Segment
from app.carriers.models import SimulatorCall
from app.complaints.models import (
    Complaint,
    ComplaintMessage,
    ComplaintNote,
    SatisfactionLink,
)
from app.customers.models import Customer, PhoneChange
from app.fraud.models import FraudCase
from app.freezes.models import FreezeRequest
from app.messaging.models import OutboxMessage
from app.numbers.models import NumberPurpose, OfficialNumber
from app.staff.models import StaffSession, StaffUser
from app.verification.models import (
    AppCode,
    Authenticator,
    VerificationAttempt,
    VerificationLock,
)
from app.worker.models import WorkerHeartbeat

__all__ = [
    "Agent",
    "AgentLanguage",
    "AgentSkill",
    "ApiKey",
    "AppCode",
    "AuditEvent",
    "Authenticator",
    "Call",
    "CallEvent",
    "CallStep",
    "CallTurn",
    "Callback",
    "CallbackAttempt",
    "Campaign",
    "CampaignRecipient",
    "Complaint",
    "ComplaintMessage",
    "ComplaintNote",
    "Customer",
    "CustomerCallStatus",
    "DialPacing",
    "DoNotCall",
    "Event",
    "Feedback",
    "FraudCase",
    "FreezeRequest",
    "NumberPurpose",
    "OfficialNumber",
    "OutboxMessage",
    "PhoneChange",
    "QueueEntry",
    "Satisfaction",
    "SatisfactionLink",
    "ScamReport",
    "Segment",
    "SimulatorCall",
    "StaffSession",
    "StaffUser",
    "VerificationAttempt",
    "VerificationLock",
    "WithdrawalHold",
    "WorkerHeartbeat",
]

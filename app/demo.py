"""Demo data for a first run on the simulator: official lines and a customer per language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.customers.models import Customer
from app.customers.service import create_customer
from app.numbers.service import active_number, register_official_number
from app.phones import parse_phone

DEMO_NUMBERS = [
    ("+1 415 555 0100", "outbound_verification", "Demo Bank verification calls", False),
    ("+1 415 555 0101", "inbound_hotline", "Demo Bank: is this call really from us?", True),
    ("+1 415 555 0102", "complaints", "Demo Bank complaints line", True),
    ("+1 415 555 0103", "sms", "Demo Bank text messages", False),
    ("+1 415 555 0104", "service_line", "Demo Bank customer service", True),
]

#: Each demo number's label in the other languages we speak (the check page and line use them).
DEMO_LABELS = {
    "+1 415 555 0100": {
        "it": "Chiamate di verifica di Demo Bank",
        "pl": "Połączenia weryfikacyjne Demo Bank",
        "zh": "Demo Bank 验证来电",
    },
    "+1 415 555 0101": {
        "it": "Demo Bank: questa chiamata è davvero nostra?",
        "pl": "Demo Bank: czy to połączenie jest naprawdę od nas?",
        "zh": "Demo Bank：这通电话真的是我们打的吗？",
    },
    "+1 415 555 0102": {
        "it": "Linea reclami di Demo Bank",
        "pl": "Linia reklamacyjna Demo Bank",
        "zh": "Demo Bank 投诉热线",
    },
    "+1 415 555 0103": {
        "it": "Messaggi di testo di Demo Bank",
        "pl": "Wiadomości tekstowe Demo Bank",
        "zh": "Demo Bank 短信",
    },
    "+1 415 555 0104": {
        "it": "Servizio clienti di Demo Bank",
        "pl": "Obsługa klienta Demo Bank",
        "zh": "Demo Bank 客户服务",
    },
}

DEMO_CUSTOMERS = [
    ("demo-en-1", "+44 20 7946 0123", "Alex Morgan"),
    ("demo-it-1", "+39 333 123 4567", "Giulia Rossi"),
    ("demo-pl-1", "+48 601 234 567", "Piotr Nowak"),
    ("demo-zh-1", "+86 138 1234 5678", "Wang Fang"),
]


def seed(session: Session, *, actor: Actor) -> dict[str, int]:
    """Add what is missing; what exists already is left alone."""
    created = {"numbers": 0, "customers": 0}
    for phone, purpose, label, inbound_only in DEMO_NUMBERS:
        if active_number(session, parse_phone(phone).e164) is None:
            register_official_number(
                session,
                actor=actor,
                phone=phone,
                purpose=purpose,
                label=label,
                labels=DEMO_LABELS[phone],
                inbound_only=inbound_only,
            )
            created["numbers"] += 1
    for external_id, phone, name in DEMO_CUSTOMERS:
        if session.scalar(select(Customer.id).where(Customer.external_id == external_id)) is None:
            create_customer(session, actor=actor, external_id=external_id, phone=phone, name=name)
            created["customers"] += 1
    return created

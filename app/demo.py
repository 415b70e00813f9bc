"""Demo data for a first run on the simulator: official lines and a customer per language."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.service import Actor
from app.customers.models import Customer
from app.customers.service import create_customer, update_customer
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

#: External id, number, name and date of birth: the number and date are what a person trying the
#: product types to freeze an account ("press 9" on the softphone, or the /freeze page).
DEMO_CUSTOMERS = [
    ("demo-en-1", "+44 20 7946 0123", "Alex Morgan", date(1985, 3, 14)),
    ("demo-it-1", "+39 333 123 4567", "Giulia Rossi", date(1978, 9, 2)),
    ("demo-pl-1", "+48 601 234 567", "Piotr Nowak", date(1990, 11, 25)),
    ("demo-zh-1", "+86 138 1234 5678", "Wang Fang", date(1982, 6, 8)),
]


def seed(session: Session, *, actor: Actor, keyring: Any) -> dict[str, int]:
    """Add what is missing; what exists already is left alone.

    A demo customer seeded before it had a date of birth gets it (kept as a hash keyed with
    `keyring`, the verification keyring, as the API keeps it)."""
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
    for external_id, phone, name, birth_date in DEMO_CUSTOMERS:
        customer = session.scalar(select(Customer).where(Customer.external_id == external_id))
        if customer is None:
            create_customer(
                session,
                actor=actor,
                external_id=external_id,
                phone=phone,
                name=name,
                birth_date=birth_date,
                keyring=keyring,
            )
            created["customers"] += 1
        elif customer.birth_date_hash is None:
            update_customer(
                session,
                actor=actor,
                customer_id=customer.id,
                birth_date=birth_date,
                keyring=keyring,
            )
    return created

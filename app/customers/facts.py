"""The fact a caller proves besides their number: the date of birth, kept only as a keyed hash.

The key is the verification keyring's (VERIFICATION_KEYS), the one that hashes app codes; the
hash names its key, so that keys can rotate. The customer's id is in the hashed text, so that
two customers born the same day have different hashes.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import date
from typing import Any


def _text(customer_id: uuid.UUID, birth_date: date) -> str:
    return f"birth_date:{customer_id}:{birth_date.isoformat()}"


def hash_birth_date(keyring: Any, customer_id: uuid.UUID, birth_date: date) -> str:
    """The stored form: "<key id>:<HMAC-SHA256 hex>" under the current key."""
    key_id = keyring.current.id
    return f"{key_id}:{keyring.digest(key_id, _text(customer_id, birth_date))}"


def birth_date_matches(
    keyring: Any, customer_id: uuid.UUID, stored: str | None, birth_date: date
) -> bool:
    """Whether a typed date is the one stored; False when none is stored or its key is gone."""
    if not stored or ":" not in stored:
        return False
    key_id, digest = stored.split(":", 1)
    try:
        expected = keyring.digest(key_id, _text(customer_id, birth_date))
    except LookupError:  # a retired key: the core system must send the date again
        return False
    return hmac.compare_digest(expected, digest)

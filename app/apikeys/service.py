"""Creating, revoking and checking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.apikeys.models import ApiKey
from app.audit.service import Actor, record
from app.database import utcnow
from app.errors import Conflict, InvalidInput, NotFound

KEY_PREFIX = "cc_"


def hash_key(key: str) -> str:
    # Keys are 256-bit random strings, so a plain SHA-256 is a safe, fast lookup hash.
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, *, actor: Actor, name: str) -> tuple[ApiKey, str]:
    """A new key; the plaintext is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput("name: give the key a name of 1 to 80 characters", field="name")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=plaintext[:10], key_hash=hash_key(plaintext))
    session.add(key)
    session.flush()
    record(
        session,
        actor=actor,
        action="api_key.created",
        subject_type="api_key",
        subject_id=key.id,
        changes={"name": name, "prefix": key.prefix},
    )
    return key, plaintext


def revoke_api_key(session: Session, *, actor: Actor, prefix: str) -> ApiKey:
    keys = list(session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)))
    if not keys:
        raise NotFound(f"no API key starts with {prefix!r}", field="prefix")
    if len(keys) > 1:
        raise Conflict(f"several keys start with {prefix!r}; give more characters", field="prefix")
    key = keys[0]
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(
            session,
            actor=actor,
            action="api_key.revoked",
            subject_type="api_key",
            subject_id=key.id,
            changes={"name": key.name, "prefix": key.prefix},
        )
    return key


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def authenticate(session: Session, presented: str, *, configured: Iterable[str]) -> str | None:
    """The actor label of a valid key, or None. Configured keys are compared in constant time."""
    if not presented:
        return None
    digest = hash_key(presented)
    matched = None
    for configured_key in configured:
        # No early exit: the time taken does not tell which configured key came close.
        if hmac.compare_digest(hash_key(configured_key), digest):
            matched = f"api_key:env:{digest[:8]}"
    if matched:
        return matched
    key = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
    )
    return f"api_key:{key.name}:{key.prefix}" if key else None

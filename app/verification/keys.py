"""The keys that protect codes at rest: AES-256-GCM for authenticator secrets, HMAC for app codes.

VERIFICATION_KEYS holds one or more base64 keys of 32 bytes. The first one encrypts and hashes
everything new; the others are kept so that what they protected can still be read (rotation).
Each stored value names its key by a short fingerprint, never the key itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class BadKey(ValueError):
    """A configured key is not usable; the message says why (never the key)."""


class UnknownKey(LookupError):
    """A stored value names a key that is no longer configured, or does not decrypt."""


@dataclass(frozen=True)
class Key:
    id: str  # fingerprint: the first 12 hex digits of SHA-256 of the key
    material: bytes

    def derive(self, purpose: str) -> bytes:
        """A separate key for each use, so that no two uses share key material."""
        return hmac.new(self.material, f"callcenter:{purpose}".encode(), hashlib.sha256).digest()


class Keyring:
    def __init__(self, keys: list[Key]) -> None:
        if not keys:
            raise BadKey("no key")
        self.keys = keys
        self.by_id = {key.id: key for key in keys}

    @property
    def current(self) -> Key:
        return self.keys[0]

    def encrypt(self, plaintext: bytes, *, context: str) -> tuple[str, bytes]:
        """(key id, nonce + ciphertext); the context (e.g. the customer) is authenticated too."""
        key = self.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key.derive("encrypt")).encrypt(nonce, plaintext, context.encode())
        return key.id, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes, *, context: str) -> bytes:
        key = self.by_id.get(key_id)
        if key is None:
            raise UnknownKey(f"key {key_id} is not configured")
        try:
            return AESGCM(key.derive("encrypt")).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()
            )
        except InvalidTag:
            raise UnknownKey(f"the value does not decrypt with key {key_id}") from None

    def digest(self, key_id: str, message: str) -> str:
        """A keyed hash (HMAC-SHA256, hex) of a short secret such as an app code."""
        key = self.by_id.get(key_id)
        if key is None:
            raise UnknownKey(f"key {key_id} is not configured")
        return hmac.new(key.derive("app-code"), message.encode(), hashlib.sha256).hexdigest()


def _decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded, altchars=b"-_" if "-" in text or "_" in text else None)
    except (binascii.Error, ValueError):
        raise BadKey("a key is not base64") from None


def keyring(configured: Iterable[str], *, fallback: str | None = None) -> Keyring:
    """The keyring from configuration; development and tests derive one from SECRET_KEY."""
    keys = []
    for text in configured:
        material = _decode(text.strip())
        if len(material) != KEY_BYTES:
            raise BadKey(f"a key must be {KEY_BYTES} bytes, base64-encoded (got {len(material)})")
        keys.append(Key(hashlib.sha256(material).hexdigest()[:12], material))
    if not keys and fallback:
        material = hashlib.sha256(f"verification-keys:{fallback}".encode()).digest()
        keys.append(Key(hashlib.sha256(material).hexdigest()[:12], material))
    return Keyring(keys)

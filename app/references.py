"""Case references a person can read out: PREFIX-XXXX-XXXX, without look-alike characters."""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


def readable_reference(prefix: str) -> str:
    """E.g. FRD-7K2M-9QXP: 40 random bits (a unique index catches the rare clash)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"

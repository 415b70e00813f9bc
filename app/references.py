"""Case references a person can read out: PREFIX-XXXX-XXXX, without look-alike characters."""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.routing import BaseConverter, Map

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


def readable_reference(prefix: str) -> str:
    """E.g. FRD-7K2M-9QXP: 40 random bits (a unique index catches the rare clash)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


class ReferenceConverter(BaseConverter):
    """A URL part shaped like a PREFIX reference, in any case: <reference(RPT):reference>.

    Only that shape matches, so /scam-reports/stats is never read as a report's reference.
    """

    def __init__(self, map: Map, prefix: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **kwargs)
        letters = "".join(f"[{ch.upper()}{ch.lower()}]" for ch in prefix)
        self.regex = rf"{letters}-[0-9A-Za-z]{{4}}-[0-9A-Za-z]{{4}}"

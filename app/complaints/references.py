"""Complaint references a person can read over the phone: C-7K3Q-2M.

Five random characters and a check character, from an alphabet without look-alikes (no 0/O,
1/I/L, U). The check character is Luhn mod 30, so one mistyped character or two swapped
neighbours are caught. On a phone keypad each letter is keyed by its digit (K is 5), so a caller
keys a reference as digits; with their phone number that finds it.
"""

from __future__ import annotations

import re
import secrets

from werkzeug.routing import BaseConverter

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
N = len(ALPHABET)
_KEYPAD = {
    **{d: d for d in "0123456789"},
    **{
        ch: digit
        for digit, letters in {
            "2": "ABC",
            "3": "DEF",
            "4": "GHI",
            "5": "JKL",
            "6": "MNO",
            "7": "PQRS",
            "8": "TUV",
            "9": "WXYZ",
        }.items()
        for ch in letters
    },
}
_SHAPE = re.compile(rf"^(?:C-?)?([{ALPHABET}]{{4}})-?([{ALPHABET}]{{2}})$")  # "C-" may be left out


def check_character(body: str) -> str:
    """Luhn mod N over the alphabet."""
    factor, total = 2, 0
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        factor = 1 if factor == 2 else 2
        total += addend // N + addend % N
    return ALPHABET[(N - total % N) % N]


def new_reference() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(5))
    full = body + check_character(body)
    return f"C-{full[:4]}-{full[4:]}"


def normalize(text: object) -> str | None:
    """The canonical form of a typed reference, or None if it is not one (or its check fails)."""
    cleaned = "".join(str(text or "").split()).upper()
    match = _SHAPE.match(cleaned)
    if match is None:
        return None
    full = match.group(1) + match.group(2)
    if check_character(full[:5]) != full[5]:
        return None
    return f"C-{full[:4]}-{full[4:]}"


def keypad_digits(reference: str) -> str:
    """What a caller keys for a reference: C-7K3Q-2M -> 753726 (the C- prefix is not keyed)."""
    return "".join(_KEYPAD[ch] for ch in reference.removeprefix("C-") if ch != "-")


class ComplaintReferenceConverter(BaseConverter):
    """A URL part shaped like a complaint reference however it is typed (as normalize reads it).

    C-7K3Q-2M, c7k3q2m, 7K3Q 2M: any case, "C" and dashes optional, spaces anywhere. Only that
    shape matches, so /complaint-queue/recurring is never read as a reference.
    """

    regex = r" *(?:[Cc] *(?:- *)?)?(?:[0-9A-Za-z] *){4}(?:- *)?(?:[0-9A-Za-z] *){2}"

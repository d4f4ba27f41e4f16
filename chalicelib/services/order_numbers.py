"""Readable order numbers, e.g. "SS-4F7K-2Q": six characters a person can read out on the phone.

The alphabet has no 0/O or 1/I, so a number read aloud or typed from a letter cannot be mistaken.
32**6 (about a billion) numbers; uniqueness is DynamoDB's: the placing transaction also puts an
OrderNumberClaim on attribute_not_exists, and a collision (a cancelled transaction naming only the
claim) places the order again with another number (services.checkout.place_order).
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "SS"
LENGTH = 6  # characters after the prefix, shown as 4 + 2


def new_number() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{PREFIX}-{code[:4]}-{code[4:]}"


def normalise(text: object) -> str | None:
    """The canonical number for what a person typed ("ss4f7k2q", "4F7K 2Q", " SS-4F7K-2Q "), or None
    when it cannot be one (case and dashes, spaces and the prefix are optional)."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    typed = text.strip().upper()
    code = "".join(char for char in typed if char.isalnum())
    # "SS-…" or eight characters: the prefix (a code may itself start with "SS")
    spelled_prefix = typed.startswith(PREFIX) and typed[len(PREFIX) : len(PREFIX) + 1] in ("-", " ")
    if code.startswith(PREFIX) and (spelled_prefix or len(code) == LENGTH + len(PREFIX)):
        code = code[len(PREFIX) :]
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        return None
    return f"{PREFIX}-{code[:4]}-{code[4:]}"

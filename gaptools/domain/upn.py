"""Unique Pupil Number (UPN) check letters, as specified by the DfE.

A UPN is 13 characters: a check letter, 3-digit LA code, 4-digit establishment
number, 2-digit year and 3-digit serial. The last character may be a letter
(a temporary UPN). The check letter is the letter table's entry at
``sum(value(c_i) * i for i in 2..13) mod 23``.
"""
from __future__ import annotations

import re

LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # I, O and S are never used
_SHAPE = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


def looks_like_upn(value: str) -> bool:
    """True when ``value`` has the shape of a UPN (so its check letter can be verified)."""
    return bool(_SHAPE.match(value)) and value[0] in LETTERS and (value[12].isdigit() or value[12] in LETTERS)


def check_letter(upn: str) -> str:
    """The check letter that characters 2-13 of ``upn`` call for.

    Parameters
    ----------
    upn : str
        A 13-character UPN (its first character is ignored).

    Returns
    -------
    str
        The expected first character.
    """
    total = 0
    for position, char in enumerate(upn[1:13], start=2):
        value = int(char) if char.isdigit() else LETTERS.index(char)
        total += value * position
    return LETTERS[total % 23]


def is_valid_upn(upn: str) -> bool:
    """True when ``upn`` has the UPN shape and a correct check letter."""
    return looks_like_upn(upn) and upn[0] == check_letter(upn)

"""CSV that is safe to open in a spreadsheet: no cell from the data is run as a formula.

OWASP's advice on CSV injection: a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is a formula to Excel, LibreOffice and
Google Sheets; prefix it with a single quote so it is shown as text. A plain
number (``-5``, ``+1.5``) is left as it is.
"""
from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")  # shown as it is, never escaped


def safe_cell(value) -> str:
    """``value`` as text a spreadsheet shows and never runs.

    Examples
    --------
    >>> safe_cell("=1+1"), safe_cell("-5"), safe_cell("+44 20 7946 0000")
    ("'=1+1", '-5', "'+44 20 7946 0000")
    """
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index, ``\\n`` line ends), headings and cells made safe by :func:`safe_cell`."""
    out = frame.astype(object).map(safe_cell) if len(frame) else frame.astype(object)
    out.columns = [safe_cell(c) for c in frame.columns]
    return out.to_csv(index=False, lineterminator="\n")

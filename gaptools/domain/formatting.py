"""One formatting rule for every page: numbers with their units, labels, yes/no (no plotting imports)."""
from __future__ import annotations

import pandas as pd


def cap(text) -> str:
    """Capitalise the first letter only ('GCSE English grade' stays as it is)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def is_yes(x) -> bool:
    """True for a true flag; False for false or missing (pandas NA-aware)."""
    return x is not None and not pd.isna(x) and bool(x)


def number(x: float, unit: str, measure: str) -> str:
    if unit == "suspensions":
        return f"{x:.2f}"
    if unit == "%":
        return f"{x * 100:.0f}" if measure != "attendance_pct" else f"{x:.1f}"
    if measure == "progress8" or measure.startswith("va_grade"):
        return f"{x:.2f}"
    return f"{x:.1f}"

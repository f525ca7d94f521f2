"""The assessments table's columns (data contract §6): a school's data drops through the year.

One row per pupil, subject and data drop. The parsers are the pupil table's
(:mod:`gaptools.domain.columns`), with two of their own: a year group
(``10``, ``Y10``, ``Year 10``, ``R``) and a date.
"""
from __future__ import annotations

import pandas as pd

from . import columns as C
from .columns import ColumnSpec, parse_column

_SPECS = [
    ColumnSpec("school_id", "text", required=True, meaning="URN or trust code"),
    ColumnSpec("pupil_id", "text", required=True, meaning="UPN or pseudonym, as in the pupil table"),
    ColumnSpec("year_group", "year_group", required=True, ge=0, le=14, meaning="national curriculum year"),
    ColumnSpec("subject", "text", required=True),
    ColumnSpec("drop", "text", required=True, meaning="the data drop's label, e.g. Autumn 1"),
    ColumnSpec("drop_date", "date", required=True, meaning="when the drop was taken"),
    ColumnSpec("score", "float", required=True, meaning="any scale, higher is better"),
    ColumnSpec("disadvantaged", "bool", required=True),
    ColumnSpec("teaching_group", "text", meaning="the class or set, e.g. 10E3: text, never a number"),
    ColumnSpec("sen", "sen", allowed=("N", "K", "E")),
    ColumnSpec("forename", "text", meaning="never shown: the page names no pupil"),
    ColumnSpec("surname", "text", meaning="never shown: the page names no pupil"),
]
COLUMNS: dict[str, ColumnSpec] = {s.name: s for s in _SPECS}
REQUIRED = tuple(s.name for s in _SPECS if s.required)
#: One score per pupil, subject and drop within a school.
KEY = ("school_id", "pupil_id", "subject", "drop")
#: Pupils' names: read (an export has them) but never shown or written.
NAME_COLUMNS = ("forename", "surname")


def spec_for(name: str) -> ColumnSpec | None:
    """The spec of assessments column ``name`` (None: not a column of the assessments)."""
    return COLUMNS.get(name)


def parse_year_group(s: pd.Series):
    """A national curriculum year: ``10``, ``Y10``, ``Yr 10``, ``Year 10``; ``R`` or ``Reception`` is 0."""
    text = C._as_text(s).str.upper()
    text = text.str.replace(r"^(?:YEAR|YR|Y)\s*(\d{1,2})$", r"\1", regex=True)
    text = text.mask(text.isin(["R", "RECEPTION"]).fillna(False).astype(bool), "0")
    num = pd.to_numeric(text.mask(text == ""), errors="coerce")
    whole = num.notna() & (num == num.round())
    out = num.where(whole).astype("Int64")
    bad = out.isna() & ~C._blank(s)
    return out, bad, "is not a year group (write 10, Y10 or Year 10; R for Reception)"


def parse_date(s: pd.Series):
    """A date: ISO (2025-10-15) or as UK spreadsheets write it (15/10/2025), day first."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.astype("datetime64[ns]"), pd.Series(False, index=s.index), ""
    text = C._as_text(s)
    iso = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?").fillna(False).astype(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if iso.any():
        out[iso] = pd.to_datetime(text[iso], errors="coerce", format="ISO8601")
    rest = ~iso & ~C._blank(s)
    if rest.any():
        out[rest] = pd.to_datetime(text[rest], errors="coerce", dayfirst=True, format="mixed")
    bad = out.isna() & ~C._blank(s)
    return out, bad, "is not a date (write 2025-10-15 or 15/10/2025)"


def parse(spec: ColumnSpec, s: pd.Series):
    """Type one assessments column by its spec: ``(typed, bad_mask, message)``."""
    if spec.kind == "year_group":
        return (parse_year_group(s) if pd.api.types.is_numeric_dtype(s.dtype)
                else C._by_unique(parse_year_group, s))
    if spec.kind == "date":
        return C._by_unique(parse_date, s) if not pd.api.types.is_datetime64_any_dtype(s.dtype) else parse_date(s)
    if spec.name == "teaching_group" or spec.kind == "text":
        return parse_group_text(s)
    return parse_column(spec, s)


def parse_group_text(s: pd.Series):
    """Text, whatever the file typed it as: a group read as the number 7.0 is the group "7"."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.notna() & (s == s.round())
        s = s.astype(object).where(~whole, s.round().astype("Int64").astype(str))
    out = C._as_text(s)
    return out.mask(out == ""), pd.Series(False, index=s.index), ""

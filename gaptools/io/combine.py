"""Columns a mapping derives from several export columns: ``mean_of`` and ``max_of`` (data contract §2).

``mean_of`` averages (KS2 prior attainment from reading and maths);
``max_of`` takes the best (GCSE English: the better of English Language and
English Literature, as the DfE counts it for the English and maths measures
and Attainment 8's English slot).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..domain import columns as C
from ..errors import Problem, shorten

#: Headers of an export's English Language and English Literature grades ("English Language", "Eng Lit", ...).
ENGLISH_LANGUAGE = re.compile(r"\beng(?:lish)?\.?\s*lang", re.IGNORECASE)
ENGLISH_LITERATURE = re.compile(r"\beng(?:lish)?\.?\s*lit", re.IGNORECASE)


def combine_columns(name: str, frame: pd.DataFrame, positions: list[int], canon: str, how: str,
                    lines: np.ndarray, notes: list[str] | None = None) -> tuple[pd.Series, list[Problem]]:
    """The mean (``how="mean_of"``) or the best (``"max_of"``) of several export columns, per pupil.

    Only the values a pupil has count: where a pupil has one of the columns,
    that one is the result (the DfE takes KS2 prior attainment from the one
    subject a pupil has, and English from the one English a pupil sat). A KS2
    test code (A, B, ...) in a source column is no score; a grade column's
    sources are read as grades (U is 0, a double award "5-4" is 4.5, a
    working-at "5+" is 5: said in ``notes``).
    """
    problems: list[Problem] = []
    values = []
    grade = (C.spec_for(canon) or C.GRADE_SPEC).kind == "grade"
    verb = "averages this column into" if how == "mean_of" else "takes the best of this column and others for"
    for i in positions:
        col = frame.iloc[:, i]
        if grade:
            typed, bad, msg = C.parse_grade(col)
            signed = int(C.fine_grades(col).sum())
            if signed and notes is not None:
                notes.append(f"{name}: {signed} working-at grade{'s' if signed != 1 else ''} with a sign in "
                             f"'{shorten(frame.columns[i], 60)}' read as the whole grade (5+ and 5- are 5)")
        else:
            codes = C.ks2_codes(col)
            typed, bad, msg = C.parse_float(col.mask(codes.notna().to_numpy(dtype=bool)))
        for j in np.flatnonzero(bad.to_numpy(dtype=bool, na_value=False)):
            problems.append(Problem(name, int(lines[j]), frame.columns[i], str(col.iloc[j]),
                                    f"{msg}; the mapping {verb} '{canon}'"))
        values.append(typed.astype("Float64").to_numpy(dtype="float64", na_value=np.nan))
    stacked = np.vstack(values)
    known = ~np.isnan(stacked)
    if how == "max_of":
        out = np.where(known, stacked, -np.inf).max(axis=0)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(known, stacked, 0).sum(axis=0) / known.sum(axis=0)
    return pd.Series(out, index=frame.index, dtype="Float64").mask(~known.any(axis=0)), problems


def english_note(name: str, headers: list[str], mapping) -> str | None:
    """A warning when the export has English Language and Literature but the mapping reads only one.

    The DfE's English (in the English and maths measures and Attainment 8) is
    the better of the two: reading one alone understates it, most for pupils
    whose better English is the other one.
    """
    if mapping is None or "grade_english" in mapping.combined():
        return None
    lang = [h for h in headers if ENGLISH_LANGUAGE.search(h)]
    lit = [h for h in headers if ENGLISH_LITERATURE.search(h)]
    if not lang or not lit:
        return None
    fix = f"write grade_english: {{max_of: [\"{shorten(lang[0], 60)}\", \"{shorten(lit[0], 60)}\"]}}"
    read = mapping.columns.get("grade_english")
    if read is None:
        if any(C.canonical_name(h) == "grade_english" for h in headers):
            return None  # the export has its own grade_english column
        return (f"{name}: the file has '{shorten(lang[0], 60)}' and '{shorten(lit[0], 60)}' but the mapping reads "
                "no grade_english, so there is no English, nor grade 4+/5+ in English and maths: " + fix)
    return (f"{name}: the file has '{shorten(lang[0], 60)}' and '{shorten(lit[0], 60)}' but the mapping reads "
            f"grade_english from '{shorten(read, 60)}' alone; the DfE counts English as the better of the two: {fix}")

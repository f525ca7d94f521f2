"""Which measures a page calls the *subjects* of a key stage.

KS4: the GCSE grades (English, maths and every other subject). KS2: reading,
maths and grammar, punctuation and spelling, the tests with a scaled score;
writing is teacher-assessed (no score), so it counts through the expected
standard in reading, writing and maths, shown with the yes/no measures.
"""
from __future__ import annotations

import pandas as pd

from ..domain.registry import progress_measures, subjects

#: The KS2 subjects with a scaled score, in reading order (the registry's).
KS2_SUBJECTS = subjects("KS2")
#: What a page says when a KS2 cohort has no subject score.
KS2_NONE = ("_No KS2 test scores (reading, maths, grammar, punctuation and spelling) in the data: the subjects "
            "are compared through the expected standard in reading, writing and maths, below._")
#: What a page says when a KS4 cohort has no grade.
KS4_NONE = "_No GCSE subject grades in the data._"


def subject_rows(gaps: pd.DataFrame, key_stage: str, units=None) -> pd.DataFrame:
    """The rows of ``gaps`` about the subjects of ``key_stage`` (``units``, if given, overrides:
    the measures in those units, as before)."""
    plain = ~gaps["measure"].str.startswith("va_") & ~gaps["measure"].isin(progress_measures())
    if units is not None:
        return gaps[gaps["unit"].isin(units) & plain]
    if key_stage == "KS2":
        return gaps[gaps["measure"].isin(KS2_SUBJECTS)]
    return gaps[(gaps["unit"] == "grades") & plain]


def no_subjects_text(key_stage: str) -> str:
    """Why a subject chart is empty, in the key stage's own words."""
    return KS2_NONE if key_stage == "KS2" else KS4_NONE

"""Outcome measures: what each one is, and the standard ones gaptools derives.

A :class:`Measure` knows its kind (``score``: a mean; ``rate``: a yes/no shown
as a percentage), its label and unit and whether higher is better; the
standard ones, and all that is known about each, are in the one registry
(:mod:`gaptools.domain.registry`). Use
:func:`measures_for` to ask which measures a key stage of a pupil table has.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .columns import GRADE_PREFIX, KS2_TEST_CODES, WRITING_TA_EXCLUDED, WRITING_TA_MEETS
from .registry import STANDARD_MEASURES, Measure, absence_rates, attendance_score

_KS4 = ("KS4",)
_STD = ("KS2", "KS4")


def grade_measure(column: str) -> Measure:
    """The measure for a ``grade_<subject>`` column."""
    if column in STANDARD_MEASURES:
        return STANDARD_MEASURES[column]
    subject = column[len(GRADE_PREFIX):].replace("_", " ")
    return Measure(column, f"GCSE {subject} grade", "score", "grades", True, _KS4)


def custom_measures(pupils: pd.DataFrame) -> dict[str, Measure]:
    """Measures declared in the mapping file the table was loaded with."""
    return dict(pupils.attrs.get("gaptools_measures", {}))


def measures_for(pupils: pd.DataFrame, key_stage: str) -> list[Measure]:
    """The measures a key stage of ``pupils`` has data for, standard then custom.

    Parameters
    ----------
    pupils : DataFrame
        A table from :func:`gaptools.load_pupils`.
    key_stage : str
        ``"KS2"``, ``"KS4"`` or another label (then only declared measures apply).

    Returns
    -------
    list of Measure
    """
    here = (pupils["key_stage"] == key_stage).to_numpy(dtype=bool, na_value=False)

    def has_data(name: str) -> bool:
        return name in pupils.columns and bool((pupils[name].notna().to_numpy() & here).any())

    out: list[Measure] = []
    if key_stage in _STD:
        names = list(STANDARD_MEASURES)
        names += sorted(c for c in pupils.columns
                        if c.startswith(GRADE_PREFIX) and c not in STANDARD_MEASURES)
        for name in names:
            m = STANDARD_MEASURES.get(name) or grade_measure(name)
            if key_stage not in (m.key_stages or (key_stage,)):
                continue
            if has_data(name):
                out.append(m)
    for m in custom_measures(pupils).values():
        if has_data(m.name):
            out.append(m)
    return out


def _all_known(*cols: pd.Series) -> pd.Series:
    known = cols[0].notna()
    for c in cols[1:]:
        known &= c.notna()
    return known


def derive_standard_measures(pupils: pd.DataFrame) -> pd.DataFrame:
    """Add basics, RWM and absence measures (data contract §1) in place and return the frame.

    A measure is missing (not false) where an input it needs is missing, so a
    blank grade never counts as a fail. For KS2, a test code that DfE counts as
    not reaching the standard (absent, working below the test, ...) makes RWM
    false, as in the performance tables.
    """
    def threshold(col, level, codes_col=None):
        """score >= level; False where a 'not met' code stands; NA where unknown."""
        met = (pupils[col] >= level).astype("boolean")
        if codes_col is not None and codes_col in pupils:
            not_met = pupils[codes_col].map(
                lambda c: KS2_TEST_CODES.get(c, ("", False))[1], na_action="ignore")
            # as objects: mapping a column with no code at all keeps its string dtype, which cannot hold False
            met = met.mask(not_met.astype(object).fillna(False).astype(bool), False)
        return met

    if {"grade_english", "grade_maths"} <= set(pupils.columns):
        e, m = pupils["grade_english"], pupils["grade_maths"]
        known = _all_known(e, m)
        pupils["basics_4plus"] = ((e >= 4) & (m >= 4)).astype("boolean").where(known)
        pupils["basics_5plus"] = ((e >= 5) & (m >= 5)).astype("boolean").where(known)
    if {"reading_score", "maths_score", "writing_ta"} <= set(pupils.columns):
        w = pupils["writing_ta"]
        w_known = w.notna() & ~w.isin(WRITING_TA_EXCLUDED)
        read_exp = threshold("reading_score", 100, "reading_score_code")
        maths_exp = threshold("maths_score", 100, "maths_score_code")
        read_high = threshold("reading_score", 110, "reading_score_code")
        maths_high = threshold("maths_score", 110, "maths_score_code")
        write_exp = w.isin(WRITING_TA_MEETS).astype("boolean").where(w_known)
        write_high = (w == "GDS").astype("boolean").where(w_known)
        pupils["rwm_expected"] = _kleene_and(read_exp, maths_exp, write_exp)
        pupils["rwm_higher"] = _kleene_and(read_high, maths_high, write_high)
    if attendance_score() in pupils.columns:
        a = pupils[attendance_score()]
        for rate in absence_rates():  # below the registry's line: persistent (90%), severe (50%)
            pupils[rate] = (a < STANDARD_MEASURES[rate].absent_below).astype("boolean").where(a.notna())
    return pupils


def _kleene_and(*parts: pd.Series) -> pd.Series:
    """AND with three-valued logic: any False is False, else any unknown is unknown."""
    out = parts[0].astype("boolean")
    for p in parts[1:]:
        out = out & p.astype("boolean")
    return out


PRIOR_BANDS = (("low", -np.inf, 100.0), ("middle", 100.0, 110.0), ("high", 110.0, np.inf))


def as_floats(values) -> np.ndarray:
    """A column as float64, missing (or not a number) as NaN."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def prior_band_codes(prior: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each pupil's prior-attainment band as a code (0 low, 1 middle, 2 high; -1 unknown) and the band names."""
    values = as_floats(prior)
    out = np.full(len(values), -1, dtype=np.int64)
    for i, (_, lo, hi) in enumerate(PRIOR_BANDS):
        out[(values >= lo) & (values < hi)] = i
    return out, [name for name, _, _ in PRIOR_BANDS]


def prior_band(prior: pd.Series) -> pd.Series:
    """KS4 prior-attainment band from the KS2 average scaled score.

    low: below 100 (below the expected standard); middle: 100 to below 110;
    high: 110 or above. The 110 boundary is a convention (see domain notes).
    """
    band, names = prior_band_codes(prior)
    out = pd.array(np.array(names + [None], dtype=object)[band], dtype="string")
    return pd.Series(out, index=prior.index)


#: What each key stage's headline measures need: (columns, what is lost without them).
HEADLINE_NEEDS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "KS4": [
        (("attainment8",), "no Attainment 8"),
        (("prior_attainment",), "no Progress 8 or prior-attainment bands"),
        (("grade_english", "grade_maths"), "no grade 4+ or 5+ in English and maths"),
    ],
    "KS2": [
        (("reading_score", "maths_score", "writing_ta"),
         "no expected or higher standard in reading, writing and maths"),
    ],
}


def missing_headlines(pupils: pd.DataFrame) -> list[str]:
    """What each key stage of ``pupils`` cannot show for want of a column, one sentence each.

    A column counts as there when at least one pupil of the key stage has a
    value. KS4 Progress 8 supplied without prior attainment still gives Progress
    8, so then only the prior-attainment bands are lost.

    Returns
    -------
    list of str
        e.g. ``"KS4: no prior_attainment, so no Progress 8 or prior-attainment bands"``.
    """
    out = []
    stages = pupils["key_stage"].dropna().unique()
    for ks in sorted(str(k) for k in stages):
        here = (pupils["key_stage"] == ks).to_numpy(dtype=bool, na_value=False)

        def has(col, *, here=here):
            return col in pupils.columns and bool((pupils[col].notna().to_numpy() & here).any())

        for needs, lost in HEADLINE_NEEDS.get(ks, []):
            absent = [c for c in needs if not has(c)]
            if not absent:
                continue
            if absent == ["prior_attainment"] and has("progress8"):
                lost = "no prior-attainment bands"
            out.append(f"{ks}: no {', '.join(absent)}, so {lost}")
    return out

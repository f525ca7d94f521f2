"""Year groups and academic years: the results year of pupils on roll now.

A tracker holds Year 10 and Year 11 in one file and no results year: the
year a pupil's results will belong to comes from the year group and the
academic year (data contract §1, current pupils). KS4 ends in Year 11 and
KS2 in Year 6, so in 2025/26 Year 11 sits its exams in summer 2026, Year 10 in
2027 and Year 6 its KS2 tests in 2026. A new academic year starts on
1 September.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import Problem

_FILE, _LINE = "__file", "__line"
#: The year group in which each key stage's results are taken.
FINAL_YEAR_GROUP = {"KS2": 6, "KS4": 11}


def academic_year_of(day: dt.date) -> int:
    """The academic year ``day`` falls in, by its summer: 2026 for any day from 1 September 2025 to 31 August 2026."""
    return day.year + (1 if day.month >= 9 else 0)


def results_year(key_stage: str, year_group: int, academic_year: int) -> int | None:
    """The summer whose results a pupil in ``year_group`` of ``academic_year`` will have (None: unknown key stage)."""
    final = FINAL_YEAR_GROUP.get(key_stage)
    return None if final is None else academic_year + final - int(year_group)


def results_years(typed: pd.DataFrame, raw: pd.DataFrame, today: dt.date | None = None) -> list[Problem]:
    """Fill a current table's missing ``year`` from ``year_group`` in place; the rows where it cannot be.

    ``academic_year`` (a column or a mapping constant) gives the academic year;
    without it, ``today`` (default: the date now).
    """
    if "year" not in typed.columns:
        typed["year"] = pd.Series(pd.NA, index=typed.index, dtype="Int64")
    todo = typed["year"].isna().to_numpy(dtype=bool)
    if not todo.any():
        return []
    if "year_group" in typed.columns:
        group = typed["year_group"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    else:
        group = np.full(len(typed), np.nan)
    now = academic_year_of(today or dt.date.today())
    if "academic_year" in typed.columns:
        academic = typed["academic_year"].astype("Float64").fillna(now).to_numpy(dtype="float64")
    else:
        academic = np.full(len(typed), float(now))
    final = typed["key_stage"].map(FINAL_YEAR_GROUP).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    year = academic + final - group
    fill = todo & ~np.isnan(year)
    typed.loc[fill, "year"] = year[fill].astype("int64")
    problems = []
    for i in np.flatnonzero(todo & np.isnan(year)):
        if np.isnan(group[i]):
            if "year_group" in raw.columns and pd.notna(raw["year_group"].iloc[i]) \
                    and str(raw["year_group"].iloc[i]).strip():
                continue  # an unreadable year group: reported at its own cell
            message = "has neither 'year' nor 'year_group': give one, so the pupil's results year is known"
        else:
            message = (f"the results year cannot be worked out from the year group for key stage "
                       f"'{typed['key_stage'].iloc[i]}' (only KS2 and KS4); give 'year'")
        problems.append(Problem(str(raw[_FILE].iloc[i]), int(raw[_LINE].iloc[i]), "year", None, message))
    return problems


def two_year_groups(typed: pd.DataFrame, raw: pd.DataFrame, originals: dict[str, dict[str, str]]) -> list[Problem]:
    """A pupil listed in two year groups of a school's current table: every such row, with the others' lines."""
    if "year_group" not in typed.columns:
        return []
    known = typed["year_group"].notna().to_numpy(dtype=bool)
    keys = typed.loc[known, ["school_id", "pupil_id"]].astype(str)
    groups = typed.loc[known, "year_group"]
    counts = groups.groupby([keys["school_id"], keys["pupil_id"]]).transform("nunique")
    clash = counts.index[counts.to_numpy() > 1]
    problems = []
    for (_, _), rows in keys.loc[clash].groupby(["school_id", "pupil_id"], sort=False):
        where = {i: f"{raw.at[i, _FILE]} line {raw.at[i, _LINE]} (Year {typed.at[i, 'year_group']})"
                 for i in rows.index}
        for i in rows.index:
            file = raw.at[i, _FILE]
            others = ", ".join(w for j, w in where.items() if j != i)
            problems.append(Problem(file, int(raw.at[i, _LINE]), originals.get(file, {}).get("pupil_id", "pupil_id"),
                                    str(typed.at[i, "pupil_id"]),
                                    f"pupil is listed in two year groups (also at {others}); keep the one "
                                    "they are in now"))
    return problems

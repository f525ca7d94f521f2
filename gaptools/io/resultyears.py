"""Results years that cannot be right: a mistyped year must not become a school's headline.

Two rows typed as 2052 beside three full cohorts would make "the results of
2051/52: 2 pupils" the year every page leads with. In a table of results (not
of pupils on roll now, whose year is the summer to come) a year after the
latest results there can be, or a handful of pupils in a year beside full
cohorts of the same school and key stage, is a located problem.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..errors import Problem

#: A year with at most this many pupils, where the school's other years of that key stage have a median of
#: at least :data:`FULL_COHORT`, is taken for a mistyped year.
STRAY_AT_MOST, FULL_COHORT = 5, 30


def latest_possible(today: dt.date) -> int:
    """The latest summer whose results can exist on ``today`` (results come out in July and August)."""
    return today.year if today.month >= 7 else today.year - 1


def implausible_years(typed: pd.DataFrame, raw: pd.DataFrame, originals: dict[str, dict[str, str]],
                      file_col: str, line_col: str, today: dt.date | None = None) -> list[Problem]:
    """Every row of a results table whose year is after the latest possible results or a stray beside full
    cohorts (see the module's note), located at its ``year`` cell."""
    if "year" not in typed.columns or typed.empty:
        return []
    latest = latest_possible(today or dt.date.today())
    year = typed["year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    messages: dict[int, str] = {}
    for i in np.flatnonzero(year > latest).tolist():
        messages[i] = (f"results year {int(year[i])} is after the latest results there can be today (summer "
                       f"{latest}): a mistyped year? (Pupils on roll now go in the current table, --current)")
    keys = typed[["school_id", "key_stage"]].astype(str)
    counts = typed.assign(_y=year).groupby([keys["school_id"], keys["key_stage"], "_y"]).size()
    for (school, stage), per_year in counts.groupby(level=[0, 1]):
        per_year = per_year.droplevel([0, 1])
        for y, n in per_year.items():
            others = per_year.drop(y)
            if n <= STRAY_AT_MOST and len(others) and others.median() >= FULL_COHORT:
                rows = np.flatnonzero((keys["school_id"] == school).to_numpy() & (keys["key_stage"] == stage).to_numpy()
                                      & (year == y))
                for i in rows.tolist():
                    messages.setdefault(i, f"only {n} pupil{'s' if n != 1 else ''} in {stage} {int(y)} where the "
                                           f"school's other years have {int(others.min())}-{int(others.max())}: "
                                           "a mistyped year?")
    problems = []
    for i, message in sorted(messages.items()):
        file = str(raw[file_col].iloc[i])
        problems.append(Problem(file, int(raw[line_col].iloc[i]), originals.get(file, {}).get("year", "year"),
                                None if pd.isna(year[i]) else str(int(year[i])), message))
    return problems

"""The cohorts a page shows (a key stage and a results year each) and their rows of the results model.

A page shows one block per cohort, headed by its key stage and year when there is
more than one (an all-through school): the report's sections and the public tables
(:mod:`gaptools.reporting.tables`) render through :func:`each_cohort` alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..domain.formatting import academic_year, md_text
from .display import Section, markdown


@dataclass
class Cohort:
    key_stage: str
    year: int


def as_cohorts(table: pd.DataFrame, cohorts=None) -> list[Cohort]:
    """``cohorts`` as a list of :class:`Cohort` (each a Cohort, a ``(key_stage, year)`` pair or anything with
    those attributes); default every key stage in ``table`` at its latest year."""
    if cohorts is None:
        if table.empty:
            return []
        return [Cohort(str(ks), int(y)) for ks, y in table.groupby("key_stage")["year"].max().items()]
    return [c if isinstance(c, Cohort) else Cohort(*c) if isinstance(c, tuple) else Cohort(c.key_stage, int(c.year))
            for c in cohorts]


def cohort_rows(table: pd.DataFrame, c: Cohort, *, comparison=None, whole=True, year=True) -> pd.DataFrame:
    """The rows of ``table`` (the results model) of cohort ``c``: its year (``year``), one ``comparison``
    (or all), the whole cohort only (``whole``) or its subgroups too."""
    g = table
    g = g[g["key_stage"] == c.key_stage]
    if year:
        g = g[g["year"] == c.year]
    if comparison:
        g = g[g["comparison"] == comparison]
    if whole:
        g = g[g["subgroup"].isna()]
    return g


def each_cohort(cohorts: list[Cohort], fn) -> Section:
    """``fn(cohort)`` for each cohort, each headed by its key stage and year when there is more than one."""
    out = Section()
    for c in cohorts:
        if len(cohorts) > 1:
            out.append(markdown(f"#### {md_text(c.key_stage)} {academic_year(c.year)}"))
        out.append(fn(c))
    return out


def no_measure_text(c: Cohort) -> str:
    return (f"_No outcome measure in the data for {md_text(c.key_stage)} {academic_year(c.year)}: the file has "
            "none of the outcome columns the data contract lists for this key stage (or none a mapping declares), "
            "so no gap can be measured or charted._")

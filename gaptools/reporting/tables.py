"""Tables for people, from the results model: ``gaptools.tables`` in an analyst's notebook.

Each function takes a DataFrame of :func:`gaptools.analyse` (or a results.json
read back) and shows it in a notebook as the pages show it: values with their
units, the 95% interval, what each gap means and why a figure is withheld.
:func:`gaps` returns one :class:`~gaptools.reporting.display.Table` (``.data``
is the DataFrame); the pages' tables (:func:`measures`, :func:`national`,
:func:`subgroups`, :func:`trends`, :func:`profile`, :func:`findings`, :func:`gap_index`) one block a cohort; page
03's (:func:`priorities`, :func:`approaches`, :func:`weights`: :mod:`gaptools.reporting.targeting_tables`) take
:func:`gaptools.priorities`. They compute nothing: every figure and verdict is the analysis' or the targeting's.
"""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import academic_year, amount, cap, is_yes, md_text, with_interval
from ..domain.labels import characteristic_label, measure_label, subgroup_label
from ..domain.reference import national_on_file
from ..domain.suppression import DEFAULT_THRESHOLD, THRESHOLD_ATTR
from .cohorts import Cohort, as_cohorts, cohort_rows, each_cohort, no_measure_text
from .display import Section, Table, markdown
from .school_rows import by_importance, folded, people_table, profile_cells
from .targeting_tables import approaches as approaches
from .targeting_tables import priorities as priorities
from .targeting_tables import weights as weights


def gaps(table: pd.DataFrame, *, threshold: int | None = None, year: int | None = None,
         comparison: str | None = "in_school", subgroups: bool | str = False) -> Table:
    """The gaps as a head teacher reads them.

    Parameters
    ----------
    table : DataFrame
        ``SchoolAnalysis.gaps`` (rows of the results model).
    threshold : int, optional
        The threshold the analysis used (said in the withheld rows' reasons);
        default the one :func:`gaptools.analyse` kept on ``table``, else 6.
    year : int, optional
        One results year (default the latest in ``table``).
    comparison : str or None, default "in_school"
        ``in_school``, ``national_other``, ... or None for every comparison.
    subgroups : bool or str, default False
        False: the whole cohort only; True: every subgroup too; a split's name
        (``"eal"``): that split's rows only.

    Returns
    -------
    Table
    """
    rows = table
    if len(rows):
        rows = rows[rows["year"] == (rows["year"].max() if year is None else year)]
    if comparison is not None:
        rows = rows[rows["comparison"] == comparison]
    if subgroups is False:
        rows = rows[rows["subgroup"].isna()]
    elif isinstance(subgroups, str):
        rows = rows[rows["subgroup"].astype(str).str.startswith(f"{subgroups}=")]
    return Table(people_table(rows, used_threshold(table, threshold)))


# ----------------------------------------------------------------- the pages' tables, one block a cohort
# Each takes a DataFrame of gaptools.analyse and ``cohorts`` (the key stages and years to show:
# ``SchoolReport.cohorts``, (key_stage, year) pairs, or by default each key stage at its latest year) and
# shows one block a cohort, as pages 01 and 02 do; a SchoolReport's sections are these.
def measures(table: pd.DataFrame, cohorts=None, *, threshold: int | None = None, keep: int = 8) -> Section:
    """Every measure, in school and against national figures, with intervals: the clear gaps first (at
    most ``keep`` rows shown), the rest folded. ``table``: ``SchoolAnalysis.gaps``."""
    def one(c):
        g = cohort_rows(table, c)
        if g.empty:
            return markdown(no_measure_text(c))
        g = by_importance(g)
        n_clear = int((g["clear"].map(is_yes) & (g["gap"] > 0)).sum())
        return folded(people_table(g, used_threshold(table, threshold)), min(keep, n_clear), "measures")
    return each_cohort(as_cohorts(table, cohorts), one)


def national(table: pd.DataFrame, cohorts=None, *, threshold: int | None = None) -> Section:
    """Disadvantaged pupils against each national group on file (other, all or disadvantaged pupils)."""
    def one(c):
        g = cohort_rows(table, c)
        g = g[g["comparison"].str.startswith("national_")]
        if g.empty:
            return markdown(f"_No national figure is on file for {md_text(c.key_stage)} {academic_year(c.year)}: "
                            f"{national_on_file(c.key_stage)} To compare, add the DfE's national file with "
                            "`gaptools reference import FILE`._")
        # the reference column holds the national figure of the group named beside it
        return people_table(g, used_threshold(table, threshold)).rename(columns={"Others": "National figure"})
    return each_cohort(as_cohorts(table, cohorts), one)


def subgroups(table: pd.DataFrame, split: str = "prior_band", cohorts=None, *,
              threshold: int | None = None) -> Section:
    """The in-school gaps within each group of ``split`` (a split of :func:`gaptools.analyse`), clear ones first."""
    def one(c):
        g = cohort_rows(table, c, comparison="in_school", whole=False)
        g = g[g["subgroup"].fillna("").str.startswith(split + "=")]
        if g.empty:  # (for prior attainment the chart above has said so)
            return markdown("" if split == "prior_band" else no_split_text(split, c))
        g = by_importance(g)
        t = people_table(g, used_threshold(table, threshold))
        t.insert(1, "Group", [cap(subgroup_label(v)) for v in g["subgroup"]])
        return folded(t, int((g["clear"].map(is_yes) & (g["gap"] > 0)).sum()), "rows")
    return each_cohort(as_cohorts(table, cohorts), one)


def trends(table: pd.DataFrame, cohorts=None) -> Section:
    """Which gaps are closing or widening: the model's verdict for each measure (only clear changes are
    called either), widening first."""
    def one(c):
        t = cohort_rows(table, c, comparison="in_school")
        t = t[t["trend"].notna()]
        if cohort_rows(table, c).empty:
            return markdown(no_measure_text(c))
        if t.empty:
            return markdown("_Only one year of results (with enough pupils): no trend yet._")
        rows = []
        for _, r in t.iterrows():
            u, m, k = r["unit"], r["measure"], r["kind"]
            rows.append({"Measure": cap(measure_label(m, r["label"])), "From": int(r["trend_from"]),
                         "To": int(r["year"]),
                         "Gap then": amount(r["gap"] - r["trend_change"], u, m, k, short=True),
                         "Gap now": amount(r["gap"], u, m, k, short=True),
                         "Change (95% interval)": with_interval(r["trend_change"], r["trend_ci_low"],
                                                                r["trend_ci_high"], u, m, k),
                         "Verdict": r["trend"]})
        out = pd.DataFrame(rows)
        order = {"widening": 0, "closing": 1, "no clear change": 2}
        out = out.sort_values("Verdict", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
        return folded(out, int((out["Verdict"] != "no clear change").sum()), "measures with no clear change")
    return each_cohort(as_cohorts(table, cohorts), one)


def profile(table: pd.DataFrame, cohorts=None, characteristics=None) -> Section:
    """Counts and shares by characteristic, disadvantaged beside others (``SchoolAnalysis.profile``;
    ``characteristics``: only these)."""
    def one(c):
        p = table[(table["key_stage"] == c.key_stage) & (table["year"] == c.year)]
        if characteristics:
            p = p[p["characteristic"].isin(characteristics)]
        return profile_cells(p)
    return each_cohort(as_cohorts(table, cohorts), one)


def findings(table: pd.DataFrame, cohorts=None, *, limit: int = 12) -> Section:
    """The findings (``SchoolAnalysis.findings``), most important first, as a bulleted list (at most ``limit``)."""
    def one(c):
        f = table[(table["key_stage"] == c.key_stage) & (table["year"] == c.year)].head(limit)
        if f.empty:
            return markdown(no_measure_text(c))
        return markdown("\n".join(f"- {md_text(t)}" for t in f["text"]))
    return each_cohort(as_cohorts(table, cohorts), one)


def gap_index(table: pd.DataFrame, cohorts=None) -> Section:
    """The DfE-style gap index (``SchoolAnalysis.gap_index``) of each cohort's key stage, a row a year: beside
    the national index when ranked across a trust, with its interval when ranked within one school."""
    from .indextable import gap_index_frame

    def one(c):
        gi = table[table["key_stage"] == c.key_stage]
        if gi.empty:
            return markdown("_The gap index needs English and maths grades (KS4) or reading and maths "
                            "scores (KS2)._")
        return gap_index_frame(gi)  # beside the national index only when ranked across a trust
    return each_cohort(as_cohorts(table, cohorts), one)


def used_threshold(table: pd.DataFrame, threshold: int | None) -> int:
    """``threshold`` if given, else the one the analysis of ``table`` used (6 if it does not say)."""
    return int(threshold) if threshold is not None else int(table.attrs.get(THRESHOLD_ATTR, DEFAULT_THRESHOLD))


def no_split_text(split: str, c: Cohort) -> str:
    """Why a cohort has no rows of ``split``."""
    if split == "prior_band":
        if c.key_stage == "KS4" and c.year in (2025, 2026):
            return (f"_No prior attainment for {c.key_stage} {academic_year(c.year)}: this cohort sat no KS2 tests "
                    "(2020 and 2021 were cancelled)._")
        return f"_No prior attainment in the data for {md_text(c.key_stage)} {academic_year(c.year)}._"
    return f"_No {characteristic_label(split)} data for this cohort._"

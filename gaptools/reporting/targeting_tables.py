"""Page 03's tables of what to do about the gaps: ``gaptools.tables.priorities``, ``approaches`` and
``weights`` (re-exported by :mod:`gaptools.reporting.tables`).

Each takes what an analyst gets from the public API (:func:`gaptools.priorities`,
:class:`gaptools.Weights`, :func:`gaptools.analyse`) and shows it as page 03 does, one block a
cohort. They choose no priority and rank no pupil: the targeting layer does. The pupil list is
not here: it names pupils and stays the school's own output (``SchoolReport.targets``).
"""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import cap
from .cohorts import as_cohorts, cohort_rows, each_cohort, no_measure_text
from .display import Section, Table, markdown

#: The EEF's tiers as the approaches table names them.
TIERS = {"teaching": "1 teaching", "targeted": "2 targeted support", "wider": "3 wider"}


def _of(table: pd.DataFrame, c) -> pd.DataFrame:
    """The rows of ``table`` (priorities: a ``key_stage`` and ``year`` a row) of cohort ``c``, with the
    column types they have alone (several cohorts' rows together may hold text as objects)."""
    if table.empty:
        return table
    return table[(table["key_stage"] == c.key_stage) & (table["year"] == c.year)].reset_index(drop=True).infer_objects()


def _no_comparison_group(sizes: pd.DataFrame, c) -> bool:
    """Whether cohort ``c`` has no comparison group in school (every pupil disadvantaged, or none; a cohort
    ``sizes`` does not list has neither)."""
    k = sizes[(sizes["key_stage"] == c.key_stage) & (sizes["year"] == c.year)]
    n, d = (int(k["pupils"].iloc[0]), int(k["disadvantaged"].iloc[0])) if len(k) else (0, 0)
    return d in (0, n)


def priorities(table: pd.DataFrame, cohorts=None, *, gaps: pd.DataFrame | None = None,
               sizes: pd.DataFrame | None = None) -> Section:
    """The school's priority areas, most important first, one block a cohort.

    Parameters
    ----------
    table : DataFrame
        :func:`gaptools.priorities` of one cohort, or of several (``cohorts=``):
        a row a priority, with its ``key_stage`` and ``year``.
    cohorts : optional
        The cohorts to show: ``SchoolReport.cohorts``, ``(key_stage, year)``
        pairs, or by default each key stage of ``table`` at its latest year.
    gaps : DataFrame, optional
        ``SchoolAnalysis.gaps``: with it, a cohort with no in-school gap at all
        says so (no outcome measure) rather than "no clear gap".
    sizes : DataFrame, optional
        ``SchoolAnalysis.cohorts``: with it, a cohort with no comparison group
        in school (every pupil disadvantaged, or none) says so.

    Returns
    -------
    Section
        Per cohort a table (``Priority``, ``Area``, ``Evidence``,
        ``Concentrated in``, ``Trend``) or, with no priority, why there is none.
    """
    def one(c):
        p = _of(table, c)
        if p.empty and sizes is not None and _no_comparison_group(sizes, c):
            return markdown("**No priority area from in-school gaps:** there is no comparison group in school "
                            "(every pupil in this cohort is disadvantaged, or none is). See the gap analysis for "
                            "comparisons with national other pupils, and use the pupil list and staff knowledge.")
        if p.empty and gaps is not None and cohort_rows(gaps, c, comparison="in_school").empty:
            return markdown("**No priority area:** " + no_measure_text(c).strip("_") + " Use the pupil "
                            "list and staff knowledge.")
        if p.empty:
            return markdown("**No priority area:** the data shows no clear gap between disadvantaged and other "
                            "pupils this year once uncertainty is allowed for (or the groups are too small to "
                            "measure). That is not proof there is no need: use the pupil list and staff knowledge.")
        return pd.DataFrame({"Priority": p["rank"], "Area": p["area"].map(cap), "Evidence": p["evidence"],
                             "Concentrated in": p["concentrated_in"].fillna(""), "Trend": p["trend"].fillna("")})
    return each_cohort(as_cohorts(table, cohorts), one)


def approaches(table: pd.DataFrame, cohorts=None) -> Section:
    """What the evidence says works: the whole-school foundations once, then for each priority the EEF
    Toolkit approaches matched to its need, one block a cohort.

    Parameters
    ----------
    table : DataFrame
        :func:`gaptools.priorities` (one cohort or several): each priority's
        ``approaches`` are shown as :func:`gaptools.approaches_table` lists them.
    cohorts : optional
        As for :func:`priorities`.

    Returns
    -------
    Section
        Per cohort the tier-1 foundations of its phase in a sentence, then a
        table (``Priority``, ``Area``, ``Approach``, ``Tier``, ``Evidence``,
        ``Note``); with no priority, a line saying no approach is matched.
    """
    from ..targeting.evidence import describe, foundations
    from ..targeting.priorities import approaches_table

    def one(c):
        t = approaches_table(_of(table, c))
        if t.empty:
            return markdown("_No priority, so no approach is matched to one._")
        base = foundations(phase="primary" if c.key_stage == "KS2" else "secondary")
        out = Section()
        if len(base):
            out.append(markdown("**For every priority, first:** high-quality teaching for all (tier 1): "
                                + "; ".join(f"*{a['strand']}* ({describe(a)})" for _, a in base.iterrows())
                                + ". The tables below list what addresses each priority's own need."))
        t = t.rename(columns=str.capitalize)
        t["Tier"] = t["Tier"].map(TIERS)
        out.append(t)
        return out
    return each_cohort(as_cohorts(table, cohorts), one)


def weights() -> Section:
    """How the pupil list ranks pupils: the rule in one sentence, and the points of
    :class:`gaptools.Weights` (the defaults, which the sentence states and the page's list uses).

    Returns
    -------
    Section
        The rule, then a table (``Rule``, ``Points``).
    """
    from dataclasses import fields

    from ..targeting.pupils import RULE, Weights

    w = Weights()
    words = {"below_bar": "below a bar at all", "per_step": "each further step below it",
             "most_per_measure": "most points from one measure",
             "priority_factor": "times counted for a measure in a priority area"}
    return Section([markdown(RULE), Table(pd.DataFrame({
        "Rule": [words.get(f.name, f.name.replace("_", " ")) for f in fields(w)],
        "Points": [f"{getattr(w, f.name):g}" for f in fields(w)]}))])

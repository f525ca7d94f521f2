"""The pages' charts, one a cohort: which rows each chart draws and its title in words
(part of ``gaptools.charts``; the drawing itself is :mod:`gaptools.reporting.charts`).

Each takes a DataFrame of :func:`gaptools.analyse` (``SchoolAnalysis.gaps`` or
``.profile``) and ``cohorts`` (the key stages and years to show: ``SchoolReport.cohorts``,
(key_stage, year) pairs, or by default each key stage at its latest year), and shows a
chart a cohort, headed by its key stage and year when there is more than one. Titles say
the model's verdicts (clear, closing, widening); nothing is computed again.
"""
from __future__ import annotations

import pandas as pd

from ..analysis.cohort import biggest_difference
from ..domain.formatting import academic_year, amount, cap, md_text
from ..domain.labels import characteristic_label, measure_label, subgroup_label, value_label
from ..domain.registry import headline, percent_scores
from .charts import gap_bars, group_means, profile_bars, subgroup_bars, trend_lines
from .cohorts import as_cohorts, cohort_rows, each_cohort, no_measure_text
from .display import Section, markdown
from .subjects import no_subjects_text, subject_rows
from .tables import no_split_text


def subject_gaps(gaps: pd.DataFrame, cohorts=None, *, units=None, title: str | None = None) -> Section:
    """Bars of the in-school gaps by subject (:func:`subjects.subject_rows`; or the measures in ``units``),
    titled with the widest clear gap."""
    def one(c):
        g = subject_rows(cohort_rows(gaps, c, comparison="in_school"), c.key_stage, units)
        if g.empty:
            return markdown(no_subjects_text(c.key_stage))
        unit = g["unit"].value_counts().index[0]
        return gap_bars(g[g["unit"] == unit], title=title or _gap_title(g[g["unit"] == unit]))
    return each_cohort(as_cohorts(gaps, cohorts), one)


def rate_gaps(gaps: pd.DataFrame, cohorts=None, *, title: str | None = None) -> Section:
    """Bars of the yes/no measures' in-school gaps (percentage points), titled with the widest clear gap."""
    def one(c):
        g = cohort_rows(gaps, c, comparison="in_school")
        g = g[g["unit"] == "%"]
        g = g[~g["measure"].isin(percent_scores())]  # a score in per cent (attendance) is no yes/no
        return gap_bars(g, title=title or _gap_title(g)) if len(g) else markdown("_No yes/no measures._")
    return each_cohort(as_cohorts(gaps, cohorts), one)


def subject_means(gaps: pd.DataFrame, cohorts=None, *, units=None, title: str | None = None) -> Section:
    """Both groups' averages in each subject, side by side."""
    def one(c):
        g = subject_rows(cohort_rows(gaps, c, comparison="in_school"), c.key_stage, units)
        return group_means(g, title=title) if len(g) else markdown("")  # the gap chart said why
    return each_cohort(as_cohorts(gaps, cohorts), one)


def split_gaps(gaps: pd.DataFrame, cohorts=None, *, measure: str | None = None,
               split: str = "prior_band") -> Section:
    """One measure's in-school gap (default the cohort's headline measure) within each group of ``split``."""
    def one(c):
        m = measure or _headline_measure(cohort_rows(gaps, c, comparison="in_school"))
        if m is None:
            return markdown(no_measure_text(c))
        g = cohort_rows(gaps, c, comparison="in_school", whole=False)
        g = g[(g["measure"] == m) & g["subgroup"].fillna("").str.startswith(split + "=")]
        if g.empty:
            return markdown(no_split_text(split, c))
        label = measure_label(m, g["label"].iloc[0])
        clear = g[g["clear"].fillna(False).astype(bool) & (g["gap"] > 0)]
        title = (f"The {label} gap by {characteristic_label(split)}: clear for "
                 + ", ".join(subgroup_label(v) for v in clear["subgroup"]) if len(clear)
                 else f"The {label} gap by {characteristic_label(split)}: no group's gap is clear on its own")
        return subgroup_bars(g, title=title)
    return each_cohort(as_cohorts(gaps, cohorts), one)


def gap_trend(gaps: pd.DataFrame, cohorts=None, *, measures=None) -> Section:
    """The in-school gap of ``measures`` (default the headline one) in each year up to the cohort's, with
    intervals; the title is the model's trend verdict for the first."""
    def one(c):
        g = cohort_rows(gaps, c, comparison="in_school", year=False)
        m = measures or [_headline_measure(g[g["year"] == c.year])]
        if m == [None]:
            return markdown(no_measure_text(c))
        g = g[g["measure"].isin(m) & ~g["suppressed"] & (g["year"] <= c.year)]
        if g["year"].nunique() < 2:
            return markdown("_Only one year of results (with enough pupils): no trend to show yet._")
        # the title is the model's verdict for the first measure in the cohort's year
        now = g[(g["year"] == c.year) & (g["measure"] == m[0])]
        word = now["trend"].iloc[0] if len(now) else ""
        label = measure_label(m[0], g[g["measure"] == m[0]]["label"].iloc[0]) if (g["measure"] == m[0]).any() \
            else g["label"].iloc[0]
        since = f" since {int(now['trend_from'].iloc[0])}" if len(now) and word else ""
        title = {"closing": f"The {label} gap is closing{since}",
                 "widening": f"The {label} gap is widening{since}",
                 "no clear change": f"The {label} gap: no clear change{since}"}.get(
            word, f"The {label} gap over the years (no verdict: a year is withheld)")
        return trend_lines(g, title=title)
    return each_cohort(as_cohorts(gaps, cohorts), one)


def profile_chart(profile: pd.DataFrame, characteristic: str, cohorts=None, *, title: str | None = None) -> Section:
    """Shares of disadvantaged and other pupils by one characteristic (``SchoolAnalysis.profile``); the title
    says the biggest difference."""
    def one(c):
        p = profile[(profile["key_stage"] == c.key_stage) & (profile["year"] == c.year)]
        return (profile_bars(p, characteristic, title=title or _profile_title(p, characteristic))
                or markdown(f"_No {characteristic_label(characteristic)} data to chart for "
                            f"{md_text(c.key_stage)} {academic_year(c.year)} (or the groups are too small "
                            "to show)._"))
    return each_cohort(as_cohorts(profile, cohorts), one)


def _headline_measure(g: pd.DataFrame) -> str | None:
    """The measure a chart leads with: a headline one if the cohort has it, else any shown one; None if none."""
    for m in headline("lead"):
        if m in set(g["measure"]):
            return m
    shown = g[~g["suppressed"]] if "suppressed" in g.columns else g
    return shown["measure"].iloc[0] if len(shown) else (g["measure"].iloc[0] if len(g) else None)


def _gap_title(g: pd.DataFrame) -> str:
    clear = g[g["clear"].fillna(False).astype(bool) & (g["gap"] > 0)]
    if clear.empty:
        return "No clear gap in these measures"
    top = clear.sort_values("gap", ascending=False).iloc[0]
    return (f"Widest clear gap: {measure_label(top['measure'], top['label'])}, "
            f"{amount(top['gap'], top['unit'], top['measure'], top['kind'])}")


def _profile_title(p: pd.DataFrame, characteristic: str) -> str:
    name = characteristic_label(characteristic)
    most = biggest_difference(p, characteristic)
    if most is None:
        return cap(name)
    v, d, o = most
    if abs(d - o) < 0.05:
        return f"Disadvantaged pupils look like their peers in {name}"
    more = "more" if d > o else "less"
    return f"{cap(name)}: '{value_label(characteristic, v)}' is {more} common among disadvantaged pupils " \
           f"({d:.0%} against {o:.0%})"

"""The governors' summary: the top of page 02 and the first page of ``summary.pdf``.

What a governing board acts on, in plain words, in this order: which school,
which results and when the page was made; the headline measures, each gap
with its interval and trend beside the national figures for other and for
disadvantaged pupils; the school's priorities with the approaches planned for
each. A school whose group figures are withheld says so and shows what can be
shown: its pupils' results against national figures (public for every school,
and needing no comparison group in school). Built from the results model and
the priorities, so it agrees with the tables of pages 02 and 03.
"""
from __future__ import annotations

import html
from datetime import date

import numpy as np
import pandas as pd

from ..domain.formatting import (
    academic_year,
    cap,
    is_missing,
    is_yes,
    row_trend_text,
    value_text,
    with_interval,
    withheld_text,
)
from ..domain.labels import measure_label
from ..domain.measures import STANDARD_MEASURES
from ..domain.registry import headline, key_stages

#: The measures a governor is shown first, per key stage (those the cohort has, in this order).
HEADLINE = {ks: headline("governors", ks) for ks in key_stages()}
#: How many approaches a priority names on the summary (the pages 03 and strategy.md give them all).
APPROACHES = 3

_e = html.escape


def _date_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _row(g: pd.DataFrame, measure: str, comparison: str):
    rows = g[(g["measure"] == measure) & (g["comparison"] == comparison)]
    return rows.iloc[0] if len(rows) else None


def _value(r, x) -> str:
    return value_text(x, r["unit"], r["measure"], r.get("kind"))


def _no_trend(earlier: pd.DataFrame, threshold: int) -> str:
    """Why a gap has no trend: no earlier year, or the earlier year's gap withheld (and why)."""
    if earlier.empty:
        return "no trend: no earlier year in the data to compare with"
    last = earlier.sort_values("year").iloc[-1]
    if last["suppressed"]:
        return (f"no trend: the {academic_year(last['year'])} gap is "
                f"{withheld_text(last.get('withheld_reason'), threshold)}")
    return "no trend verdict"


def _gap_words(r, threshold: int, earlier: pd.DataFrame | None = None) -> str:
    """'3.1 points behind other pupils in school (95% interval 1.2 to 5.0): a clear gap; no clear change
    since 2023 (the change's 95% interval spans zero)', or why the gap is withheld."""
    if r is None:
        return ""
    if r["suppressed"]:
        return f"the gap with other pupils in school is {_e(withheld_text(r.get('withheld_reason'), threshold))}"
    worse = "behind" if is_yes(r.get("higher_is_better", True)) else "more"
    size = abs(float(r["gap"]))
    low, high = (r["ci_low"], r["ci_high"]) if r["gap"] >= 0 else (-r["ci_high"], -r["ci_low"])
    if r["gap"] < 0:
        worse = "ahead" if worse == "behind" else "fewer"
    figure = with_interval(size, low, high, r["unit"], r["measure"], r.get("kind"), short=False)
    than = " " if worse in ("behind", "ahead") else " than "
    figure = figure.replace(" (", f" {worse}{than}other pupils in school (95% interval ", 1)
    verdict = ("a clear gap" if is_yes(r.get("clear")) and r["gap"] > 0 else
               "disadvantaged pupils clearly ahead" if is_yes(r.get("clear")) else
               "no clear difference (it could be chance)")
    trend = row_trend_text(r)
    if not trend:
        trend = _no_trend(earlier if earlier is not None else pd.DataFrame(columns=["year"]), threshold)
    return f"{_e(figure)}: {verdict}; {_e(trend)}"


def _national_words(g: pd.DataFrame, measure: str, year: int, threshold: int) -> str:
    """'Nationally: other pupils 50.3, disadvantaged pupils 34.9; here disadvantaged pupils 35.0.'"""
    other = _row(g, measure, "national_other")
    dis = _row(g, measure, "national_disadvantaged")
    every = _row(g, measure, "national_all")  # where only the all-pupil figure is published
    shown = [r for r in (other, dis, every) if r is not None and not r["suppressed"]]
    if not shown:
        reasons = {r.get("withheld_reason") for r in (other, dis, every) if r is not None}
        if reasons and reasons != {"no_national_figure"}:
            return f" National comparison {_e(withheld_text(next(iter(reasons - {'no_national_figure'})), threshold))}."
        return ""  # said once, under the list
    parts = []
    if other is not None and not other["suppressed"]:
        parts.append(f"other pupils {_e(_value(other, other['mean_reference']))}")
    if dis is not None and not dis["suppressed"]:
        parts.append(f"disadvantaged pupils {_e(_value(dis, dis['mean_reference']))}")
    if every is not None and not every["suppressed"]:
        parts.append(f"all pupils {_e(_value(every, every['mean_reference']))}")
    here = shown[0]
    return (f" Nationally ({academic_year(year)}): {', '.join(parts)}; this school's disadvantaged pupils "
            f"{_e(_value(here, here['mean_disadvantaged']))}.")


def headline_items(table: pd.DataFrame, key_stage: str, year: int, threshold: int) -> list[str]:
    """One sentence per headline measure of the cohort: the gap in school and the national figures."""
    ks = table[(table["key_stage"] == key_stage) & table["subgroup"].isna()]
    g = ks[ks["year"] == year]
    items, no_national = [], []
    for m in HEADLINE.get(key_stage, ()):
        mine = _row(g, m, "in_school")
        if mine is None:
            continue
        label = cap(measure_label(m, mine.get("label")))
        national = _national_words(g, m, year, threshold)
        if not national:
            no_national.append(measure_label(m, mine.get("label")))
        before = ks[(ks["measure"] == m) & (ks["comparison"] == "in_school") & (ks["year"] < year)]
        items.append(f"<li><strong>{_e(label)}</strong>: disadvantaged pupils "
                     f"{_gap_words(mine, threshold, before)}."
                     f"{national}</li>")
    if no_national:
        names = ", ".join(no_national[:-1]) + (" or " if len(no_national) > 1 else "") + no_national[-1]
        items.append(f'<li class="gaptools-note">No national figure is on file for {_e(names)} in '
                     f"{academic_year(year)} (the data lead can add the DfE's as it publishes them).</li>")
    return items


def _national_value(nat: pd.DataFrame, key_stage: str, year: int, measure: str, group: str):
    rows = nat[(nat["key_stage"] == key_stage) & (nat["measure"] == measure) & (nat["group"] == group)
               & nat["value"].notna() & (nat["year"].astype(int) <= year)]
    if rows.empty:
        return None, None
    best = rows.sort_values("year").iloc[-1]
    return float(best["value"]), int(best["year"])


def whole_cohort_items(pupils: pd.DataFrame, school_id: str, key_stage: str, year: int,
                       threshold: int) -> list[str]:
    """A small school's results for all its pupils against national figures (no group figure needed).

    The all-pupil figure of a cohort is public (the DfE publishes it for every
    school); it is shown only for a cohort of at least ``threshold`` pupils
    with the measure.
    """
    from ..domain.reference import national_figures

    nat = national_figures()
    rows = pupils[(pupils["school_id"] == str(school_id)) & (pupils["key_stage"] == key_stage)
                  & (pupils["year"] == year)]
    items = []
    for m in HEADLINE.get(key_stage, ()):
        if m not in rows.columns or m not in STANDARD_MEASURES:
            continue
        spec = STANDARD_MEASURES[m]
        values = pd.to_numeric(rows[m].astype("float64"), errors="coerce").dropna()
        if len(values) < threshold:
            continue
        r = {"unit": spec.unit, "measure": m, "kind": spec.kind}
        figures = []
        for group, words in (("all", "all pupils"), ("other", "other pupils"),
                             ("disadvantaged", "disadvantaged pupils")):
            v, y = _national_value(nat, key_stage, year, m, group)
            if v is not None:
                figures.append(f"{words} {_value(r, v)}" + (f" ({academic_year(y)})" if y != year else ""))
        national = (f"; nationally {', '.join(figures)}" if figures else "; no national figure on file")
        items.append(f"<li><strong>{_e(cap(measure_label(m)))}</strong>: all {len(values)} pupils here "
                     f"{_e(_value(r, float(np.mean(values))))}{_e(national)}.</li>")
    return items


#: How many priorities the summary names (page 03 and strategy.md give every one).
PRIORITIES = 3


def priority_items(priorities: pd.DataFrame | None) -> list[str]:
    """Each priority with its evidence in brief and the approaches planned for it."""
    if priorities is None or priorities.empty:
        return []
    out = []
    for _, p in priorities.head(PRIORITIES).iterrows():
        approaches = p.get("approaches")
        names = []
        if isinstance(approaches, pd.DataFrame):
            for _, a in approaches.head(APPROACHES).iterrows():
                months = "" if is_missing(a.get("months")) else f", +{int(a['months'])} months"
                names.append(f"{a['strand']} (EEF{months})")
        # the lead measure's name (its gap and interval are in the list above, or on page 03)
        evidence = "" if is_missing(p.get("evidence")) else str(p["evidence"])
        lead = evidence.split(": ", 1)[0] if evidence else ""
        where = ("" if is_missing(p.get("concentrated_in")) or not p.get("concentrated_in")
                 else f" The gap is concentrated in {p['concentrated_in']}.")
        out.append(f"<li><strong>{_e(cap(p['area']))}</strong>" + (f" (from the {_e(lead)} gap)" if lead else "")
                   + f".{_e(where)} Approaches planned: "
                   f"{_e('; '.join(names) if names else 'none matched in the evidence table')}.</li>")
    if len(priorities) > PRIORITIES:
        more = len(priorities) - PRIORITIES
        out.append(f"<li>and {more} more priorit{'ies' if more > 1 else 'y'} on page 03 and in the strategy "
                   "draft.</li>")
    return out


def governors_html(report, c, *, made: date | None = None) -> str:
    """The governors' summary of one cohort of ``report`` (a :class:`SchoolReport`), as HTML.

    Parameters
    ----------
    report : SchoolReport
    c : cohort
        Its ``key_stage`` and ``year``.
    made : date, optional
        The date printed (default: today).
    """
    from .governors_year import progress_html, review_html
    from .summary import summary_html

    made = made or date.today()
    table = report.results.table
    rows = report.pupils[(report.pupils["school_id"] == report.school_id)
                         & (report.pupils["key_stage"] == c.key_stage) & (report.pupils["year"] == c.year)]
    n, d = len(rows), int(rows["disadvantaged"].astype(bool).sum())
    # the group sizes only where the cohort profile shows them (a withheld count stays withheld)
    prof = report.profile_data(c)
    sizes_shown = not prof[prof["characteristic"] == "all"]["suppressed"].astype(bool).any() and 0 < d < n
    size = f"{n} pupils, {d} disadvantaged: {d / n:.0%}" if sizes_shown else f"{n} pupils"
    g = table[(table["key_stage"] == c.key_stage) & (table["year"] == c.year) & table["subgroup"].isna()]
    withheld_all = len(g) > 0 and g[g["comparison"] == "in_school"]["suppressed"].astype(bool).all()
    parts = [f'<section class="gaptools-summary gaptools-governors"><h2>{_e(report.school_name)}</h2>',
             f'<p class="gaptools-made"><strong>Summary:</strong> {_e(c.key_stage)} results of '
             f"{academic_year(c.year)} ({size}) · made {_date_words(made)} · every figure with its 95% "
             f"interval; groups of fewer than {int(report.threshold)} pupils withheld.</p>"]
    heads = headline_items(table, c.key_stage, c.year, report.threshold)
    if heads and not withheld_all:
        parts.append("<h3>The headline measures</h3><ul>" + "".join(heads) + "</ul>")
    if withheld_all or not heads:
        why = withheld_text(g["withheld_reason"].dropna().iloc[0] if g["withheld_reason"].notna().any() else None,
                            report.threshold).removeprefix("withheld: ")
        parts.append("<h3>What can be shown</h3><p>" + (
            "No outcome measure in the data, so no gap can be measured." if g.empty else
            f"The figures for disadvantaged pupils are withheld: {_e(why)}. No gap is shown, so that no pupil "
            "can be identified and no small group is over-read.") + " The school's results for all its pupils "
            "against national figures need no comparison group in school:</p>")
        mine = whole_cohort_items(report.pupils, report.school_id, c.key_stage, c.year, report.threshold)
        parts.append("<ul>" + "".join(mine) + "</ul>" if mine else "<p>No headline measure with enough pupils.</p>")
    parts.append("<h3>Priorities and the approaches planned</h3>")
    items = priority_items(report.priorities_data(c))
    why_none = ("the figures for disadvantaged pupils are withheld" if withheld_all or not heads
                else "no clear gap")
    parts.append("<ol>" + "".join(items) + "</ol>" if items else
                 f"<p>No priority follows from the data this year: {why_none}. Keep high-quality teaching for "
                 "every pupil as the base and plan from each pupil's needs (page 03).</p>")
    parts.append("</section>")
    # last year's activities and this year so far: a box of their own, after the first screen's
    year = (review_html(report.activity_data, c.key_stage, c.year, report.threshold)
            + progress_html(report.in_year_data, report.threshold))
    if year:
        parts.append(f'<section class="gaptools-summary gaptools-year"><h2>The year</h2>{year}</section>')
    # the clear gaps ranked, what is closing and what needs most attention (the former summary box)
    if not withheld_all:
        parts.append(summary_html(table, report.results.findings, c.key_stage, c.year, threshold=report.threshold,
                                  heading="Beyond the headline measures", attention=False,
                                  shown=HEADLINE.get(c.key_stage, ())))
    return "".join(parts)

"""The governors' summary's account of the year: last year's activities reviewed, and this year so far.

Part of :mod:`gaptools.reporting.governors`, rendered from what the analysis
wrote (:func:`gaptools.activity_impact` rows, :func:`gaptools.in_year_gaps`
rows) and never re-deriving a verdict. For governors: each activity's estimate
in words that do not overclaim, and each year group's in-year gap at the
latest drop with its change since the first; teaching groups are only counted
here (their names stay on the school's own in-year page), and no pupil or
member of staff is named.
"""
from __future__ import annotations

import html

import pandas as pd

from ..domain.formatting import academic_year, cap, is_missing, is_yes, withheld_text
from ..domain.suppression import DEFAULT_THRESHOLD
from ..targeting.review import effect_sentence
from .in_year import year_group_name

#: At most this many activities and year-group subjects on the summary (the rest are on pages 03 and 06).
SHOWN = 5


def _e(text) -> str:
    return html.escape(str(text), quote=False)


def review_html(impact: pd.DataFrame | None, key_stage: str, year: int, threshold: int) -> str:
    """'Last year's activities: what they achieved' for one cohort, or '' without a register."""
    if impact is None:
        return ""
    rows = impact[(impact["key_stage"] == key_stage) & (impact["year"] <= year)] \
        .sort_values(["year", "activity"], ascending=[False, True])
    head = "<h3>Last year's activities: what they achieved</h3>"
    if rows.empty:
        return head + f"<p>The activity register has no activity aimed at these results (up to " \
                      f"{academic_year(year)}).</p>"
    items = [f"<li><strong>{_e(cap(r['activity']))}</strong> ({_e(academic_year(r['year']))}, aimed at "
             f"{_e(r['label'])}): {_e(effect_sentence(r, threshold))}.</li>" for _, r in rows.head(SHOWN).iterrows()]
    more = len(rows) - SHOWN
    if more > 0:
        items.append(f"<li>and {more} more on page 03 and in Part B of the strategy draft.</li>")
    return (head + "<p>Each activity's pupils against the school's own pupils like them who did not take part. "
            "Whether to continue, adapt or stop is a question for leaders, not a verdict on staff.</p>"
            "<ul>" + "".join(items) + "</ul>")


def progress_html(table: pd.DataFrame | None, threshold: int = DEFAULT_THRESHOLD) -> str:
    """'This year so far': each year group and subject at its latest drop, and the teaching groups counted."""
    if table is None:
        return ""
    head = "<h3>This year so far</h3>"
    if table.empty:
        return head + "<p>No assessments for this school in the data drops given.</p>"
    year_groups = table[table["level"] == "year_group"]
    latest = year_groups[year_groups["drop_index"] == year_groups.groupby(["year_group", "subject"])["drop_index"]
                         .transform("max")].sort_values(["year_group", "subject"])
    items = []
    for r in latest.head(SHOWN).itertuples(index=False):
        where = f"{year_group_name(r.year_group)} {r.subject}, {r.drop}"
        if not is_missing(r.withheld_reason):  # the model's reason, in the words every page uses
            items.append(f"<li>{_e(where)}: {_e(withheld_text(r.withheld_reason, threshold))}.</li>")
            continue
        gap = f"gap {r.gap:.2f} (95% interval {r.ci_low:.2f} to {r.ci_high:.2f}) in the school's own scores"
        if is_missing(r.change_sd):
            change = "the year's first drop"
        elif is_yes(r.alert):
            change = f"{'widened' if r.change_sd > 0 else 'narrowed'} by {abs(r.change_sd):.2f} SD since the first drop"
        else:
            why = ("its interval spans zero" if r.change_ci_low <= 0 <= r.change_ci_high
                   else "not clear after the false-discovery check")
            change = (f"no clear change since the first drop ({r.change_sd:+.2f} SD, interval "
                      f"{r.change_ci_low:+.2f} to {r.change_ci_high:+.2f}: {why})")
        items.append(f"<li>{_e(where)}: {_e(gap)}; {_e(change)}.</li>")
    groups = table[(table["level"] == "teaching_group") & table["alert"].astype(bool) & (table["change_sd"] > 0)]
    n = groups.groupby(["year_group", "subject", "group"]).ngroups
    note = (f"<p>{n} teaching group{'s' if n != 1 else ''} where the gap has widened clearly: the "
            "in-year page (06) names them for the school's staff, as a place to look at how disadvantaged pupils "
            "are supported.</p>" if n else "")
    return head + "<ul>" + "".join(items) + "</ul>" + note

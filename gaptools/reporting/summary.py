"""A school page's first screen: the gaps that matter most, what is closing, what needs attention.

Built from the results model alone (clear gaps, intervals, trend verdicts,
withheld rows), so the summary, the tables below it and the summary PDF agree.
Also here: the glossary block and folding a long table behind a
``<details>`` element (no script needed).
"""
from __future__ import annotations

import html

import pandas as pd

from ..domain.formatting import amount, is_missing, row_trend_text, with_interval
from ..domain.labels import glossary, measure_label, measure_order

#: How many clear gaps the summary lists at most (and at least, when there are that many).
MOST, LEAST = 5, 3


def _clear(v) -> bool:
    return not is_missing(v) and bool(v)


def _label(r) -> str:
    return measure_label(r["measure"], r.get("label"))


def ranked_gaps(table: pd.DataFrame, findings: pd.DataFrame | None, key_stage: str, year: int) -> pd.DataFrame:
    """The clear gaps of one cohort (disadvantaged pupils behind), most important first.

    Importance is the findings' importance of the measure (size of gap,
    pupils affected, how central the measure is), then the standardised gap.
    """
    t = table[(table["key_stage"] == key_stage) & (table["year"] == year) & table["subgroup"].isna()
              & ~table["suppressed"].astype(bool)]
    t = t[t["clear"].map(_clear) & (t["gap"] > 0)].copy()
    if t.empty:
        return t
    weight = {}
    if findings is not None and len(findings):
        f = findings[(findings["key_stage"] == key_stage) & (findings["year"] == year)
                     & findings["category"].isin(["gap", "national"])]
        for (m, cat), imp in f.groupby(["measure", "category"])["importance"].max().items():
            weight[(m, "national_other" if cat == "national" else "in_school")] = float(imp)
    t["_importance"] = [weight.get((m, c), 0.0) for m, c in zip(t["measure"], t["comparison"])]
    t["_size"] = t["effect_size"].fillna(0) if "effect_size" in t else 0.0
    return t.sort_values(["_importance", "_size"], ascending=False, kind="stable")


def _name(r) -> str:
    label = _label(r)
    return f"<strong>{html.escape(label[:1].upper() + label[1:])}</strong>"


def _gap_line(r) -> str:
    """'Attainment 8: disadvantaged pupils 20.1 points behind (95% interval 14.9 to 25.2); widening since 2023.'"""
    where = " against national other pupils" if r["comparison"] == "national_other" else ""
    figure = with_interval(r["gap"], r["ci_low"], r["ci_high"], r["unit"], r["measure"], r.get("kind"), short=False)
    # a positive gap is always disadvantaged pupils doing worse; for absence or suspensions that is *more*
    worse = " behind" if _clear(r.get("higher_is_better", True)) else " more"
    interval = " (" if is_missing(r["ci_low"]) else " (95% interval "
    text = f"{_name(r)}: disadvantaged pupils {html.escape(figure.replace(' (', worse + where + interval, 1))}"
    trend = row_trend_text(r) if r["comparison"] == "in_school" else ""
    return text + (f"; {html.escape(trend)}" if trend else "") + "."


def summary_html(table: pd.DataFrame, findings: pd.DataFrame | None, key_stage: str, year: int, *,
                 threshold: int, heading: str = "Summary", attention: bool = True, shown=()) -> str:
    """The summary box of one cohort, as HTML (every text from data escaped).

    Parameters
    ----------
    table : DataFrame
        The results model (:data:`gaptools.analysis.results.ResultsModel`).
    findings : DataFrame or None
        The school's findings (for their importance).
    key_stage, year
        The cohort.
    threshold : int
        The suppression threshold (to say why figures are withheld).
    heading : str
    attention : bool, default True
        Also say what needs most attention (the governors' summary, which has
        its priorities, leaves it out).
    shown : iterable of str
        Measures whose in-school gap the page has given already (the governors'
        headline measures): the list goes on with the other clear gaps.
    """
    cohort = table[(table["key_stage"] == key_stage) & (table["year"] == year) & table["subgroup"].isna()]
    ranked = ranked_gaps(table, findings, key_stage, year)
    parts = [f'<section class="gaptools-summary"><h2>{html.escape(heading)}</h2>']
    if cohort.empty:
        parts.append("<p>No outcome data for this cohort.</p></section>")
        return "".join(parts)
    if cohort["suppressed"].astype(bool).all():
        parts.append(f"<p>Every figure is withheld: fewer than {int(threshold)} disadvantaged (or other) pupils, "
                     "so no gap can be shown without risking identifying a pupil.</p></section>")
        return "".join(parts)
    shown, any_clear = set(shown), len(ranked) > 0
    if shown:
        ranked = ranked[~(ranked["measure"].isin(shown) & (ranked["comparison"] == "in_school"))]
    top = ranked.head(MOST)
    if top.empty and shown and any_clear:
        parts.append("<p>No other clear gap.</p>")
    elif top.empty:
        parts.append("<h3>The gaps that matter most</h3><p>No clear gap this year: no difference between "
                     "disadvantaged and other pupils is larger than chance would explain, once the number of "
                     "comparisons is allowed for. That is not proof there is none.</p>")
    else:
        parts.append("<h3>" + ("The other clear gaps that matter most" if shown else
                               "The clear gap that matters most" if len(top) == 1
                               else f"The {len(top)} clear gaps that matter most") + "</h3><ul>")
        parts += [f"<li>{_gap_line(r)}</li>" for _, r in top.iterrows()]
        more = len(ranked) - len(top)
        if more > 0:
            parts.append(f"<li>and {more} more clear gap{'s' if more > 1 else ''} in the details "
                         f"{'of page 02' if shown else 'below'}.</li>")
        parts.append("</ul>")
    mine = cohort[cohort["comparison"] == "in_school"]
    closing = mine[mine["trend"] == "closing"]
    parts.append("<h3>What is closing</h3>")
    closing = closing[closing["trend_change"].notna()]
    if closing.empty:
        parts.append("<p>No gap is clearly closing" + (" (no earlier year with enough pupils to compare with)."
                                                        if mine["trend"].isna().all() else ".") + "</p>")
    else:
        closing = closing.iloc[sorted(range(len(closing)), key=lambda i: measure_order(closing["measure"].iloc[i]))]
        parts.append("<ul>" + "".join(
            f"<li>{_name(r)}: the gap has narrowed by "
            f"{html.escape(amount(-r['trend_change'], r['unit'], r['measure'], r.get('kind'), short=False))} "
            f"since {int(r['trend_from'])}; it is now "
            f"{html.escape(amount(r['gap'], r['unit'], r['measure'], r.get('kind'), short=False))}.</li>"
            for _, r in closing.head(LEAST).iterrows())
            + (f"<li>and {len(closing) - LEAST} more closing gaps in the details below.</li>"
               if len(closing) > LEAST else "") + "</ul>")
    if attention:
        parts.append("<h3>What needs most attention</h3>" + _attention(ranked))
    withheld = int(cohort["suppressed"].astype(bool).sum())
    if withheld:
        parts.append(f'<p class="gaptools-note">{withheld} figure{"s are" if withheld > 1 else " is"} withheld '
                     f"(groups under {int(threshold)} pupils).</p>")
    parts.append("</section>")
    return "".join(parts)


def _attention(ranked: pd.DataFrame) -> str:
    """The clear gap that has widened, else the one that matters most, as a paragraph."""
    widening = ranked[(ranked["comparison"] == "in_school") & (ranked["trend"] == "widening")]
    if len(widening):
        r = widening.iloc[0]
        return (f"<p>{_name(r)}: a clear gap of "
                f"{html.escape(amount(r['gap'], r['unit'], r['measure'], r.get('kind'), short=False))} "
                f"that has widened since {int(r['trend_from'])}.</p>")
    if len(ranked):
        r = ranked.iloc[0]
        return (f"<p>{_name(r)}: the clear gap that matters most "
                f"({html.escape(amount(r['gap'], r['unit'], r['measure'], r.get('kind'), short=False))}).</p>")
    return "<p>Nothing stands out from the data this year; use the pupil list and staff knowledge.</p>"


class HTMLBlock:
    """Trusted HTML (built here with every text from data escaped) for a notebook output."""

    def __init__(self, html_text: str, text: str = ""):
        self.html = html_text
        self.text = text

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return self.text or self.html


def glossary_block(*terms) -> HTMLBlock:
    """A page's glossary, for a notebook cell: ``glossary_block("RWM", "percentage points")``."""
    return HTMLBlock(glossary_html(terms), text="; ".join(glossary(terms).values()))


def glossary_html(terms) -> str:
    """The glossary for ``terms`` (keys of :data:`gaptools.domain.labels.GLOSSARY`) as a short list."""
    entries = glossary(terms)
    if not entries:
        return ""
    items = "".join(f"<li><strong>{html.escape(term)}</strong>: {html.escape(words)}</li>"
                    for term, words in (text.split(": ", 1) for text in entries.values()))
    return f'<section class="gaptools-glossary"><h2>Words used in this report</h2><ul>{items}</ul></section>'


class Folded:
    """A long table shown by its first rows, the rest folded in a ``<details>`` element (no script).

    Parameters
    ----------
    data : DataFrame
        Rows already in order of importance.
    keep : int
        How many rows show unfolded.
    what : str
        What the folded rows are ('measures', 'changes').
    """

    def __init__(self, data: pd.DataFrame, *, keep: int, what: str):
        self.data, self.keep, self.what = data, int(keep), what

    def _repr_html_(self):
        from .display import Table

        head = Table(self.data.head(self.keep))._repr_html_()
        rest = len(self.data) - self.keep
        if rest <= 0:
            return head
        return (head + f"<details><summary>Show {rest} more {html.escape(self.what)}</summary>"
                + Table(self.data.iloc[self.keep:])._repr_html_() + "</details>")

    def __repr__(self):
        return self.data.to_string(index=False)

"""Charts for the reports: seaborn's theme on a canvas each figure owns.

One colour-blind-safe palette (Okabe-Ito) for every chart; disadvantaged
pupils are always the same colour. Functions take a tidy table first and
keyword-only options, draw on ``ax`` when given, and return the Figure.

Every chart is legible at the sizes the pages use (880 px wide in HTML,
about 700 px in an A4 PDF): titles and axis labels wrap instead of running
off the figure, legends sit beside the plot rather than over the bars, names
come from the one label table (:mod:`gaptools.domain.labels`), a missing bar
says why ("withheld", "no data"), and each figure carries ``alt_text``: its
title and what it shows, in words, for the page's text alternative.
"""
from __future__ import annotations

import functools
import textwrap

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure

from ..domain.formatting import cap, is_proportion, withheld_short
from ..domain.labels import (
    characteristic_label,
    group_label,
    measure_label,
    measure_order,
    subgroup_label,
    value_label,
)

#: Okabe-Ito, safe for the common forms of colour blindness.
DISADVANTAGED = "#D55E00"   # vermillion: always the disadvantaged group
OTHER = "#0072B2"           # blue: other pupils
NATIONAL = "#7F7F7F"        # grey: national figures
CLOSING, WIDENING = "#009E73", "#CC79A7"
PALE_DISADVANTAGED = "#E8B9A0"  # a gap that is not clear
GROUP_COLOURS = {"disadvantaged": DISADVANTAGED, "other": OTHER}
GROUP_NAMES = {g: cap(group_label(g)) for g in ("disadvantaged", "other")}  # from the one label table
MISSING_TEXT = "#555555"
TITLE_SIZE = 12
#: seaborn's "whitegrid" style and "notebook" context with its default palette (what ``sns.set_theme``
#: would set globally), applied only while one of our charts is built and printed: matplotlib's backend
#: and rcParams stay as the analyst had them, so their own ``plt.plot`` still shows inline and unstyled.
THEME = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook"), "font.family": ["sans-serif"],
         "axes.prop_cycle": cycler(color=sns.color_palette("deep"))}


def themed(draw):
    """Build the chart ``draw`` returns inside :data:`THEME`; the figure keeps the theme (``gaptools_theme``)
    for :class:`gaptools.reporting.display.Chart`, which prints it inside the same theme (matplotlib makes
    some artists, such as ticks, only when it draws)."""
    @functools.wraps(draw)
    def in_theme(*args, **kwargs):
        with matplotlib.rc_context(THEME):
            fig = draw(*args, **kwargs)
        if fig is not None:
            fig.gaptools_theme = THEME
        return fig
    return in_theme


# ------------------------------------------------------------- text that fits
def _chars(width_in: float, fontsize: float) -> int:
    """How many characters of DejaVu Sans fit in ``width_in`` inches (a safe average glyph width)."""
    return max(8, int(width_in * 72 / (fontsize * 0.6)))


def wrap(text: str, width_in: float, fontsize: float = 11) -> str:
    """``text`` wrapped to lines that fit ``width_in`` inches at ``fontsize`` points, shown as written.

    Every ``$`` is escaped: matplotlib reads text between two dollars as mathtext,
    so a school called ``$\\notacommand$`` would otherwise fail the chart (and
    ``$x^2$`` would be typeset). Every text a chart shows passes through here.
    """
    return "\n".join(textwrap.wrap(str(text), _chars(width_in, fontsize)) or [""]).replace("$", r"\$")


def set_title(ax, text: str) -> None:
    """A left-aligned title across the whole figure, wrapped so that none of it is cut.

    Drawn as the figure's title (which constrained layout makes room for) when
    the figure has one set of axes, else as the axes' title; the text is kept
    on ``figure.gaptools_title`` for the page's text alternative.
    """
    fig = ax.figure
    fig.gaptools_title = str(text)
    if [a for a in fig.get_axes() if a.get_label() != "<colorbar>"] == [ax]:
        fig.suptitle(wrap(text, fig.get_figwidth() - 0.3, TITLE_SIZE), x=0.01, ha="left",
                     fontsize=TITLE_SIZE, fontweight="bold")
    else:
        ax.set_title(wrap(text, ax.get_position().width * fig.get_figwidth(), TITLE_SIZE), loc="left",
                     fontsize=TITLE_SIZE)


def describe(fig, text: str) -> None:
    """Say in words what ``fig`` shows (with its title, the image's text alternative)."""
    title = getattr(fig, "gaptools_title", "")
    fig.alt_text = (f"{title}. {text}" if title else text).strip()


def _axis_label(ax, text: str, axis: str = "x", fontsize: float = 10) -> None:
    fig = ax.figure
    width = fig.get_figwidth() * (0.6 if axis == "x" else 0.8) if axis == "x" else fig.get_figheight() - 0.6
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(wrap(text, width, fontsize), fontsize=fontsize)


def _legend_beside(ax, **kw) -> None:
    """The legend to the right of the plot, never over the bars."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9, **kw)


def _figure(width=8.0, height=4.0, ax=None):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


@themed
def _empty(text: str, *, title: str, width: float = 8.0, height: float = 1.6):
    """A small figure that says why there is nothing to draw (all withheld, no data)."""
    fig, ax = _figure(width, height)
    ax.set_axis_off()
    ax.text(0.0, 0.5, wrap(text, width - 0.5, 11), fontsize=11, color=MISSING_TEXT, va="center",
            transform=ax.transAxes)
    set_title(ax, title)
    describe(fig, text)
    return fig


def _is_rate(unit: str, measure: str, kind=None) -> bool:
    return is_proportion(unit, measure, kind if isinstance(kind, str) else None)  # the one rule


def _scale(unit: str, measure: str, kind=None) -> float:
    return 100.0 if _is_rate(unit, measure, kind) else 1.0


def _gap_unit(unit: str) -> str:
    return "percentage points" if unit == "%" else str(unit)


def _labels(rows: pd.DataFrame) -> list[str]:
    given = rows["label"] if "label" in rows else [None] * len(rows)
    return [cap(measure_label(m, g)) for m, g in zip(rows["measure"], given)]


def _ordered(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in reading order of their measure (English beside maths)."""
    return rows.iloc[sorted(range(len(rows)), key=lambda i: measure_order(rows["measure"].iloc[i]))]


def _num(v: float, scale: float) -> str:
    return f"{v * scale:.0f}" if scale == 100 else f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"


# ------------------------------------------------------------------ the charts
@themed
def gap_bars(gaps: pd.DataFrame, *, title: str | None = None, ax=None, labels=None):
    """Gaps with 95% intervals, one bar per row (one unit), withheld ones said on the chart.

    Parameters
    ----------
    gaps : DataFrame
        Rows of the results model's gap table of one comparison and unit.
    title : str, optional
        The finding; when every figure is withheld the title says so instead.
    ax : Axes, optional
    labels : list of str, optional
        Bar labels (default: each row's measure from the label table).
    """
    if gaps.empty:
        return None
    rows = gaps.copy() if labels is not None else _ordered(gaps.copy())
    labels = list(labels) if labels is not None else _labels(rows)
    kinds = rows["kind"] if "kind" in rows else [None] * len(rows)
    scale = np.array([_scale(u, m, k) for u, m, k in zip(rows["unit"], rows["measure"], kinds)])
    withheld = rows["suppressed"].fillna(False).astype(bool).to_numpy()
    unit = _gap_unit(rows["unit"].iloc[0])
    if withheld.all() and ax is None:
        return _empty(f"Every figure here is withheld: too few pupils in a group to show without risking "
                      f"identifying someone ({', '.join(labels[:6])}{'...' if len(labels) > 6 else ''}).",
                      title="Withheld: too few pupils to show these gaps")
    g = rows["gap"].astype(float).to_numpy() * scale
    lo = rows["ci_low"].astype(float).to_numpy() * scale
    hi = rows["ci_high"].astype(float).to_numpy() * scale
    clear = rows["clear"].map(lambda v: bool(v) if pd.notna(v) else False).to_numpy() if "clear" in rows \
        else np.zeros(len(rows), bool)
    fig, ax = _figure(8, 0.42 * len(rows) + 1.9, ax)
    y = np.arange(len(rows))
    ok = ~withheld & ~np.isnan(g)
    ax.barh(y[ok], g[ok], color=[DISADVANTAGED if c else PALE_DISADVANTAGED for c in clear[ok]], height=0.6)
    ax.errorbar(g[ok], y[ok], xerr=[g[ok] - lo[ok], hi[ok] - g[ok]], fmt="none", ecolor="#333333", capsize=3, lw=1)
    reasons = rows["withheld_reason"].tolist() if "withheld_reason" in rows else [None] * len(rows)
    for yi, w in zip(y, withheld):
        if w:  # the model's reason, never re-derived here
            ax.text(0, yi, f"  {withheld_short(reasons[yi])}", va="center", fontsize=9, color=MISSING_TEXT)
        elif np.isnan(g[yi]):
            ax.text(0, yi, "  no data", va="center", fontsize=9, color=MISSING_TEXT)
    ax.axvline(0, color="#333333", lw=0.8)
    if ok.any():  # leave room right of zero for the words on withheld rows
        # an interval may be missing (every pupil with the same value): the bar itself still counts
        right = float(np.nanmax(np.r_[hi[ok], g[ok], 0.0]))
        left = float(np.nanmin(np.r_[lo[ok], g[ok], 0.0]))
        span = (right - left) or 1
        ax.set_xlim(left - 0.05 * span, right + (0.45 if withheld.any() else 0.08) * span)
    else:
        ax.set_xlim(-1, 4)
    ax.set_yticks(y, [wrap(t, 2.6, 10) for t in labels], fontsize=10)
    ax.set_ylim(len(y) - 0.5, -0.5)  # every row shown (top down), words on rows without bars included
    _axis_label(ax, f"Gap in {unit}; a bar to the right means disadvantaged pupils are behind. "
                    "Dark bars: clear gaps; lines: 95% intervals")
    set_title(ax, title or "Where disadvantaged pupils are behind")
    parts = []
    for i, t in enumerate(labels):
        if withheld[i]:
            parts.append(f"{t}: withheld")
        elif np.isnan(g[i]):
            parts.append(f"{t}: no data")
        else:
            parts.append(f"{t}: {_num(g[i] / scale[i], scale[i])} ({_num(lo[i] / scale[i], scale[i])} to "
                         f"{_num(hi[i] / scale[i], scale[i])}){', clear' if clear[i] else ''}")
    describe(fig, f"Bar chart of the gap between disadvantaged and other pupils, in {unit}, with 95% intervals. "
                  + "; ".join(parts[:15]) + ("." if len(parts) <= 15 else "; and more."))
    return fig


@themed
def group_means(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """Average of disadvantaged and other pupils per measure, side by side (one unit); withheld rows said."""
    if gaps.empty:
        return None
    rows = _ordered(gaps.copy())
    labels = _labels(rows)
    kinds = rows["kind"] if "kind" in rows else [None] * len(rows)
    scale = np.array([_scale(u, m, k) for u, m, k in zip(rows["unit"], rows["measure"], kinds)])
    withheld = rows["suppressed"].fillna(False).astype(bool).to_numpy()
    if withheld.all() and ax is None:
        return _empty("Every figure here is withheld: too few pupils in a group to show.",
                      title="Withheld: too few pupils to show these averages")
    d = rows["mean_disadvantaged"].astype(float).to_numpy() * scale
    o = rows["mean_reference"].astype(float).to_numpy() * scale
    fig, ax = _figure(8, 0.55 * len(rows) + 1.7, ax)
    y = np.arange(len(rows))
    h = 0.38
    ax.barh(y[~withheld] - h / 2, d[~withheld], height=h, color=DISADVANTAGED, label=GROUP_NAMES["disadvantaged"])
    ax.barh(y[~withheld] + h / 2, o[~withheld], height=h, color=OTHER, label=GROUP_NAMES["other"])
    reasons = rows["withheld_reason"].tolist() if "withheld_reason" in rows else [None] * len(rows)
    for yi in y[withheld]:  # the model's reason, never re-derived here
        ax.text(0, yi, f"  {withheld_short(reasons[yi])}", va="center", fontsize=9, color=MISSING_TEXT)
    ax.set_yticks(y, [wrap(t, 2.6, 10) for t in labels], fontsize=10)
    ax.set_ylim(len(y) - 0.5, -0.5)  # every row shown (top down), words on rows without bars included
    unit = rows["unit"].iloc[0]
    _axis_label(ax, "Average" + (" (%)" if unit == "%" else f" ({unit})"))
    _legend_beside(ax)
    set_title(ax, title or "Disadvantaged and other pupils side by side")
    parts = [f"{t}: withheld" if w else f"{t}: disadvantaged {_num(a / s, s)}, others {_num(b / s, s)}"
             for t, w, a, b, s in zip(labels, withheld, d, o, scale)]
    describe(fig, "Bar chart of the average of disadvantaged and of other pupils in each measure. "
                  + "; ".join(parts[:15]) + ".")
    return fig


@themed
def trend_lines(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """The gap in each year with its 95% interval, one line per measure (same unit)."""
    rows = gaps.sort_values("year")
    if rows["year"].nunique() < 2:
        return None
    fig, ax = _figure(8, 4, ax)
    palette = sns.color_palette("colorblind", rows["measure"].nunique())
    parts = []
    measures = sorted(rows["measure"].unique(), key=measure_order)
    for colour, measure in zip(palette, measures):
        r = rows[rows["measure"] == measure]
        kind = r["kind"].iloc[0] if "kind" in r else None
        s = _scale(r["unit"].iloc[0], measure, kind)
        name = cap(measure_label(measure, r["label"].iloc[0] if "label" in r else None))
        ax.errorbar(r["year"].astype(int), r["gap"].astype(float) * s,
                    yerr=[(r["gap"] - r["ci_low"]).astype(float) * s, (r["ci_high"] - r["gap"]).astype(float) * s],
                    marker="o", capsize=4, color=colour, label=wrap(name, 2.0, 9))
        parts.append(f"{name}: " + ", ".join(f"{int(yr)} {_num(v, s)}" for yr, v in zip(r["year"], r["gap"])))
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_xticks(sorted(rows["year"].astype(int).unique()))
    unit = _gap_unit(rows["unit"].iloc[0])
    _axis_label(ax, f"Gap ({unit}); above 0: disadvantaged pupils behind", axis="y")
    ax.set_xlabel("Results year (summer)", fontsize=10)
    _legend_beside(ax)
    set_title(ax, title or "How the gap has changed")
    describe(fig, f"Line chart of the gap in {unit} in each year, with 95% intervals. " + "; ".join(parts) + ".")
    return fig


@themed
def subgroup_bars(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """One measure's gap within each subgroup of a split (e.g. low, middle, high prior attainment)."""
    if gaps.empty:
        return None
    return gap_bars(gaps, title=title, ax=ax, labels=[cap(subgroup_label(s)) for s in gaps["subgroup"]])


#: The order values of a characteristic are shown in, where the order means something.
VALUE_ORDER = {"prior_band": ["low", "middle", "high", "unknown"],
               "sen": ["no SEN", "SEN support", "EHC plan"]}


@themed
def profile_bars(profile: pd.DataFrame, characteristic: str, *, title: str | None = None, ax=None):
    """Share of disadvantaged and other pupils with each value of a characteristic; withheld said."""
    rows = profile[profile["characteristic"] == characteristic]
    if rows.empty:
        return None
    name = characteristic_label(characteristic)
    if set(rows["value"]) <= {"unknown"} and ax is None:
        return _empty(f"No {name} in the data for these pupils.", title=f"{cap(name)}: no data")
    values = list(dict.fromkeys(rows["value"]))
    order = VALUE_ORDER.get(characteristic)
    if order:
        values.sort(key=lambda v: order.index(v) if v in order else len(order))
    if rows["suppressed"].astype(bool).all() and ax is None:
        return _empty(f"Every {name} figure is withheld: too few pupils to show.",
                      title=f"{cap(name)}: withheld (too few pupils)")
    fig, ax = _figure(8, 0.5 * len(values) + 1.8, ax)
    y = np.arange(len(values))
    h = 0.38
    parts = []
    for offset, group in ((-h / 2, "disadvantaged"), (h / 2, "other")):
        g = rows[rows["group"] == group].set_index("value")
        shown = []
        for yi, v in zip(y, values):
            if v not in g.index:
                ax.text(0, yi + offset, "  no data", va="center", fontsize=8, color=MISSING_TEXT)
                shown.append(f"{GROUP_NAMES[group].lower()} {value_label(characteristic, v)}: no data")
            elif bool(g.loc[v, "suppressed"]):
                why = withheld_short(g.loc[v, "withheld_reason"] if "withheld_reason" in g.columns else None)
                ax.text(0, yi + offset, f"  {GROUP_NAMES[group].lower()}: {why}", va="center",
                        fontsize=8, color=MISSING_TEXT)
                shown.append(f"{GROUP_NAMES[group].lower()} {value_label(characteristic, v)}: {why}")
            else:
                pct = float(g.loc[v, "pct"]) * 100
                ax.barh(yi + offset, pct, height=h, color=GROUP_COLOURS[group])
                shown.append(f"{GROUP_NAMES[group].lower()} {value_label(characteristic, v)}: {pct:.0f}%")
        parts += shown
    ax.set_yticks(y, [wrap(cap(value_label(characteristic, v)), 2.4, 10) for v in values], fontsize=10)
    ax.set_ylim(len(y) - 0.5, -0.5)  # every row shown (top down), words on rows without bars included
    ax.set_xlim(0, max(100, float(np.nanmax(rows["pct"].astype(float) * 100, initial=0)) + 5))
    _axis_label(ax, "% of the group")
    from matplotlib.patches import Patch

    _legend_beside(ax, handles=[Patch(color=GROUP_COLOURS[g], label=GROUP_NAMES[g]) for g in GROUP_NAMES])
    set_title(ax, title or cap(name))
    describe(fig, f"Bar chart of the share of disadvantaged and of other pupils by {name}. " + "; ".join(parts) + ".")
    return fig


#: The figure, axis label and legend of every chart, for the trust overview's charts
#: (:mod:`gaptools.reporting.trust_charts`).
new_figure, axis_label, legend_beside = _figure, _axis_label, _legend_beside

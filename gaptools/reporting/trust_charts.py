"""The trust overview's charts: the funnel plot and the heatmap of schools by measures.

Drawn like every chart of :mod:`gaptools.reporting.charts` (its theme, palette,
wrapping and text alternative), on a Figure of their own, and sized to what a
reader can see: the overview picks the schools a heatmap shows, the funnel names
only the schools that stand out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from ..domain.formatting import cap
from ..domain.labels import SHORT_LABELS, measure_order, short_label
from .charts import (
    DISADVANTAGED,
    NATIONAL,
    OTHER,
    axis_label,
    describe,
    legend_beside,
    new_figure,
    set_title,
    themed,
    wrap,
)


def _short_name(name: str, limit: int = 40) -> str:
    name = str(name)
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


@themed
def funnel(table: pd.DataFrame, *, value: str = "gap", n: str = "n_disadvantaged", sd: float,
           centre: float | None = None, ratio: float = 2.0, title: str | None = None, label: str = "gap",
           mark: str | None = None, named: int | None = None, ax=None):
    """Funnel plot: each school's gap against its number of disadvantaged pupils.

    Control limits at 95% and 99.8% around the trust's average gap, for a gap
    between ``k`` disadvantaged and ``ratio * k`` other pupils with pupil-level
    standard deviation ``sd``. Schools outside the 99.8% limits differ from the
    trust by more than chance would explain. School names are written in full
    (wrapped), on the side of the point that keeps them inside the chart.

    ``mark`` names a column saying which schools stand out (``"larger"``,
    ``"smaller"`` or empty, as :func:`gaptools.analysis.trust.funnel_fit` gives
    it): only those are named, coloured by the way they lie, so that a trust of
    a hundred schools is not a smear of names; with ``named``, only that many each
    way, the furthest out (column ``beyond``; all are coloured and in the text
    alternative). Without ``mark`` every school is named.
    """
    rows = table.dropna(subset=[value, n])
    if rows.empty:
        return None
    centre = float(np.average(rows[value], weights=rows[n])) if centre is None else centre
    fig, ax = new_figure(8, 5, ax)
    k = np.linspace(max(3, rows[n].min() * 0.8), rows[n].max() * 1.15, 200)
    se = sd * np.sqrt(1 / k + 1 / (ratio * k))
    for z, style in ((1.96, "--"), (3.09, ":")):
        ax.plot(k, centre + z * se, style, color="#555555", lw=1)
        ax.plot(k, centre - z * se, style, color="#555555", lw=1)
    ax.axhline(centre, color="#333333", lw=1)
    way = rows[mark].where(rows[mark].isin(["larger", "smaller"]), None) if mark else pd.Series("", index=rows.index)
    colours = way.map({"larger": DISADVANTAGED, "smaller": OTHER}).fillna(NATIONAL if mark else DISADVANTAGED)
    ax.scatter(rows[n], rows[value], color=colours.tolist(), s=40 if len(rows) <= 40 else 22, zorder=3)
    mid = (k.min() + k.max()) / 2
    labelled = set(rows.index)
    if mark and named is not None and "beyond" in rows.columns:
        labelled = {i for w in ("larger", "smaller")
                    for i in rows[way == w].sort_values("beyond", ascending=False).index[:named]}
    parts = []
    for i, r in rows.iterrows():
        name = str(r.get("school_name", r.get("school_id")))
        parts.append(f"{name}: {r[value]:.1f} with {int(r[n])} disadvantaged pupils"
                     + (f", gap {way[i]} than the trust's" if mark and way[i] else ""))
        if (mark and not way[i]) or i not in labelled:
            continue
        left = r[n] > mid  # names of schools on the right are written to the left of their point
        ax.annotate(wrap(_short_name(name, 60), 2.2, 8), (r[n], r[value]), fontsize=8,
                    xytext=(-5 if left else 5, 3), textcoords="offset points", ha="right" if left else "left",
                    va="bottom")
    if mark:  # schools named first in the text alternative: those that stand out
        parts.sort(key=lambda p: " than the trust's" not in p)
    axis_label(ax, "Number of disadvantaged pupils")
    axis_label(ax, label, axis="y")
    ax.plot([], [], "--", color="#555555", label="95% limits")
    ax.plot([], [], ":", color="#555555", label="99.8% limits")
    ax.plot([], [], "-", color="#333333", label="trust average")
    if mark:
        for colour, words in ((DISADVANTAGED, "gap larger than the trust's"), (OTHER, "gap smaller than the trust's"),
                              (NATIONAL, "within the limits")):
            ax.scatter([], [], color=colour, s=30, label=words)
    legend_beside(ax)
    set_title(ax, title or "Which schools' gaps stand out from the trust")
    describe(fig, f"Funnel plot of each school's {label} against its number of disadvantaged pupils, with limits "
                  f"around the trust average of {centre:.1f}. " + "; ".join(parts) + ".")
    return fig


@themed
def heatmap(matrix: pd.DataFrame, *, withheld: pd.DataFrame | None = None, clear: pd.DataFrame | None = None,
            title: str | None = None, ax=None):
    """Schools by measures, coloured by standardised gap; withheld cells marked 'withheld'.

    Columns may be measure names (put in reading order and labelled from the
    label table) or labels already. Rows are drawn in the order given. A cell
    that is True in ``clear`` (a clear gap) is written in bold with a ``*``.
    The measures are named above the columns, where a reader of a long table
    starts.
    """
    if matrix.empty:
        return None
    names = {c: _as_measure(c) for c in matrix.columns}
    cols = sorted(matrix.columns, key=lambda c: measure_order(names[c]))
    matrix = matrix[cols]
    shown = [wrap(cap(short_label(names[c])), 0.8, 8) for c in cols]
    row_in = 0.5 if matrix.shape[0] <= 15 else 0.3  # a long heatmap: rows as tall as their figures need
    fig, ax = new_figure(max(8.0, 0.95 * matrix.shape[1] + 3.5), row_in * matrix.shape[0] + 2.4, ax)
    annot = matrix.map(lambda v: "" if pd.isna(v) else f"{round(v, 2) + 0.0:.2f}")
    cells = withheld.reindex_like(matrix).fillna(False).astype(bool) if withheld is not None else None
    marked = clear.reindex_like(matrix).fillna(False).astype(bool) if clear is not None else None
    if marked is not None:
        annot = annot.where(~marked | matrix.isna(), annot + "*")
    if cells is not None:
        annot = annot.where(~cells, "withheld")
    lim = float(np.nanmax(np.abs(matrix.to_numpy(dtype=float)))) if matrix.notna().any().any() else 1.0
    sns.heatmap(matrix.astype(float), annot=annot, fmt="", cmap="PuOr_r", center=0, vmin=-lim, vmax=lim,
                ax=ax, annot_kws={"fontsize": 8}, xticklabels=False, yticklabels=False,  # set below, as text
                cbar_kws={"label": "gap in SDs\n(+ = disadvantaged behind)",
                          "shrink": min(1.0, 8.0 / fig.get_figheight()), "anchor": (0.0, 1.0)})
    if marked is not None:
        for text in ax.texts:  # the annotations, one a cell, row by row
            if text.get_text().endswith("*"):
                text.set_fontweight("bold")
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(len(cols)) + 0.5, shown, rotation=0, fontsize=8)
    ax.set_yticks(np.arange(matrix.shape[0]) + 0.5, [wrap(r, 2.6, 9) for r in matrix.index], rotation=0,
                  fontsize=9)
    ax.set_xlabel("")
    ax.set_ylabel("")
    set_title(ax, title or "Gaps across schools and measures")
    parts = []
    for r in matrix.index:
        vals = [f"{s.replace(chr(10), ' ')} "
                + ("withheld" if cells is not None and cells.loc[r, c] else
                   ("no data" if pd.isna(matrix.loc[r, c]) else f"{round(matrix.loc[r, c], 2) + 0.0:.2f}"
                    + (" (clear)" if marked is not None and marked.loc[r, c] else "")))
                for c, s in zip(cols, shown)]
        parts.append(f"{r}: " + ", ".join(vals))
    describe(fig, "Table of colours: each school's gap in standard deviations in each measure "
                  "(positive: disadvantaged pupils behind). " + "; ".join(parts) + ".")
    return fig


def _as_measure(column) -> str:
    """A heatmap column as a measure name, whether it was given as a name or as its short label."""
    by_label = {v.casefold(): k for k, v in SHORT_LABELS.items()}
    return by_label.get(str(column).casefold(), str(column))

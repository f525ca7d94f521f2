"""Charts for the reports: seaborn on matplotlib's Agg backend.

One colour-blind-safe palette (Okabe-Ito) for every chart; disadvantaged
pupils are always the same colour. Functions take a tidy table first and
keyword-only options, draw on ``ax`` when given, and return the Figure, whose
title states the finding rather than the variable.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless; never open a window
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ..domain.formatting import cap

#: Okabe-Ito, safe for the common forms of colour blindness.
DISADVANTAGED = "#D55E00"   # vermillion: always the disadvantaged group
OTHER = "#0072B2"           # blue: other pupils
NATIONAL = "#7F7F7F"        # grey: national figures
CLOSING, WIDENING = "#009E73", "#CC79A7"
GROUP_COLOURS = {"disadvantaged": DISADVANTAGED, "other": OTHER}
sns.set_theme(style="whitegrid", context="notebook")


def set_title(ax, text: str) -> None:
    """A left-aligned title that wraps instead of running off the chart."""
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(text, 60)), loc="left", fontsize=12)


def _figure(width=8.0, height=4.0, ax=None):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _scale(row_unit: str, measure: str) -> float:
    return 100.0 if row_unit == "%" and measure != "attendance_pct" else 1.0


def gap_bars(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """Gaps with 95% intervals, one bar per measure (same unit), withheld ones marked.

    ``gaps`` holds rows of one comparison and unit (e.g. subject grades).
    """
    rows = gaps.copy()
    if rows.empty:
        return None
    scale = np.array([_scale(u, m) for u, m in zip(rows["unit"], rows["measure"])])
    rows["g"] = rows["gap"].astype(float) * scale
    rows["lo"] = rows["ci_low"].astype(float) * scale
    rows["hi"] = rows["ci_high"].astype(float) * scale
    fig, ax = _figure(8, 0.45 * len(rows) + 1.4, ax)
    y = np.arange(len(rows))
    colours = [DISADVANTAGED if c else "#E8B9A0" for c in rows["clear"].fillna(False).astype(bool)]
    ax.barh(y, rows["g"].fillna(0), color=colours, height=0.6)
    ok = rows["g"].notna().to_numpy()
    ax.errorbar(rows["g"][ok], y[ok], xerr=[rows["g"][ok] - rows["lo"][ok], rows["hi"][ok] - rows["g"][ok]],
                fmt="none", ecolor="#333333", capsize=3, lw=1)
    for yi, withheld in zip(y, rows["suppressed"]):
        if withheld:
            ax.text(0, yi, "  withheld: too few pupils", va="center", fontsize=9, color="#555555")
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, [cap(v) for v in rows["label"]])
    ax.invert_yaxis()
    unit = rows["unit"].iloc[0]
    ax.set_xlabel("gap in " + ("percentage points" if unit == "%" else unit)
                  + " (+ = disadvantaged behind); lines: 95% intervals")
    set_title(ax, title or "Where disadvantaged pupils are behind")
    return fig


def group_means(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """Mean of disadvantaged and other pupils per measure, side by side (one unit)."""
    rows = gaps[~gaps["suppressed"]]
    if rows.empty:
        return None
    scale = np.array([_scale(u, m) for u, m in zip(rows["unit"], rows["measure"])])
    long = pd.concat([
        pd.DataFrame({"measure": rows["label"].map(cap), "group": "disadvantaged",
                      "mean": rows["mean_disadvantaged"].astype(float) * scale}),
        pd.DataFrame({"measure": rows["label"].map(cap), "group": "other",
                      "mean": rows["mean_reference"].astype(float) * scale}),
    ])
    fig, ax = _figure(8, 0.5 * len(rows) + 1.5, ax)
    sns.barplot(data=long, y="measure", x="mean", hue="group", palette=GROUP_COLOURS, ax=ax, orient="h")
    ax.set_ylabel("")
    ax.set_xlabel("average" + (" (%)" if rows["unit"].iloc[0] == "%" else f" ({rows['unit'].iloc[0]})"))
    ax.legend(title="", loc="lower right")
    set_title(ax, title or "Disadvantaged and other pupils side by side")
    return fig


def trend_lines(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """The gap in each year with its 95% interval, one line per measure (same unit)."""
    rows = gaps.sort_values("year")
    if rows["year"].nunique() < 2:
        return None
    fig, ax = _figure(8, 4, ax)
    palette = sns.color_palette("colorblind", rows["measure"].nunique())
    for colour, (measure, r) in zip(palette, rows.groupby("measure", sort=False)):
        s = _scale(r["unit"].iloc[0], measure)
        ax.errorbar(r["year"].astype(int), r["gap"].astype(float) * s,
                    yerr=[(r["gap"] - r["ci_low"]).astype(float) * s, (r["ci_high"] - r["gap"]).astype(float) * s],
                    marker="o", capsize=4, color=colour, label=r["label"].iloc[0])
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_xticks(sorted(rows["year"].astype(int).unique()))
    unit = rows["unit"].iloc[0]
    ax.set_ylabel("gap (" + ("percentage points" if unit == "%" else unit) + ")")
    ax.legend(loc="best", fontsize=9)
    set_title(ax, title or "How the gap has changed")
    return fig


def subgroup_bars(gaps: pd.DataFrame, *, title: str | None = None, ax=None):
    """One measure's gap within each subgroup of a split, with intervals."""
    rows = gaps.copy()
    rows["label"] = rows["subgroup"].str.split("=").str[1]
    return gap_bars(rows, title=title, ax=ax)


def profile_bars(profile: pd.DataFrame, characteristic: str, *, title: str | None = None, ax=None):
    """Share of disadvantaged and other pupils with each value of a characteristic."""
    rows = profile[(profile["characteristic"] == characteristic) & ~profile["suppressed"]]
    if rows.empty:
        return None
    fig, ax = _figure(8, 0.45 * rows["value"].nunique() + 1.6, ax)
    sns.barplot(data=rows.assign(pct=rows["pct"].astype(float) * 100), y="value", x="pct", hue="group",
                palette=GROUP_COLOURS, hue_order=["disadvantaged", "other"], ax=ax, orient="h")
    ax.set_xlabel("% of the group")
    ax.set_ylabel("")
    ax.legend(title="", loc="lower right")
    set_title(ax, title or characteristic)
    return fig


def funnel(table: pd.DataFrame, *, value: str = "gap", n: str = "n_disadvantaged", sd: float,
           centre: float | None = None, ratio: float = 2.0, title: str | None = None, label: str = "gap", ax=None):
    """Funnel plot: each school's gap against its number of disadvantaged pupils.

    Control limits at 95% and 99.8% around the trust's average gap, for a gap
    between ``k`` disadvantaged and ``ratio * k`` other pupils with pupil-level
    standard deviation ``sd``. Schools outside the 99.8% limits differ from the
    trust by more than chance would explain.
    """
    rows = table.dropna(subset=[value, n])
    if rows.empty:
        return None
    centre = float(np.average(rows[value], weights=rows[n])) if centre is None else centre
    fig, ax = _figure(8, 5, ax)
    k = np.linspace(max(3, rows[n].min() * 0.8), rows[n].max() * 1.15, 200)
    se = sd * np.sqrt(1 / k + 1 / (ratio * k))
    for z, style in ((1.96, "--"), (3.09, ":")):
        ax.plot(k, centre + z * se, style, color="#555555", lw=1)
        ax.plot(k, centre - z * se, style, color="#555555", lw=1)
    ax.axhline(centre, color="#333333", lw=1)
    ax.scatter(rows[n], rows[value], color=DISADVANTAGED, s=40, zorder=3)
    for _, r in rows.iterrows():
        ax.annotate(str(r.get("school_name", r.get("school_id")))[:28], (r[n], r[value]), fontsize=8,
                    xytext=(4, 3), textcoords="offset points")
    ax.set_xlabel("number of disadvantaged pupils")
    ax.set_ylabel(label)
    ax.plot([], [], "--", color="#555555", label="95% limits")
    ax.plot([], [], ":", color="#555555", label="99.8% limits")
    ax.legend(loc="upper right", fontsize=9)
    set_title(ax, title or "Which schools' gaps stand out from the trust")
    return fig


def heatmap(matrix: pd.DataFrame, *, withheld: pd.DataFrame | None = None, title: str | None = None, ax=None):
    """Schools by measures, coloured by standardised gap; withheld cells marked 'c'."""
    if matrix.empty:
        return None
    fig, ax = _figure(1.1 * matrix.shape[1] + 3, 0.5 * matrix.shape[0] + 2, ax)
    annot = matrix.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    if withheld is not None:
        annot = annot.where(~withheld.reindex_like(matrix).fillna(False).astype(bool), "c")
    lim = float(np.nanmax(np.abs(matrix.to_numpy(dtype=float)))) if matrix.notna().any().any() else 1.0
    sns.heatmap(matrix.astype(float), annot=annot, fmt="", cmap="PuOr_r", center=0, vmin=-lim, vmax=lim,
                ax=ax, cbar_kws={"label": "gap in SDs (+ = disadv. behind)"})
    ax.set_xlabel("")
    ax.set_ylabel("")
    set_title(ax, title or "Gaps across schools and measures")
    return fig

"""The published benchmarks notebook (05): tables and charts of the DfE performance tables."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.benchmarks import (
    benchmarks,
    gap_by_school,
    national_figures,
    progress,
    similar_schools,
    similarity_features,
    wide_table,
    withheld_counts,
)
from ..domain.labels import group_label, published_label

# re-exported: notebook 05 and users' scripts read the tables through this module
from ..io.published_tables import (  # noqa: F401
    COUNT_COLUMNS,
    HEADLINE,
    WITHHELD_CODES,
    read_performance_table,
    read_performance_tables,
)


def funnel_chart(table: pd.DataFrame, urns, *, year: int | None = None, measure: str | None = None):
    """Funnel plot of every school's published gap against its number of disadvantaged pupils,
    with the chosen schools highlighted and 95% / 99.8% limits around the national gap."""
    from .charts import themed

    return themed(_funnel_chart)(table, urns, year=year, measure=measure)


def _funnel_chart(table: pd.DataFrame, urns, *, year: int | None = None, measure: str | None = None):
    from matplotlib.figure import Figure

    from .charts import DISADVANTAGED, OTHER, describe, set_title, wrap

    g = gap_by_school(table, measure)
    year = year or int(g["year"].max())
    g = g[g["year"] == year]
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    nat = table[(table["year"] == year) & (table["measure"] == measure) & (table["level"] == "national")] \
        .groupby("group")["value"].first()
    centre = nat.get("other", np.nan) - nat.get("disadvantaged", np.nan)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.add_subplot()
    chosen = g["urn"].isin([str(u) for u in urns])
    ax.scatter(g.loc[~chosen, "n_disadvantaged"], g.loc[~chosen, "gap"], s=14, color="#BBBBBB", label="all schools")
    if chosen.any():
        ax.scatter(g.loc[chosen, "n_disadvantaged"], g.loc[chosen, "gap"], s=50, color=DISADVANTAGED,
                   label="our schools", zorder=3)
    mid = (g["n_disadvantaged"].min() + g["n_disadvantaged"].max()) / 2
    for _, r in g[chosen].iterrows():
        left = r["n_disadvantaged"] > mid  # keep the name inside the chart
        ax.annotate(wrap(r["school_name"], 2.2, 8), (r["n_disadvantaged"], r["gap"]), fontsize=8,
                    xytext=(-5 if left else 5, 3), textcoords="offset points", ha="right" if left else "left")
    if pd.notna(centre) and g["n_disadvantaged"].max() > 0:
        p_d, p_o = nat.get("disadvantaged", 50) / 100, nat.get("other", 50) / 100
        n = np.linspace(max(2, g["n_disadvantaged"].min()), g["n_disadvantaged"].max(), 200)
        pupils = table[table["measure"] == "pupils"]
        ratio = float(np.nanmedian(pupils[pupils["group"] == "other"]["value"])
                      / np.nanmedian(pupils[pupils["group"] == "disadvantaged"]["value"]))
        se = 100 * np.sqrt(p_d * (1 - p_d) / n + p_o * (1 - p_o) / (ratio * n))
        for z, style in ((1.96, "--"), (3.09, ":")):
            ax.plot(n, centre + z * se, style, color="#555555", lw=1)
            ax.plot(n, centre - z * se, style, color="#555555", lw=1)
        ax.axhline(centre, color=OTHER, lw=1, label=f"national gap ({centre:.0f} points)")
    ax.set_xlabel("Number of disadvantaged pupils", fontsize=10)
    ax.set_ylabel(wrap("Gap: other minus disadvantaged pupils" + (" (percentage points)" if table["unit"].eq("%").any()
                                                                   else ""), 4.0, 10), fontsize=10)
    ax.plot([], [], "--", color="#555555", label="95% limits")
    ax.plot([], [], ":", color="#555555", label="99.8% limits")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    ours = ", ".join(g.loc[chosen, "school_name"].astype(str))
    set_title(ax, f"{academic_year(year)}: the published gap of every school in the files"
              + (f", ours highlighted ({ours})" if ours else "; none of our schools is in them"))
    describe(fig, f"Scatter plot of {len(g)} schools' published gap between other and disadvantaged pupils against "
                  f"their number of disadvantaged pupils, with funnel limits around the national gap"
                  + (f" of {centre:.0f} percentage points" if pd.notna(centre) else "") + "."
                  + (" Our schools: " + "; ".join(f"{r['school_name']} {r['gap']:.0f} with "
                                                   f"{int(r['n_disadvantaged'])} disadvantaged pupils"
                                                   for _, r in g[chosen].iterrows()) + "." if ours else ""))
    return fig


def similar_chart(table: pd.DataFrame, urn: str, *, year: int | None = None, k: int = 10):
    """The school's disadvantaged pupils against those of its most similar schools."""
    from .charts import themed

    return themed(_similar_chart)(table, urn, year=year, k=k)


def _similar_chart(table: pd.DataFrame, urn: str, *, year: int | None = None, k: int = 10):
    from matplotlib.figure import Figure

    from .charts import DISADVANTAGED, NATIONAL, describe, set_title, wrap

    ks = table["key_stage"].iloc[0]
    measure = HEADLINE.get(ks, "PTRWM_EXP")
    year = year or int(table["year"].max())
    t = table[table["year"] == year]
    similar = similar_schools(similarity_features(t), str(urn), k=k)
    wide = wide_table(t, measure)
    if len(wide) == 0 or not similar:
        return None
    wide = wide.xs(year, level="year")
    names = t.dropna(subset=["urn"]).groupby("urn")["school_name"].first()
    ids = [str(urn)] + similar
    vals = wide.reindex(ids)["disadvantaged"] if "disadvantaged" in wide else pd.Series(index=ids, dtype=float)
    fig = Figure(figsize=(8, 0.4 * len(ids) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    colours = [DISADVANTAGED if i == str(urn) else NATIONAL for i in ids]
    y = np.arange(len(ids))
    ax.barh(y, vals.fillna(0), color=colours)
    for yi, v in zip(y.tolist(), vals):
        if pd.isna(v):
            ax.text(0.5, yi, "withheld", va="center", fontsize=8)
    ax.set_yticks(y, [wrap(names.get(i, i), 2.8, 9) for i in ids], fontsize=9)
    ax.set_ylim(len(ids) - 0.5, -0.5)
    ax.set_xlabel(f"Disadvantaged pupils: {published_label(measure)} ({academic_year(year)})",
                  fontsize=10)
    rank = vals.rank(ascending=False).get(str(urn))
    set_title(ax, f"{names.get(str(urn), urn)} against its {len(similar)} most similar schools"
               + (f": {int(rank)} of {vals.notna().sum()}" if pd.notna(rank) else ""))
    describe(fig, "Bar chart of the disadvantaged pupils' figure of the school and of its most similar schools. "
                  + "; ".join(f"{names.get(i, i)}: " + ("withheld" if pd.isna(v) else f"{v:.0f}")
                              for i, v in zip(ids, vals)) + ".")
    return fig



def in_files(table: pd.DataFrame, urns) -> list[str]:
    """The chosen schools that appear in the published files."""
    present = set(table.loc[table["level"].isin(["school", "special school"]), "urn"].dropna().astype(str))
    return [str(u) for u in urns if str(u) in present]


# ------------------------------------------------------------ for the notebook
def summary(table: pd.DataFrame, urns=None):
    """What was read, in one paragraph, and which of our schools (``urns``) the files include."""
    from .display import markdown

    schools = table[table["level"].isin(["school", "special school"])]["urn"].nunique()
    years = sorted(table["year"].unique())
    las = sorted(table[table["level"] == "local authority"]["la"].dropna().unique())
    withheld = int((table["status"] != "ok").sum())
    return markdown(f"Read {table['source'].nunique()} files: {table['key_stage'].iloc[0]}, "
                    f"{', '.join(academic_year(y) for y in years)}; {schools} schools in local "
                    f"authorities {', '.join(las)}. {withheld:,} cells are withheld or blank and are kept as such "
                    "(never read as zero)." + ("" if urns is None else " " + coverage_text(table, urns)))


def coverage_text(table: pd.DataFrame, urns) -> str:
    """A sentence saying which of our schools the files include (none, some, all)."""
    urns = [str(u) for u in urns]
    found = in_files(table, urns)
    if not found:
        return (f"**None of our {len(urns)} school{'s' if len(urns) != 1 else ''} is in these files**, so this page "
                "shows national figures and all other schools only, for context: to place our schools, add the "
                "performance tables of their local authorities.")
    missing = [u for u in urns if u not in found]
    return (f"{len(found)} of our {len(urns)} schools are in these files"
            + (f"; not in them: {', '.join(missing)}." if missing else "."))


def withheld_table(table: pd.DataFrame):
    from .display import Table

    w = withheld_counts(table).pivot(index="status", columns="year", values="cells").fillna(0).astype(int)
    w.index = [f"{code} ({WITHHELD_CODES.get(code, code)})" if code in WITHHELD_CODES else code for code in w.index]
    w.columns = [academic_year(y) for y in w.columns]
    return Table(w, index=True)


def academic_year(y) -> str:
    """2019 -> "2018/19", as the performance tables name a year."""
    return f"{y - 1}/{str(y)[2:]}"


def _whole(missing: str = "", sign: str = ""):
    """Formatter for percentages shown as whole numbers; ``missing`` where there is none."""
    return lambda v: missing if pd.isna(v) else f"{v:{sign}.0f}"


def national_table(table: pd.DataFrame):
    from .display import Table

    n = national_figures(table)
    n["gap"] = n["other"] - n["disadvantaged"]
    for c in n.columns:
        if c != "year":
            n[c] = n[c].map(_whole())
    n["year"] = [academic_year(y) for y in n["year"]]
    return Table(n.rename(columns=str.capitalize))


def benchmarks_table(table: pd.DataFrame, urns):
    from .display import Table, markdown

    b = benchmarks(table, urns)
    if b.empty:
        return markdown("_None of our schools is in these files, so there is nothing to compare here._")
    show = pd.DataFrame({
        "School": b["school_name"], "Year": [academic_year(y) for y in b["year"]],
        "Disadvantaged": b["disadvantaged"].map(_whole("withheld")),
        "Others in school": b["other"].map(_whole("withheld")),
        "National other": b["national_other"].map(_whole()),
        "Gap to national other": b["gap_national"].map(_whole()),
        "LA disadvantaged": b["la_disadvantaged"].map(_whole()),
        "Similar schools' disadvantaged (median)": b["similar_disadvantaged"].map(_whole()),
        "Percentile among all schools": b["percentile"].map(_whole()),
        "Change in gap since the year before": b["change_gap_national"].map(_whole(sign="+")),
        "Status": b["status"],
    })
    return Table(show)


def progress_table(table: pd.DataFrame, urns):
    from .display import Table, markdown

    p = progress(table, urns)
    if p.empty:
        return markdown("_No published progress scores for these schools._")
    p = p.assign(Score=[("withheld: " + s) if s != "ok" else f"{v:+.1f} ({lo:+.1f} to {hi:+.1f})"
                        for v, lo, hi, s in zip(p["value"], p["lower"], p["upper"], p["status"])])
    p = p.assign(measure=p["measure"].map(published_label), group=p["group"].map(group_label))
    wide = p.pivot_table(index=["school_name", "measure", "group"], columns="year", values="Score",
                         aggfunc="first")
    wide.columns = [academic_year(y) for y in wide.columns]
    wide.index.names = ["School", "Measure", "Pupils"]
    return Table(wide.fillna("not published"), index=True)


def funnel(table: pd.DataFrame, urns, year: int | None = None):
    from .display import Chart

    return Chart(funnel_chart(table, urns, year=year))


def similar(table: pd.DataFrame, urns, year: int | None = None):
    """Each of our schools against its most similar schools; one sentence when none is in the files."""
    from .display import Chart, Section, markdown

    out = Section()
    found = in_files(table, urns)
    if not found:
        out.append(markdown("_None of our schools is in these files, so there are no similar schools to show._"))
        return out
    for urn in urns:
        fig = similar_chart(table, str(urn), year=year) if str(urn) in found else None
        out.append(Chart(fig) if fig is not None else markdown(f"_{urn}: not in these files._"))
    return out

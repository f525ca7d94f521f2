"""DfE school performance tables, read as published, and each school placed among all schools.

The CSVs are read with a tolerant parser: UTF-8 with BOM (or Windows-1252),
CRLF, local-authority and national rows (RECTYPE 3, 4, 5) that are shorter
than school rows, percentages written "61%". Withheld cells (SUPP, NE, NA,
LOWCOV, NP, DNS, blank ...) are kept as withheld with their reason, never as
zero. Disadvantaged columns end in ``FSM6CLA1A``; other pupils in
``NotFSM6CLA1A`` (KS2) or ``NFSM6CLA1A`` (KS4).
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .readers import decode

GROUP_SUFFIXES = (("_NotFSM6CLA1A", "other"), ("_NFSM6CLA1A", "other"), ("_FSM6CLA1A", "disadvantaged"))
COUNT_COLUMNS = {"TFSM6CLA1A": ("pupils", "disadvantaged"), "TNotFSM6CLA1A": ("pupils", "other"),
                 "TNFSM6CLA1A": ("pupils", "other"), "PTFSM6CLA1A": ("share_disadvantaged", "all"),
                 "TELIG": ("pupils", "all"),
                 # prior attainment of the cohort, for similar schools (KS2: KS1 average; KS4: KS2 average)
                 "TKS1AVERAGE": ("TKS1AVERAGE", "all"), "KS2APS": ("KS2APS", "all")}
WITHHELD_CODES = {
    "SUPP": "suppressed (small group)", "NE": "no entries", "NA": "not applicable", "NP": "not published",
    "LOWCOV": "low coverage", "DNS": "did not submit", "X": "unavailable", "C": "confidential",
    "Z": "not applicable", "LOW": "rounds to zero", "U": "low reliability", "NEW": "new school", "": "blank",
}
LEVELS = {"1": "school", "2": "special school", "3": "local authority", "4": "national", "5": "national state-funded"}
TIDY_COLUMNS = ["urn", "school_name", "la", "rectype", "level", "key_stage", "year", "measure", "group",
                "value", "lower", "upper", "unit", "status", "source"]
#: Headline measures per key stage, for comparisons and charts.
HEADLINE = {"KS2": "PTRWM_EXP", "KS4": "ATT8SCR"}
PROGRESS = {"KS2": ("READPROG", "WRITPROG", "MATPROG"), "KS4": ("P8MEA",)}


def _year_from_name(name: str) -> int | None:
    m = re.search(r"(20\d\d)[-_](\d{2,4})?", name)
    if not m:
        return None
    first = int(m.group(1))
    # '2018-850-ks2.csv' names the first calendar year of 2018/19; '2018-2019' names both
    return first + 1


def _parse_cell(text: str | None):
    """(value, unit, status) for one published cell."""
    if text is None:
        return np.nan, None, "missing (short row)"
    t = text.strip()
    if t.upper() in WITHHELD_CODES:
        return np.nan, None, t.upper() or "blank"
    pct = t.endswith("%")
    try:
        return float(t.rstrip("%").replace(",", "")), ("%" if pct else None), "ok"
    except ValueError:
        return np.nan, None, f"unreadable: {t[:20]}"


def read_performance_table(path, *, year: int | None = None, key_stage: str | None = None) -> pd.DataFrame:
    """One DfE performance-table CSV as a tidy table.

    Parameters
    ----------
    path : path
        The CSV, as downloaded.
    year : int, optional
        The summer the results belong to; default from the file name
        (``2018-850-ks2.csv`` is 2018/19, so 2019).
    key_stage : str, optional
        Default from the file name or columns (``ks2``/``ks4``).

    Returns
    -------
    DataFrame
        ``urn, school_name, la, rectype, level, key_stage, year, measure, group
        (disadvantaged/other/all), value, lower, upper, unit, status, source``.
        ``status`` is ``ok`` or the withheld reason (``SUPP``, ``NE``, ``LOWCOV``,
        ``blank`` ...); ``value`` is missing wherever ``status`` is not ``ok``.
    """
    path = Path(path)
    text, _ = decode(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    year = year or _year_from_name(path.name)
    if year is None:
        raise ValueError(f"{path}: give the results year (it is not in the file name)")
    if key_stage is None:
        lower = path.name.lower()
        key_stage = "KS4" if "ks4" in lower or "ATT8SCR" in header else "KS2"
    idx = {h: i for i, h in enumerate(header)}
    # measure columns: base -> {group: column}, and interval columns
    specs = []
    for h in header:
        if h.endswith(("_LOWER", "_UPPER")):
            continue
        if h in COUNT_COLUMNS:
            specs.append((h, *COUNT_COLUMNS[h]))
            continue
        for suffix, group in GROUP_SUFFIXES:
            if h.endswith(suffix):
                base = h[: -len(suffix)]
                specs.append((h, base, group))
                if base in idx and not any(s[0] == base for s in specs):
                    specs.append((base, base, "all"))
                break
    out = []
    for row in rows[1:]:
        if not row or not any(c.strip() for c in row):
            continue
        get = lambda col: row[idx[col]] if col in idx and idx[col] < len(row) else None  # noqa: E731
        rectype = (get("RECTYPE") or "").strip()
        common = {"urn": (get("URN") or "").strip() or None, "school_name": (get("SCHNAME") or "").strip() or None,
                  "la": (get("LEA") or "").strip() or None, "rectype": rectype,
                  "level": LEVELS.get(rectype, rectype), "key_stage": key_stage, "year": year,
                  "source": path.name}
        for col, measure, group in specs:
            value, unit, status = _parse_cell(get(col))
            lo, _, _ = _parse_cell(get(col + "_LOWER")) if col + "_LOWER" in idx else (np.nan, None, None)
            hi, _, _ = _parse_cell(get(col + "_UPPER")) if col + "_UPPER" in idx else (np.nan, None, None)
            out.append({**common, "measure": measure, "group": group, "value": value, "lower": lo,
                        "upper": hi, "unit": unit, "status": status})
    frame = pd.DataFrame(out, columns=TIDY_COLUMNS)
    # a percentage column keeps its unit on withheld rows too
    units = frame.dropna(subset=["unit"]).groupby("measure")["unit"].first()
    frame["unit"] = frame["measure"].map(units)
    return frame


def read_performance_tables(paths) -> pd.DataFrame:
    """Several performance-table CSVs (files or folders of ``*.csv``) as one tidy table."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = []
    for p in map(Path, paths):
        files += sorted(f for f in p.glob("*.csv") if not f.name.endswith("_meta.csv")
                        and "codes_meta" not in f.name) if p.is_dir() else [p]
    if not files:
        raise FileNotFoundError(f"no performance-table CSV files in {paths}")
    return pd.concat([read_performance_table(f) for f in files], ignore_index=True)


def withheld_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How many cells are withheld, by year and reason."""
    w = table[table["status"] != "ok"]
    return w.groupby(["year", "status"]).size().rename("cells").reset_index()


def _wide(table, measure, levels=("school", "special school")):
    t = table[(table["measure"] == measure) & table["level"].isin(levels)]
    return t.pivot_table(index=["urn", "year"], columns="group", values="value", aggfunc="first")


def benchmarks(table: pd.DataFrame, urns, *, measure: str | None = None, k: int = 10) -> pd.DataFrame:
    """Each chosen school's disadvantaged pupils against national other pupils, the local
    authority, similar schools and all schools, for every year in the table.

    Parameters
    ----------
    table : DataFrame
        From :func:`read_performance_tables`.
    urns : list of str
    measure : str, optional
        Default the headline: RWM expected (KS2) or Attainment 8 (KS4).
    k : int
        How many similar schools (nearest by % disadvantaged and prior attainment).

    Returns
    -------
    DataFrame
        One row per school and year: ``disadvantaged``, ``other`` (in school),
        ``national_other``, ``gap_national`` (national other minus disadvantaged),
        ``la_disadvantaged``, ``la_other``, ``similar_disadvantaged`` (median of
        the similar schools), ``percentile`` (of the school's disadvantaged
        figure among all schools with one), ``status`` (why a figure is missing),
        and the change from the previous year in the file (``change_disadvantaged``,
        ``change_gap_national``).
    """
    urns = [str(u) for u in urns]
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    rows = []
    for year, t in table.groupby("year"):
        m = t[t["measure"] == measure]
        # every LA file repeats the national row: one value per group
        nat = m[m["level"] == "national"].groupby("group")["value"].first()
        schools = _wide(t, measure)
        schools = schools.xs(year, level="year") if len(schools) else schools
        status = m[m["level"].isin(["school", "special school"]) & (m["group"] == "disadvantaged")] \
            .set_index("urn")["status"]
        features = _similarity_features(t)
        for urn in urns:
            if urn not in set(t["urn"].dropna()):
                continue
            la = t[t["urn"] == urn]["la"].iloc[0]
            la_row = m[(m["level"] == "local authority") & (m["la"] == la)].groupby("group")["value"].first()
            dis = schools.loc[urn, "disadvantaged"] if urn in schools.index and "disadvantaged" in schools else np.nan
            oth = schools.loc[urn, "other"] if urn in schools.index and "other" in schools else np.nan
            valid = schools["disadvantaged"].dropna() if "disadvantaged" in schools else pd.Series(dtype=float)
            pct = float(((valid < dis).sum() + 0.5 * (valid == dis).sum()) / len(valid) * 100) \
                if pd.notna(dis) and len(valid) else np.nan
            similar = similar_schools(features, urn, k=k)
            sim_values = valid.reindex(similar).dropna()
            rows.append({
                "urn": urn, "school_name": t[t["urn"] == urn]["school_name"].iloc[0], "year": year,
                "measure": measure, "disadvantaged": dis, "other": oth,
                "national_other": nat.get("other", np.nan), "gap_national": nat.get("other", np.nan) - dis,
                "la_disadvantaged": la_row.get("disadvantaged", np.nan), "la_other": la_row.get("other", np.nan),
                "similar_disadvantaged": float(sim_values.median()) if len(sim_values) else np.nan,
                "n_similar": len(sim_values), "percentile": pct,
                "status": status.get(urn, "not in file"),
            })
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["urn", "year"])
        out["change_disadvantaged"] = out.groupby("urn")["disadvantaged"].diff()
        out["change_gap_national"] = out.groupby("urn")["gap_national"].diff()
    return out.reset_index(drop=True)


def _similarity_features(t: pd.DataFrame) -> pd.DataFrame:
    """% disadvantaged and prior attainment for every school (KS2: KS1 average; KS4: KS2 average)."""
    share = t[(t["measure"] == "share_disadvantaged") & t["level"].isin(["school", "special school"])] \
        .set_index("urn")["value"]
    prior_measure = "TKS1AVERAGE" if t["key_stage"].iloc[0] == "KS2" else "KS2APS"
    prior = t[(t["measure"] == prior_measure) & (t["group"] == "all") & t["level"].isin(["school", "special school"])] \
        .set_index("urn")["value"] if prior_measure in set(t["measure"]) else pd.Series(dtype=float)
    return pd.DataFrame({"share": share, "prior": prior}).dropna(subset=["share"])


def similar_schools(features: pd.DataFrame, urn: str, *, k: int = 10) -> list[str]:
    """The ``k`` schools nearest to ``urn`` in standardised % disadvantaged and prior attainment."""
    if urn not in features.index:
        return []
    f = features.dropna(axis=1, how="all")
    f = f.dropna()
    if urn not in f.index or len(f) < 2:
        return []
    z = (f - f.mean()) / f.std(ddof=0).replace(0, 1)
    d = np.sqrt(((z - z.loc[urn]) ** 2).sum(axis=1)).drop(urn)
    return list(d.nsmallest(k).index)


def progress(table: pd.DataFrame, urns) -> pd.DataFrame:
    """Published progress scores of disadvantaged and other pupils with their intervals."""
    ks = table["key_stage"].iloc[0]
    t = table[table["measure"].isin(PROGRESS.get(ks, ())) & table["urn"].isin([str(u) for u in urns])
              & table["group"].isin(["disadvantaged", "other"])]
    return t[["urn", "school_name", "year", "measure", "group", "value", "lower", "upper", "status"]] \
        .sort_values(["urn", "measure", "group", "year"]).reset_index(drop=True)


def gap_by_school(table: pd.DataFrame, measure: str | None = None) -> pd.DataFrame:
    """Every school's published gap (other minus disadvantaged) with its number of disadvantaged pupils."""
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    wide = _wide(table, measure).reset_index()
    counts = table[(table["measure"] == "pupils") & (table["group"] == "disadvantaged")] \
        .set_index(["urn", "year"])["value"]
    names = table.dropna(subset=["urn"]).groupby("urn")["school_name"].first()
    wide["n_disadvantaged"] = [counts.get((u, y), np.nan) for u, y in zip(wide["urn"], wide["year"])]
    wide["gap"] = wide.get("other") - wide.get("disadvantaged")
    wide["school_name"] = wide["urn"].map(names)
    return wide.dropna(subset=["gap", "n_disadvantaged"])


def funnel_chart(table: pd.DataFrame, urns, *, year: int | None = None, measure: str | None = None):
    """Funnel plot of every school's published gap against its number of disadvantaged pupils,
    with the chosen schools highlighted and 95% / 99.8% limits around the national gap."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from .charts import DISADVANTAGED, OTHER, _title

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
    ax.scatter(g.loc[chosen, "n_disadvantaged"], g.loc[chosen, "gap"], s=50, color=DISADVANTAGED,
               label="chosen schools", zorder=3)
    for _, r in g[chosen].iterrows():
        ax.annotate(str(r["school_name"])[:26], (r["n_disadvantaged"], r["gap"]), fontsize=8, xytext=(4, 3),
                    textcoords="offset points")
    if pd.notna(centre) and g["n_disadvantaged"].max() > 0:
        p_d, p_o = nat.get("disadvantaged", 50) / 100, nat.get("other", 50) / 100
        n = np.linspace(max(2, g["n_disadvantaged"].min()), g["n_disadvantaged"].max(), 200)
        ratio = float(np.nanmedian(table[(table["measure"] == "pupils") & (table["group"] == "other")]["value"])
                      / np.nanmedian(table[(table["measure"] == "pupils") & (table["group"] == "disadvantaged")]["value"]))
        se = 100 * np.sqrt(p_d * (1 - p_d) / n + p_o * (1 - p_o) / (ratio * n))
        for z, style in ((1.96, "--"), (3.09, ":")):
            ax.plot(n, centre + z * se, style, color="#555555", lw=1)
            ax.plot(n, centre - z * se, style, color="#555555", lw=1)
        ax.axhline(centre, color=OTHER, lw=1, label=f"national gap ({centre:.0f} points)")
    ax.set_xlabel("number of disadvantaged pupils")
    ax.set_ylabel("gap: other minus disadvantaged (percentage points)" if table["unit"].eq("%").any()
                  else "gap: other minus disadvantaged")
    ax.legend(loc="upper right", fontsize=8)
    _title(ax, f"{year}: published gaps of every school in the file, chosen schools highlighted")
    return fig


def similar_chart(table: pd.DataFrame, urn: str, *, year: int | None = None, k: int = 10):
    """The school's disadvantaged pupils against those of its most similar schools."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from .charts import DISADVANTAGED, NATIONAL, _title

    ks = table["key_stage"].iloc[0]
    measure = HEADLINE.get(ks, "PTRWM_EXP")
    year = year or int(table["year"].max())
    t = table[table["year"] == year]
    similar = similar_schools(_similarity_features(t), str(urn), k=k)
    wide = _wide(t, measure)
    if len(wide) == 0:
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
    for yi, v in zip(y, vals):
        if pd.isna(v):
            ax.text(0.5, yi, "withheld", va="center", fontsize=8)
    ax.set_yticks(y, [str(names.get(i, i))[:34] for i in ids])
    ax.invert_yaxis()
    ax.set_xlabel(f"disadvantaged pupils: {measure} ({year})")
    rank = vals.rank(ascending=False).get(str(urn))
    _title(ax, f"{names.get(str(urn), urn)} against its {len(similar)} most similar schools"
               + (f": {int(rank)} of {vals.notna().sum()}" if pd.notna(rank) else ""))
    return fig


def run_published_notebook(out: Path, published, school_ids) -> dict:
    """Run notebooks/05 for the trust's schools that appear in the files (used by ``gaptools run``)."""
    import time

    from .batch import NOTEBOOK_DIR, _execute, _execution_error
    from .html import notebook_html

    name = "05_published_benchmarks"
    paths = [str(Path(p).resolve()) for p in (published if isinstance(published, (list, tuple)) else [published])]
    stage = out / ".gaptools" / "trust"
    stage.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        _execute(NOTEBOOK_DIR / f"{name}.ipynb", stage / f"{name}.ipynb",
                 {"published": paths, "school_ids": list(map(str, school_ids))},
                 cwd=str(NOTEBOOK_DIR), timeout=600, retries=2)
        (out / "trust").mkdir(exist_ok=True)
        page = notebook_html(stage / f"{name}.ipynb", nav_html='<a href="../index.html">Trust index</a>')
        tmp = out / "trust" / f".{name}.html.tmp"
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out / "trust" / f"{name}.html")
        return {"status": "ok", "error": None, "outputs": [f"trust/{name}.html"],
                "duration_s": round(time.perf_counter() - start, 2)}
    except Exception as exc:
        return {"status": "failed", "error": _execution_error(exc, name), "outputs": [],
                "duration_s": round(time.perf_counter() - start, 2)}


def national_figures(table: pd.DataFrame, measure: str | None = None) -> pd.DataFrame:
    """National disadvantaged and other figures by year (one value, however many files repeat it)."""
    ks = table["key_stage"].iloc[0]
    measure = measure or HEADLINE.get(ks, "PTRWM_EXP")
    t = table[(table["measure"] == measure) & (table["level"] == "national")]
    return t.groupby(["year", "group"])["value"].first().unstack("group").reset_index()


# ------------------------------------------------------------ for the notebook
def summary(table: pd.DataFrame):
    """What was read, in one paragraph."""
    from .report import markdown

    schools = table[table["level"].isin(["school", "special school"])]["urn"].nunique()
    years = sorted(table["year"].unique())
    las = sorted(table[table["level"] == "local authority"]["la"].dropna().unique())
    withheld = int((table["status"] != "ok").sum())
    return markdown(f"Read {table['source'].nunique()} files: {table['key_stage'].iloc[0]}, "
                    f"{', '.join(_academic_year(y) for y in years)}; {schools} schools in local "
                    f"authorities {', '.join(las)}. {withheld:,} cells are withheld or blank and are kept as such "
                    "(never read as zero).")


def withheld_table(table: pd.DataFrame):
    from .report import Table

    w = withheld_counts(table).pivot(index="status", columns="year", values="cells").fillna(0).astype(int)
    w.index = [f"{code} ({WITHHELD_CODES.get(code, code)})" if code in WITHHELD_CODES else code for code in w.index]
    w.columns = [_academic_year(y) for y in w.columns]
    return Table(w, index=True)


def _academic_year(y) -> str:
    """2019 -> "2018/19", as the performance tables name a year."""
    return f"{y - 1}/{str(y)[2:]}"


def _whole(missing: str = "", sign: str = ""):
    """Formatter for percentages shown as whole numbers; ``missing`` where there is none."""
    return lambda v: missing if pd.isna(v) else f"{v:{sign}.0f}"


def national_table(table: pd.DataFrame):
    from .report import Table

    n = national_figures(table)
    n["gap"] = n["other"] - n["disadvantaged"]
    for c in n.columns:
        if c != "year":
            n[c] = n[c].map(_whole())
    n["year"] = [_academic_year(y) for y in n["year"]]
    return Table(n.rename(columns=str.capitalize))


def benchmarks_table(table: pd.DataFrame, urns):
    from .report import Table, markdown

    b = benchmarks(table, urns)
    if b.empty:
        return markdown("_None of the chosen schools is in these files._")
    show = pd.DataFrame({
        "School": b["school_name"], "Year": [_academic_year(y) for y in b["year"]],
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
    from .report import Table, markdown

    p = progress(table, urns)
    if p.empty:
        return markdown("_No published progress scores for these schools._")
    p = p.assign(Score=[("withheld: " + s) if s != "ok" else f"{v:+.1f} ({lo:+.1f} to {hi:+.1f})"
                        for v, lo, hi, s in zip(p["value"], p["lower"], p["upper"], p["status"])])
    wide = p.pivot_table(index=["school_name", "measure", "group"], columns="year", values="Score",
                         aggfunc="first")
    wide.columns = [_academic_year(y) for y in wide.columns]
    return Table(wide.fillna("not published"), index=True)


def funnel(table: pd.DataFrame, urns, year: int | None = None):
    from .report import Chart

    return Chart(funnel_chart(table, urns, year=year))


def similar(table: pd.DataFrame, urns, year: int | None = None):
    from .report import Chart, Section, markdown

    out = Section()
    for urn in urns:
        fig = similar_chart(table, str(urn), year=year)
        out.append(Chart(fig) if fig is not None else markdown(f"_{urn}: not in the files._"))
    return out

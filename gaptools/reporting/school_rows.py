"""Rows of the results model and of the cohort profile as people read them (no number re-derived)."""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import (
    cap,
    comparator,
    is_missing,
    is_yes,
    row_trend_text,
    value_text,
    with_interval,
    withheld_text,
)
from ..domain.labels import characteristic_label, measure_label, measure_order, value_label
from ..domain.suppression import DEFAULT_THRESHOLD
from .display import WITHHELD


def verdict(r, threshold: int) -> str:
    """What a row of the results model means, in words (the model's ``clear`` and ``withheld_reason``)."""
    if r["suppressed"]:
        return withheld_text(r.get("withheld_reason"), threshold)
    if is_yes(r.get("clear")):
        return "clear gap" if r["gap"] > 0 else "disadvantaged clearly ahead"
    return "no clear difference"


def gap_cell(r, threshold: int) -> str:
    """A gap with its unit and interval, or why it is withheld."""
    if r["suppressed"]:
        return withheld_text(r.get("withheld_reason"), threshold)
    return with_interval(r["gap"], r["ci_low"], r["ci_high"], r["unit"], r["measure"], r["kind"])


def people_table(gaps: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Rows of the results model as a head teacher reads them (nothing re-derived)."""
    if gaps.empty:
        return pd.DataFrame()
    rows = []
    for _, r in gaps.iterrows():
        shown = not r["suppressed"]
        n_ref = r["n_reference"]
        rows.append({
            "Measure": cap(measure_label(r["measure"], r["label"])),
            "Compared with": comparator(r["comparison"]),
            "Disadvantaged": (value_text(r["mean_disadvantaged"], r["unit"], r["measure"], r["kind"]) if shown
                              else WITHHELD),
            "Others": value_text(r["mean_reference"], r["unit"], r["measure"], r["kind"]) if shown else WITHHELD,
            "Pupils (disadv. / others)": (WITHHELD if not shown else
                                         f"{int(r['n_disadvantaged'])} / " +
                                         (f"{int(n_ref)}" if not is_missing(n_ref) else "national")),
            "Gap (95% interval)": gap_cell(r, threshold),
            "What it means": verdict(r, threshold),
            "Trend": row_trend_text(r) if "trend" in r.index else "",
        })
    return pd.DataFrame(rows)


def by_importance(gaps: pd.DataFrame) -> pd.DataFrame:
    """Rows of the results model in order of importance: clear gaps first (largest standardised
    gap first), then shown rows in reading order (English beside maths), withheld rows last."""
    if gaps.empty:
        return gaps
    clear = gaps["clear"].map(is_yes) & (gaps["gap"] > 0)
    size = gaps["effect_size"].abs() if "effect_size" in gaps.columns else pd.Series(0.0, index=gaps.index)
    key = pd.DataFrame({"clear": ~clear, "withheld": gaps["suppressed"].astype(bool),
                        "size": -size.fillna(0).where(clear, 0),
                        "order": [measure_order(m) for m in gaps["measure"]]}, index=gaps.index)
    return gaps.loc[key.sort_values(["clear", "withheld", "size", "order"], kind="stable").index]


def folded(table: pd.DataFrame, keep: int, what: str):
    """``table``'s first ``keep`` rows, the rest folded (at least three rows show)."""
    from .summary import Folded

    return Folded(table, keep=max(3, int(keep)), what=what)


def profile_cells(p: pd.DataFrame) -> pd.DataFrame:
    """A profile as a table: a row per characteristic and value, 'n (share)' or withheld per group."""
    show = p.assign(cell=[WITHHELD if s else f"{int(n)} ({pct:.0%})"
                          for s, n, pct in zip(p["suppressed"], p["n"].fillna(0), p["pct"].fillna(0))],
                    characteristic=[cap(characteristic_label(ch)) for ch in p["characteristic"]],
                    value=[cap(value_label(ch, v)) for ch, v in zip(p["characteristic"], p["value"])])
    t = show.pivot_table(index=["characteristic", "value"], columns="group", values="cell",
                         aggfunc="first", sort=False)
    t.columns = [f"{cap(g)} pupils" for g in t.columns]
    t.index.names = ["Characteristic", ""]  # names from the label table, never column names
    return t.fillna("")

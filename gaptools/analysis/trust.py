"""A trust's schools side by side: who stands out from the trust, and where central support should go.

Everything here is computed from the schools' results model (each gap with
its 95% interval, group sizes, ``clear`` and trend verdict), never from pupils:
the trust overview, the index page and ``trust.csv`` only present it.

- :func:`funnel_fit`: each school's gap against the trust's average, with
  control limits from the gap's standard error; a school outside the 99.8%
  limits stands out, and the table says which way (``larger`` or ``smaller``
  gap than the trust's).
- :func:`support_priorities`: one decision list. A school's *concerns* are
  its clear headline gaps against other pupils in school, the ones of them
  clearly widening, its clear headline gaps against national figures, and a
  gap larger than the trust's beyond chance (counted twice: the strongest
  signal that this school differs). Schools with more concerns come first,
  then those with more disadvantaged pupils affected.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.formatting import comparator, is_yes
from ..domain.labels import short_label
from ..domain.registry import funnel_measures, headline

#: The measures a decision rests on (a school's headline outcomes and attendance).
HEADLINE_MEASURES = headline("decision")
#: The measure of each key stage's funnel plot.
FUNNEL_MEASURES = funnel_measures()
#: Normal quantiles of the funnel's limits: 95% and 99.8% (two-sided).
Z95, Z998 = 1.959964, 3.090232
#: A school standing out with a larger gap than the trust's counts as this many concerns.
STANDS_OUT_WEIGHT = 2


def latest(gaps: pd.DataFrame, comparison: str | None = "in_school") -> pd.DataFrame:
    """Each school's whole-cohort rows of its latest year in each key stage (one comparison, or all)."""
    if gaps.empty:
        return gaps
    g = gaps[gaps["subgroup"].isna() & ((gaps["comparison"] == comparison) if comparison else True)]
    newest = g.groupby(["school_id", "key_stage"])["year"].transform("max")
    return g[g["year"] == newest]


def standard_error(g: pd.DataFrame) -> pd.Series:
    """A gap's standard error, from its 95% interval (results.json keeps intervals, not SEs)."""
    return (g["ci_high"].astype(float) - g["ci_low"].astype(float)) / (2 * 1.96)


def pupil_sd(g: pd.DataFrame) -> pd.Series:
    """Pupil-level SD implied by a gap's standard error and its two group sizes (NaN where withheld)."""
    n_dis = g["n_disadvantaged"].astype("float64")
    n_ref = g["n_reference"].astype("float64")
    return standard_error(g) / np.sqrt(1 / n_dis + 1 / n_ref)


def standardised_gap(g: pd.DataFrame) -> pd.Series:
    """A gap in pupil-level standard deviations (:func:`pupil_sd`), so that measures can be set side by side."""
    return g["gap"].astype(float) / pupil_sd(g)


def funnel_fit(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Each school's gap in one measure against the trust's, with funnel limits.

    Parameters
    ----------
    rows : DataFrame
        One results-model row per school (one key stage, one measure, in-school
        comparison); withheld rows are left out.

    Returns
    -------
    table : DataFrame
        The shown rows with ``limit95`` and ``limit998`` (half-widths around the
        centre at the school's number of disadvantaged pupils) and ``stands_out``:
        ``"larger"`` (gap above the 99.8% limit: disadvantaged pupils further
        behind than across the trust), ``"smaller"`` (below it) or None; ``beyond``: how far the gap
        lies from the centre in 99.8% half-widths (above 1: it stands out; the larger, the further).
    fit : dict
        ``centre`` (the trust's gap: schools' gaps weighted by disadvantaged
        pupils), ``sd`` (median pupil-level SD) and ``ratio`` (median other
        pupils per disadvantaged pupil): what the limits are drawn from.
    """
    t = rows[~rows["suppressed"].astype(bool) & rows["gap"].notna() & rows["n_disadvantaged"].notna()].copy()
    if t.empty:
        return (t.assign(limit95=[], limit998=[], stands_out=[], beyond=[]),
                {"centre": np.nan, "sd": np.nan, "ratio": np.nan})
    sd = float(np.nanmedian(pupil_sd(t)))
    ratio = float(np.median(t["n_reference"].astype(float) / t["n_disadvantaged"].astype(float)))
    k = t["n_disadvantaged"].to_numpy(float)
    centre = float(np.average(t["gap"].astype(float), weights=k))
    se = sd * np.sqrt(1 / k + 1 / (ratio * k))
    t["limit95"], t["limit998"] = Z95 * se, Z998 * se
    off = t["gap"].astype(float).to_numpy() - centre
    # numpy takes None as an object scalar (not an outlier); its stubs type only numbers and text
    t["stands_out"] = np.where(off > t["limit998"], "larger",
                               np.where(off < -t["limit998"], "smaller", None))  # type: ignore[call-overload]
    t["stands_out"] = t["stands_out"].astype(object).where(t["stands_out"].notna(), None)
    t["beyond"] = np.abs(off) / t["limit998"].to_numpy(float)
    return t, {"centre": centre, "sd": sd, "ratio": ratio}


def funnels(gaps: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, dict]]:
    """:func:`funnel_fit` of each key stage's funnel measure (:data:`FUNNEL_MEASURES`), latest year."""
    g = latest(gaps)
    out = {}
    for ks in sorted(g["key_stage"].unique()) if len(g) else []:
        m = FUNNEL_MEASURES.get(ks)
        rows = g[(g["key_stage"] == ks) & (g["measure"] == m)]
        if len(rows):
            out[ks] = funnel_fit(rows)
    return out


def _names(measures, most: int | None = None) -> str:
    names = [short_label(m) for m in sorted(set(measures), key=HEADLINE_MEASURES.index)]
    if most is not None and len(names) > most + 1:
        names = names[:most] + [f"{len(names) - most} more"]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 and most is not None else ", ".join(names)


def support_priorities(gaps: pd.DataFrame, *, every_school: bool = False) -> pd.DataFrame:
    """Where central support should go: every school with a concern, most concerns first, with the reasons.

    Parameters
    ----------
    gaps : DataFrame
        The trust's results model: every school's gap rows, with ``school_id``
        and ``school_name``.

    Returns
    -------
    DataFrame
        One row a school with at least one concern, in order: ``rank``,
        ``school_id``, ``school_name``, ``key_stages``, ``disadvantaged_pupils``
        (latest year, largest cohort of the headline rows), ``clear_gaps``,
        ``widening``, ``behind_national`` (measure names, comma-separated),
        ``stands_out`` (the funnel measure's name when the school's gap is larger
        than the trust's beyond chance), ``concerns`` and ``reason`` (in words).
        With ``every_school``, the schools without a concern follow, unranked, by name.
    """
    cols = ["rank", "school_id", "school_name", "key_stages", "disadvantaged_pupils", "clear_gaps", "widening",
            "behind_national", "stands_out", "concerns", "reason"]
    if gaps.empty:
        return pd.DataFrame(columns=cols)
    every = latest(gaps, comparison=None)
    every = every[every["measure"].isin(HEADLINE_MEASURES) & ~every["suppressed"].astype(bool)]
    clear = every[every["clear"].map(is_yes).astype(bool) & (every["gap"] > 0)]
    in_school = clear[clear["comparison"] == "in_school"]
    widening = in_school[in_school["trend"] == "widening"]
    national = clear[clear["comparison"] != "in_school"]
    larger: dict[str, list[str]] = {}
    for ks, (table, _) in funnels(gaps).items():
        for sid in table.loc[table["stands_out"] == "larger", "school_id"]:
            larger.setdefault(str(sid), []).append(FUNNEL_MEASURES[ks])
    pupils = every[every["comparison"] == "in_school"].groupby("school_id")["n_disadvantaged"].max()
    stages = gaps.groupby("school_id")["key_stage"].unique()
    # each school's rows looked up once (a trust of thousands: never a scan of the whole table a school)
    by = {name: dict(list(frame.groupby("school_id"))) for name, frame in
          (("c", in_school), ("w", widening), ("nat", national))}
    none = every.iloc[:0]
    rows = []
    for key, name in gaps.groupby("school_id")["school_name"].first().items():
        c, w, nat = by["c"].get(key, none)["measure"], by["w"].get(key, none), by["nat"].get(key, none)
        sid = str(key)
        out = larger.get(sid, [])
        concerns = c.nunique() + w["measure"].nunique() + nat["measure"].nunique() + STANDS_OUT_WEIGHT * len(out)
        if not concerns and not every_school:
            continue
        n = pupils.get(key)
        reasons = []
        if out:
            reasons.append(f"gap in {_names(out, 3)} larger than the trust's, beyond chance")
        if len(c):
            reasons.append(f"clear gap{'s' if c.nunique() > 1 else ''} in {_names(c, 3)}")
        if len(w):
            since = int(w["trend_from"].min()) if w["trend_from"].notna().any() else None
            reasons.append(f"widening in {_names(w['measure'], 3)}" + (f" since {since}" if since else ""))
        if len(nat):
            whom = " and ".join(comparator(x) for x in sorted(nat["comparison"].unique()))
            reasons.append(f"behind {whom} in {_names(nat['measure'], 3)}")
        if not concerns:
            reasons.append("no clear concern in the latest results")
        if n is not None and not pd.isna(n):
            reasons.append(f"{int(n)} disadvantaged pupil{'' if int(n) == 1 else 's'}")
        rows.append({"school_id": sid, "school_name": name,
                     "key_stages": ", ".join(sorted(map(str, stages.get(key, [])))),
                     "disadvantaged_pupils": None if n is None or pd.isna(n) else int(n),
                     "clear_gaps": _names(c), "widening": _names(w["measure"]),
                     "behind_national": _names(nat["measure"]), "stands_out": _names(out),
                     "concerns": int(concerns), "reason": "; ".join(reasons)})
    if not rows:
        return pd.DataFrame(columns=cols)
    t = pd.DataFrame(rows)
    t["_pupils"] = t["disadvantaged_pupils"].where(t["concerns"] > 0)  # schools without a concern: by name
    t = t.sort_values(["concerns", "_pupils", "school_name"], ascending=[False, False, True],
                      na_position="last", kind="stable").reset_index(drop=True)
    t["rank"] = pd.Series(np.arange(1, len(t) + 1), dtype="Int64").where(t["concerns"] > 0)
    return t[cols]


def heatmap_schools(matrix: pd.DataFrame, key_stage: str, *, first: list, standing: set, most: int) -> list:
    """The schools (``matrix``'s index) a key stage's heatmap draws, in order, largest gap first.

    Parameters
    ----------
    matrix : DataFrame
        Standardised gaps (:func:`standardised_gap`), schools by measures' short labels.
    key_stage : str
        Its funnel measure (:data:`FUNNEL_MEASURES`) orders the schools (else their mean gap).
    first : list
        School ids in the order of :func:`support_priorities`.
    standing : set
        School ids whose funnel gap stands out from the trust's, either way (:func:`funnels`).
    most : int
        Above this many schools only those that matter are kept: those standing out (always),
        then those the decision list puts first, at most ``most``.

    Returns
    -------
    list
        School ids to draw (every school when there are at most ``most``).
    """
    head = short_label(FUNNEL_MEASURES.get(key_stage, ""))
    key = matrix[head] if head in matrix else matrix.mean(axis=1)
    order = key.sort_values(ascending=False, na_position="last").index.tolist()
    if len(order) <= most:
        return order
    out_of_line = [s for s in order if s in standing][:most]  # either way: always drawn
    here = set(order)
    first_here = [s for s in first if s in here and s not in out_of_line]
    matter = set(out_of_line) | set(first_here[:most - len(out_of_line)])
    return [s for s in order if s in matter]

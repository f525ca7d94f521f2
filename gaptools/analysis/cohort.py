"""What a school's cohorts are and what sets their disadvantaged pupils apart (page 01's analysis).

- :func:`cohort_sizes`: each key stage and year's pupils and disadvantaged pupils.
- :func:`distinctive`: the characteristics where disadvantaged pupils differ most
  from the school's other pupils, from the (already protected) cohort profile.
- :func:`biggest_difference`: the value of one characteristic whose shares differ most.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: A share below this in both groups is too rare to call distinctive.
MIN_SHARE = 0.05
#: Distinctive: one group's share at least this many times the other's.
MIN_RATIO = 1.5


def cohort_sizes(pupils: pd.DataFrame, school_id: str) -> pd.DataFrame:
    """A row per key stage and year of the school: ``pupils`` and ``disadvantaged`` (counts, unprotected:
    the cohort size is public, a page shows the group sizes only where the profile shows them)."""
    rows = pupils[pupils["school_id"] == str(school_id)]
    dis = rows["disadvantaged"].astype(bool)
    out = (rows.assign(disadvantaged=dis).groupby(["key_stage", "year"], observed=True)["disadvantaged"]
           .agg(pupils="size", disadvantaged="sum").reset_index())
    out["key_stage"] = out["key_stage"].astype(str)
    out["year"] = out["year"].astype(int)
    out["pupils"], out["disadvantaged"] = out["pupils"].astype(int), out["disadvantaged"].astype(int)
    return out


def distinctive(profile: pd.DataFrame, limit: int = 5) -> pd.DataFrame | None:
    """The characteristics where one cohort's disadvantaged pupils differ most from its other pupils.

    Parameters
    ----------
    profile : DataFrame
        :func:`gaptools.cohort_profile` of one key stage and year.
    limit : int, default 5

    Returns
    -------
    DataFrame or None
        Indexed by ``characteristic`` and ``value``, with the two groups' shares
        (``disadvantaged``, ``other``), their ``ratio`` and ``score`` (how far
        apart, weighted by how common), most distinctive first; at most ``limit``
        rows whose shares differ by a ratio of :data:`MIN_RATIO` or more. None
        when the profile does not show both groups (one is empty or withheld).
        FSM (part of the definition of disadvantage), withheld groups, unknown
        values and the "no" side of an overlap are never called distinctive.
    """
    p = profile
    # FSM is part of the definition of disadvantage: trivially "distinctive"
    p = p[~p["characteristic"].isin(["all", "fsm"]) & ~p["suppressed"] & (p["value"] != "unknown")]
    p = p[~p["characteristic"].str.startswith("overlap") | (p["value"] == "yes")]
    wide = p.pivot_table(index=["characteristic", "value"], columns="group", values="pct", aggfunc="first")
    if not {"disadvantaged", "other"} <= set(wide.columns):
        return None
    wide = wide.dropna()
    wide = wide[(wide["disadvantaged"] >= MIN_SHARE) | (wide["other"] >= MIN_SHARE)]
    wide["ratio"] = (wide["disadvantaged"] + 1e-9) / (wide["other"] + 1e-9)
    wide["score"] = (np.abs(np.log(wide["ratio"].clip(1e-3, 1e3)))
                     * np.sqrt(wide[["disadvantaged", "other"]].max(axis=1)))
    return (wide[(wide["ratio"] >= MIN_RATIO) | (wide["ratio"] <= 1 / MIN_RATIO)]
            .sort_values("score", ascending=False).head(limit))


def biggest_difference(profile: pd.DataFrame, characteristic: str) -> tuple[str, float, float] | None:
    """The value of ``characteristic`` whose shares differ most between the groups: (value, share of
    disadvantaged pupils, share of other pupils); None when the profile does not show both groups."""
    rows = profile[(profile["characteristic"] == characteristic) & ~profile["suppressed"]
                   & (profile["value"] != "unknown")]
    wide = rows.pivot_table(index="value", columns="group", values="pct", aggfunc="first")
    if not {"disadvantaged", "other"} <= set(wide.columns) or wide.dropna().empty:
        return None
    wide = wide.dropna()
    v = (wide["disadvantaged"] - wide["other"]).abs().idxmax()
    return v, float(wide.loc[v, "disadvantaged"]), float(wide.loc[v, "other"])

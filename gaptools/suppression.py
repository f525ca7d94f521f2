"""Withhold figures for small groups, so that no pupil can be picked out.

Primary suppression withholds any figure about a group smaller than the
threshold (default 6; DfE withholds groups of 5 or fewer). Secondary
(complementary) suppression then withholds a second cell wherever one cell of
a split (e.g. sex=F / sex=M) is withheld but the whole-cohort figure is shown,
since the withheld one could otherwise be recovered from the whole and the
rest (n_total * mean_total = sum of n_i * mean_i).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 6
#: Figures nulled in a withheld row of a gap table.
WITHHELD = ("n_disadvantaged", "n_reference", "mean_disadvantaged", "mean_reference", "gap",
            "ci_low", "ci_high", "significant")
WITHHELD_DETAIL = ("sd_disadvantaged", "sd_reference", "se", "p_value", "q_value",
                   "effect_size", "clear")


def suppress_gaps(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Mark and blank the rows of a gap table that would disclose a small group.

    Rows are withheld when either group has fewer than ``threshold`` pupils,
    in every comparison that shows that group, then complementary cells are
    withheld within each split.
    """
    t = table
    n_dis = t["n_disadvantaged"].astype("float64")
    n_ref = t["n_reference"].astype("float64")
    small = (n_dis < threshold) | (n_ref.notna() & (n_ref < threshold))
    cell = ["school_id", "key_stage", "year", "measure", "subgroup_key"]
    t = t.assign(subgroup_key=t["subgroup"].fillna(""), _small=small)
    # the in-school row's reference group also stands behind the national row of the same cell
    t["_small"] = t.groupby(cell, sort=False)["_small"].transform("max")
    t["_split"] = t["subgroup_key"].str.split("=").str[0]
    split_keys = ["school_id", "key_stage", "year", "measure", "comparison", "_split"]
    whole = t[t["subgroup_key"] == ""].set_index(["school_id", "key_stage", "year", "measure",
                                                  "comparison"])["_small"]
    sub = t[t["subgroup_key"] != ""]
    if len(sub):
        whole_small = sub.join(whole.rename("_whole_small"),
                               on=["school_id", "key_stage", "year", "measure", "comparison"])["_whole_small"]
        n_small = sub.groupby(split_keys, sort=False)["_small"].transform("sum")
        size = np.fmin(sub["n_disadvantaged"].astype("float64"),
                       sub["n_reference"].astype("float64").fillna(np.inf))
        # exactly one withheld cell beside a shown whole: withhold the smallest other cell too
        need = (n_small == 1) & ~whole_small.fillna(True).astype(bool)
        cand = sub[need & ~sub["_small"]].assign(_size=size)
        if len(cand):
            pick = cand.sort_values("_size", kind="stable").groupby(split_keys, sort=False).head(1).index
            t.loc[pick, "_small"] = True
        # keep the withheld cells consistent across comparisons of the same cell
        t["_small"] = t.groupby(cell, sort=False)["_small"].transform("max")
    t["suppressed"] = t["_small"].astype(bool)
    cols = [c for c in (*WITHHELD, *WITHHELD_DETAIL) if c in t.columns]
    for c in cols:
        if t[c].dtype == bool:
            t[c] = t[c].astype("object")
        t.loc[t["suppressed"], c] = None
    return t.drop(columns=["subgroup_key", "_small", "_split"])

"""The targeted pupils across the year: catching up with their peers, holding, or falling behind.

The pupils a school chose to focus on (its pupil list, ``targets.csv``, or any
list of ids) against their peers in the same school, year group and subject:
how far behind they are at each data drop, and how that has changed since the
year's first drop over the pupils assessed at both, in standard deviations of
the subject's scores. A verdict is given only when the change is clear after
false-discovery control across the school's comparisons at that drop; small
groups are withheld with the one mechanism.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.suppression import DEFAULT_THRESHOLD, TOO_FEW_OTHERS, protect
from .in_year import UNIT, with_changes
from .stats import bh_qvalues, welch

#: Why a targeted row is withheld, besides too few peers.
TOO_FEW_TARGETED = "too_few_targeted"
CATCHING_UP, HOLDING, FALLING_BEHIND = "catching up", "holding", "falling behind"
FIELDS = ["school_id", "year_group", "subject", "drop", "drop_date", "drop_index", "n_targeted", "n_peers",
          "behind_sd", "behind_ci_low", "behind_ci_high", "change_sd", "change_ci_low", "change_ci_high",
          "change_q_value", "verdict", "withheld_reason"]


def targeted_progress(assessments: pd.DataFrame, targeted, *, threshold: int = DEFAULT_THRESHOLD,
                      fdr: float = 0.05) -> pd.DataFrame:
    """The targeted pupils against their peers at every drop.

    Parameters
    ----------
    assessments : DataFrame
        From :func:`gaptools.load_assessments`.
    targeted : iterable of str
        The targeted pupils' ids (:func:`gaptools.io.assessments.read_pupil_list`
        reads them from a ``targets.csv``).
    threshold : int, default 6
    fdr : float, default 0.05

    Returns
    -------
    DataFrame
        One row per school, year group, subject and drop where any targeted
        pupil was assessed: ``n_targeted``, ``n_peers``; ``behind_sd`` (peers'
        mean minus the targeted pupils', in SDs of the subject's scores:
        positive = behind) with its 95% interval; ``change_sd`` (how that has
        changed since the first drop, same pupils: negative = catching up) with
        interval and q-value; ``verdict`` (``catching up``, ``holding``: no
        clear change either way, ``falling behind``; null at the first drop);
        ``withheld_reason``.
    """
    ids = {str(i).strip() for i in targeted if i is not None and str(i).strip()}
    a, order = with_changes(assessments)
    a["targeted"] = a["pupil_id"].astype(str).isin(ids)
    keys = UNIT + ["drop_index"]
    g = a.groupby(keys + ["targeted"], sort=False).agg(
        n=("score", "size"), mean=("score", "mean"), var=("score", "var"),
        cn=("change", "count"), cmean=("change", "mean"), cvar=("change", "var"), unit_sd=("unit_sd", "first"))
    w = g.unstack("targeted")
    if ("n", True) not in w.columns:  # no targeted pupil was assessed
        return pd.DataFrame(columns=FIELDS)
    t = pd.DataFrame(index=w.index)
    for col in ("n", "mean", "var", "cn", "cmean", "cvar"):
        for flag, suffix in ((True, "_t"), (False, "_p")):
            t[col + suffix] = w[(col, flag)] if (col, flag) in w.columns else np.nan
    t["unit_sd"] = w["unit_sd"].max(axis=1)
    t = t[t["n_t"].fillna(0) > 0].reset_index()
    for c in ("n_t", "n_p", "cn_t", "cn_p"):
        t[c] = t[c].fillna(0)
    sd = t["unit_sd"].to_numpy(float)
    gap = welch(t["mean_p"], np.sqrt(t["var_p"]), t["n_p"], t["mean_t"], np.sqrt(t["var_t"]), t["n_t"])
    ch = welch(t["cmean_p"], np.sqrt(t["cvar_p"]), t["cn_p"], t["cmean_t"], np.sqrt(t["cvar_t"]), t["cn_t"])
    k = len(t)
    rows = np.arange(k)
    n_t, n_p = t["n_t"].to_numpy(float), t["n_p"].to_numpy(float)
    # targeted and peers are the two parts of the year group's pupils (whose number is known)
    hidden = protect(np.r_[n_t, n_p, n_t + n_p], np.r_[rows, rows, np.full(k, -1)], 2 * k + rows,
                     np.r_[rows, rows], np.r_[rows, k + rows], (n_t < threshold) | (n_p < threshold), threshold,
                     public=np.r_[np.zeros(2 * k, dtype=bool), np.ones(k, dtype=bool)])
    reason = np.full(k, None, dtype=object)
    reason[hidden & (n_p < threshold)] = TOO_FEW_OTHERS
    reason[hidden & (n_t < threshold)] = TOO_FEW_TARGETED
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, res in (("behind", gap), ("change", ch)):
            t[f"{name}_sd"] = res["diff"] / sd
            t[f"{name}_ci_low"] = res["low"] / sd
            t[f"{name}_ci_high"] = res["high"] / sd
    usable = ~hidden & (t["drop_index"].to_numpy() > 0) & (t["cn_t"].to_numpy() >= threshold) \
        & (t["cn_p"].to_numpy() >= threshold) & (sd > 0)
    for c in ("change_sd", "change_ci_low", "change_ci_high"):
        t[c] = t[c].where(usable)
    for c in ("behind_sd", "behind_ci_low", "behind_ci_high"):
        t[c] = t[c].where(~hidden & (sd > 0))
    family = pd.factorize(pd.MultiIndex.from_frame(t[["school_id", "drop_index"]]))[0]
    t["change_q_value"] = bh_qvalues(np.where(usable, ch["p"], np.nan), family)
    clear = (t["change_q_value"] < fdr).to_numpy()
    verdict = np.where(clear & (t["change_sd"] < 0), CATCHING_UP,
                       np.where(clear & (t["change_sd"] > 0), FALLING_BEHIND, HOLDING)).astype(object)
    # numpy takes None as an object scalar (no verdict); its stubs type only numbers and text
    t["verdict"] = np.where(usable, verdict, None)  # type: ignore[call-overload]
    t["withheld_reason"] = reason
    t["n_targeted"] = t["n_t"].astype("Int64").mask(hidden)
    t["n_peers"] = t["n_p"].astype("Int64").mask(hidden)
    t = t.merge(order[UNIT + ["drop_index", "drop", "drop_date"]], on=keys)
    for c in ("verdict", "withheld_reason"):
        t[c] = t[c].astype(object).where(t[c].notna(), None)
    return t.sort_values(keys, kind="stable")[FIELDS].reset_index(drop=True)


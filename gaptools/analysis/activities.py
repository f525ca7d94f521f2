"""Did an activity work? Its participants against the school's own comparable non-participants.

Schools choose the pupils who are behind for an activity, so a raw difference
between participants and the rest is badly biased against every activity. The
estimate here is regression adjustment on what was known before the activity:
within one school, results year and key stage, an ordinary least squares fit of
the outcome on taking part, prior attainment (and its square), disadvantage,
SEN and attendance (not where attendance is the outcome). The coefficient of
taking part is the effect: participants' outcome minus what comparable
non-participants achieved, in the measure's units, with an HC2 robust 95%
interval on Student's t with the fit's residual degrees of freedom (the same
numbers as statsmodels' ``OLS(...).fit(cov_type="HC2", use_t=True)``; the tests
check it). Where sessions are recorded, the same estimate for participants who
attended at least 70% of their sessions is a secondary line, never the claim.

Nothing is a finding unless its interval excludes zero after Benjamini-Hochberg
control across the school's activities (``clear``); every row says how large an
effect its numbers could have detected (``mde``, in SD of the measure).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.columns import GRADE_PREFIX
from ..domain.measures import STANDARD_MEASURES, Measure, custom_measures, grade_measure
from ..domain.registry import attendance_score
from ..domain.suppression import DEFAULT_THRESHOLD
from .gaprows import ATTENDANCE_MEASURES  # (attendance is then the outcome, not something to adjust for)
from .stats import bh_qvalues

#: Attendance of at least this share of planned sessions counts as taking part as planned.
PER_PROTOCOL_SHARE = 0.7
#: Why an activity row is withheld (``withheld_reason``; None when shown).
TOO_FEW_PARTICIPANTS = "too_few_participants"
TOO_FEW_COMPARISON = "too_few_comparison"
NO_COMPARISON_GROUP = "no_comparison_group"
NO_PRIOR_ATTAINMENT = "no_prior_attainment"
NO_OUTCOME = "no_outcome"
ACTIVITY_WITHHELD_REASONS = (TOO_FEW_PARTICIPANTS, TOO_FEW_COMPARISON, NO_COMPARISON_GROUP,
                             NO_PRIOR_ATTAINMENT, NO_OUTCOME)
METHOD = "regression adjustment (OLS, HC2 robust interval)"
#: The fields of a row (results.json ``activities``, data contract §3).
ACTIVITY_FIELDS = ["school_id", "year", "key_stage", "activity", "tier", "measure", "label", "unit", "kind",
                   "higher_is_better", "n_listed", "n_not_found", "n_participants", "n_comparison", "effect",
                   "effect_size", "ci_low", "ci_high", "mde", "p_value", "q_value", "clear", "raw_difference",
                   "method", "adjusted_for", "balance", "pp_n", "pp_effect", "pp_ci_low", "pp_ci_high", "cost",
                   "withheld_reason"]


def adjusted_effect(y: np.ndarray, treated: np.ndarray, covariates: np.ndarray, level: float = 0.95) -> dict:
    """OLS of ``y`` on an intercept, ``treated`` and ``covariates``: the coefficient of ``treated``.

    Covariate columns that are constant or a combination of the others are
    left out (as a person would leave out a characteristic no pupil varies in).

    Returns
    -------
    dict
        ``effect``, ``se`` (HC2), ``df`` (n minus parameters), ``low``, ``high``, ``p``; NaN where
        the fit has no residual degrees of freedom.
    """
    from scipy import special

    n = len(y)
    z = np.column_stack([np.ones(n), treated.astype(float), covariates]) if covariates.size else \
        np.column_stack([np.ones(n), treated.astype(float)])
    z = z[:, _independent(z)]
    p = z.shape[1]
    nan = {"effect": np.nan, "se": np.nan, "df": np.nan, "low": np.nan, "high": np.nan, "p": np.nan}
    if p < 2 or n - p < 1:
        return nan
    q, r = np.linalg.qr(z)
    beta = np.linalg.solve(r, q.T @ y)
    resid = y - z @ beta
    h = np.einsum("ij,ij->i", q, q)  # leverages
    # row 1 of (Z'Z)^-1 Z' = row 1 of R^-1 Q'
    a = np.linalg.solve(r, q.T)[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # a pupil the fit passes through exactly (the only one with an EHC plan, say) has no weight in the
        # effect (a = 0) and no residual: its term is 0, not 0/0
        d = np.where(h > 1 - 1e-9, 0.0, a ** 2 / (1 - h))
        var = float(np.sum(d * resid ** 2))
        # Bell-McCaffrey degrees of freedom (Satterthwaite, for the HC2 variance under constant variance):
        # with few participants the variance rests on few pupils, and n - p would overstate what is known
        qdq = q.T @ (d[:, None] * q)
        df = float(np.sum(a ** 2) ** 2 / (np.sum(d ** 2 * (1 - 2 * h)) + np.sum(qdq ** 2)))
    se = np.sqrt(var)
    t = special.stdtrit(df, 0.5 + level / 2)
    effect = float(beta[1])
    pval = float(2 * special.stdtr(df, -abs(effect / se))) if se > 0 else (1.0 if effect == 0 else 0.0)
    return {"effect": effect, "se": se, "df": df, "low": effect - t * se, "high": effect + t * se, "p": pval}


def _independent(z: np.ndarray) -> np.ndarray:
    """Columns of ``z`` to keep: the first two always, then each that adds a dimension to those before it."""
    r = np.linalg.qr(z, mode="r")
    norms = np.sqrt((z ** 2).sum(axis=0))
    keep = (np.abs(np.diag(r)) > 1e-9 * np.maximum(norms, 1e-300)) & (norms > 0)
    keep[:2] = True
    return np.flatnonzero(keep)


def _floats(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


class _Pupils:
    """The pupil table as arrays, made once: what each estimate reads, with no pandas in the loop."""

    def __init__(self, pupils: pd.DataFrame):
        self.frame = pupils
        self.key_stage = (pupils["key_stage"].astype("string").fillna("") if "key_stage" in pupils.columns
                          else pd.Series("", index=pupils.index)).to_numpy(dtype=object)
        prior = _floats(pupils, "prior_attainment")
        self.has_prior = ~np.isnan(prior)
        c = np.nan_to_num(prior - 100.0)
        # (centred anywhere: beside an intercept and the linear term, the square's centre does not change the fit)
        self.prior = np.column_stack([c, c ** 2 / 10])
        base, self.base_names = [np.zeros((len(pupils), 0))], []
        if "disadvantaged" in pupils.columns:
            base.append(pupils["disadvantaged"].astype("boolean").fillna(False).to_numpy(dtype=float)[:, None])
            self.base_names.append("disadvantage")
        if "sen" in pupils.columns:
            base.append(_sen_columns(pupils["sen"]))
            self.base_names.append("SEN")
        self.base = np.hstack(base)
        att = _floats(pupils, attendance_score())
        known = ~np.isnan(att)
        # a pupil whose attendance is not known gets an indicator, not left out (the value filled in is absorbed by it)
        self.attendance = np.column_stack([np.where(known, att - 95.0, 0.0), (~known).astype(float)]) \
            if known.any() else None
        self._outcomes: dict[str, np.ndarray] = {}

    def outcome(self, name: str) -> np.ndarray:
        if name not in self._outcomes:
            self._outcomes[name] = _floats(self.frame, name)
        return self._outcomes[name]

    def covariates(self, rows: np.ndarray, measure: str) -> tuple[np.ndarray, list[str]]:
        """What the estimate adjusts for: prior attainment (and its square), disadvantage, SEN (support, EHC
        plan, not known) and attendance (and not known), unless attendance is the outcome."""
        parts, names = [self.prior[rows], self.base[rows]], ["prior attainment", *self.base_names]
        if self.attendance is not None and measure not in ATTENDANCE_MEASURES:
            parts.append(self.attendance[rows])
            names.append("attendance")
        return np.hstack(parts), names


def _sen_columns(sen: pd.Series) -> np.ndarray:
    """SEN as indicators: support (K), EHC plan (E) and not known; a yes/no SEN column as one indicator."""
    if pd.api.types.is_bool_dtype(sen.dtype) or pd.api.types.is_numeric_dtype(sen.dtype):
        values = pd.to_numeric(sen.astype("Float64"), errors="coerce")
        return np.column_stack([values.fillna(0).to_numpy(dtype=float), values.isna().to_numpy(dtype=float)])
    text = sen.astype("string").str.strip().str.upper()
    return np.column_stack([(text == v).fillna(False).to_numpy(dtype=float) for v in ("K", "E")]
                           + [text.isna().to_numpy(dtype=float)])


def _measure(pupils: pd.DataFrame, name: str) -> Measure:
    """The measure ``name``: declared in the mapping, standard, a GCSE grade, or else an outcome column
    of the table as it is (a score, or a rate if it holds yes/no)."""
    custom = custom_measures(pupils)
    if name in custom:
        return custom[name]
    if name in STANDARD_MEASURES or name.startswith(GRADE_PREFIX):
        return STANDARD_MEASURES.get(name) or grade_measure(name)
    rate = name in pupils.columns and pd.api.types.is_bool_dtype(pupils[name].dtype)
    return Measure(name, name.replace("_", " "), "rate" if rate else "score", "%" if rate else "points", True)


def _smd(x: np.ndarray, treated: np.ndarray) -> float:
    """Largest absolute standardised difference between participants and comparison pupils, over columns."""
    a, b = x[treated], x[~treated]
    sd = np.sqrt((a.var(axis=0, ddof=1) + b.var(axis=0, ddof=1)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(a.mean(axis=0) - b.mean(axis=0)) / sd
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else 0.0


def _one(data: _Pupils, rows: np.ndarray, taking: np.ndarray, compliers: np.ndarray | None, measure,
         threshold: int) -> dict:
    """The row of one activity and measure in one school, year and key stage (``rows`` of ``data``)."""
    from scipy import special

    y = data.outcome(measure.name)[rows]
    known = ~np.isnan(y)
    x, names = data.covariates(rows, measure.name)
    row: dict = {"n_participants": int((taking & known).sum()), "n_comparison": int((~taking & known).sum()),
                 "adjusted_for": ", ".join(names), "method": METHOD}
    if row["n_participants"] == 0:
        return {**row, "withheld_reason": NO_OUTCOME}
    if row["n_comparison"] == 0:
        return {**row, "withheld_reason": NO_COMPARISON_GROUP}
    if row["n_participants"] < threshold:
        return {**row, "n_participants": None, "n_comparison": None, "withheld_reason": TOO_FEW_PARTICIPANTS}
    if row["n_comparison"] < threshold:
        return {**row, "n_participants": None, "n_comparison": None, "withheld_reason": TOO_FEW_COMPARISON}
    use = known & data.has_prior[rows]
    n_t, n_c = int((taking & use).sum()), int((~taking & use).sum())
    if n_t < threshold or n_c < threshold:
        return {**row, "withheld_reason": NO_PRIOR_ATTAINMENT}
    yy, tt, xx = y[use], taking[use], x[use]
    fit = adjusted_effect(yy, tt, xx)
    if np.isnan(fit["se"]):  # no interval can be had (too few pupils for what is adjusted for): said as such
        return {**row, "n_participants": None, "n_comparison": None, "withheld_reason": TOO_FEW_COMPARISON}
    sd = float(np.std(y[known], ddof=1))
    power = special.stdtrit(fit["df"], 0.975) + special.stdtrit(fit["df"], 0.8)
    row.update(n_participants=n_t, n_comparison=n_c, effect=fit["effect"], ci_low=fit["low"], ci_high=fit["high"],
               p_value=fit["p"], effect_size=fit["effect"] / sd if sd > 0 else np.nan,
               mde=power * fit["se"] / sd if sd > 0 else np.nan,
               raw_difference=float(yy[tt].mean() - yy[~tt].mean()),
               balance=_smd(np.delete(xx, 1, axis=1), tt), withheld_reason=None)  # (not the square of prior attainment)
    if compliers is not None:
        keep = use & (compliers | ~taking)
        n_pp = int((compliers & keep).sum())
        row["pp_n"] = n_pp if n_pp >= threshold else None
        if n_pp >= threshold:
            pp = adjusted_effect(y[keep], compliers[keep], x[keep])
            row.update(pp_effect=pp["effect"], pp_ci_low=pp["low"], pp_ci_high=pp["high"])
    return row


def activity_impact(pupils: pd.DataFrame, activities, *, school_id: str | None = None,
                    threshold: int = DEFAULT_THRESHOLD, fdr: float = 0.05) -> pd.DataFrame:
    """The effect of each activity on the outcome it aimed at, against comparable pupils in the same school.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`.
    activities : DataFrame or path
        The activity register, from :func:`gaptools.load_activities` (a path is
        loaded with it; a plain DataFrame is checked as a register first).
    school_id : str, optional
        Only this school's activities.
    threshold : int, default 6
        Fewer participants (or comparison pupils) than this: the row is withheld.
    fdr : float, default 0.05
        False discovery rate for ``clear``, Benjamini-Hochberg across each school's activities.

    Returns
    -------
    DataFrame
        One row per school, results year, key stage, activity and measure, with
        the columns :data:`ACTIVITY_FIELDS` (data contract §3, ``activities``):
        ``effect`` (participants minus comparable non-participants, in the
        measure's units; a rate in proportions 0-1), ``effect_size`` (in SD of
        the measure in that school, year and key stage), ``ci_low``/``ci_high``
        (95%), ``mde`` (the smallest effect, in SD, these numbers had an 80%
        chance of detecting at 5% two-sided), ``clear``, ``raw_difference``
        (participants minus all non-participants, unadjusted: how biased a raw
        comparison is), ``balance`` (the largest standardised difference between
        participants and comparison pupils, before adjustment, in what the
        estimate adjusts for), ``pp_*`` (pupils who attended at least 70% of
        planned sessions: a secondary line) and ``withheld_reason``.
    """
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.activities import FILE, check_register, load_activities

    register = activities if isinstance(activities, pd.DataFrame) and FILE in activities.columns \
        else load_activities(activities)
    said = set(register.attrs.get("gaptools_warnings", []))  # (load_activities warned of these already)
    for note in check_register(register, pupils):
        if note not in said:
            warnings.warn(note, GaptoolsWarning, stacklevel=2)
    if school_id is not None:
        register = register[register["school_id"] == str(school_id)]
    register = register.reset_index(drop=True)
    mine = pupils[pupils["school_id"].astype(str).isin(set(register["school_id"].astype(str)))].reset_index(drop=True)
    data = _Pupils(mine)
    as_keys = {"school_id": str, "year": "int64", "pupil_id": str}
    cohort_of = pd.MultiIndex.from_frame(mine[["school_id", "year"]].astype({"school_id": str, "year": "int64"}))
    codes, cohorts = pd.factorize(cohort_of)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(cohorts) + 1))
    reg_keys = register[["school_id", "year", "pupil_id"]].astype(as_keys)
    where = pd.MultiIndex.from_frame(mine[["school_id", "year", "pupil_id"]].astype(as_keys)).get_indexer(
        pd.MultiIndex.from_frame(reg_keys))
    cohort_at = pd.Index(cohorts).get_indexer(pd.MultiIndex.from_frame(reg_keys[["school_id", "year"]])) \
        if len(cohorts) else np.full(len(register), -1)
    share = None
    if {"sessions_planned", "sessions_attended"} <= set(register.columns):
        planned = pd.to_numeric(register["sessions_planned"], errors="coerce")
        share = (pd.to_numeric(register["sessions_attended"], errors="coerce") / planned.where(planned > 0)) \
            .to_numpy(dtype=float, na_value=np.nan)
    costs = pd.to_numeric(register["cost"], errors="coerce").to_numpy(dtype=float, na_value=np.nan) \
        if "cost" in register.columns else np.full(len(register), np.nan)
    tiers = register["tier"].astype(object).to_numpy() if "tier" in register.columns else np.full(len(register), None)
    flag = np.zeros(len(mine), dtype=bool)  # the pupils of the activity in hand (set and cleared each time)
    complied = np.zeros(len(mine), dtype=bool)
    rows = []
    groups = register.groupby(["school_id", "year", "activity", "measure"], sort=False).indices
    for (sid, year, activity, measure_name), idx in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        c = cohort_at[idx[0]]
        if c < 0:  # results not in yet (check_register said so)
            continue
        measure = _measure(pupils, measure_name)
        cohort = order[bounds[c]:bounds[c + 1]]
        at = where[idx]
        found = at >= 0
        flag[at[found]] = True
        on_plan = share is not None and not np.isnan(share[idx]).all()
        if on_plan:
            assert share is not None  # (on_plan says so)
            complied[at[found]] = np.nan_to_num(share[idx][found]) >= PER_PROTOCOL_SHARE
        stages = data.key_stage[cohort]
        taking = flag[cohort]
        known_tiers = [t for t in tiers[idx] if t is not None and not pd.isna(t)]
        for ks in sorted(set(stages[taking])) or sorted(set(stages))[:1]:
            part = cohort[stages == ks]
            row = _one(data, part, flag[part], complied[part] if on_plan else None, measure, threshold)
            small = row.get("withheld_reason") in (TOO_FEW_PARTICIPANTS, TOO_FEW_COMPARISON)
            rows.append({"school_id": str(sid), "year": int(year), "key_stage": ks or None, "activity": str(activity),
                         "tier": known_tiers[0] if known_tiers else None, "measure": measure.name,
                         "label": measure.label, "unit": measure.unit, "kind": measure.kind,
                         "higher_is_better": bool(measure.higher_is_better),
                         "n_listed": None if small else len(idx), "n_not_found": None if small else int((~found).sum()),
                         "cost": float(np.nansum(costs[idx])) if not np.isnan(costs[idx]).all() else None, **row})
        flag[at[found]] = False
        complied[at[found]] = False
    out = pd.DataFrame(rows, columns=ACTIVITY_FIELDS)
    for c in ("n_listed", "n_not_found", "n_participants", "n_comparison", "pp_n"):
        out[c] = out[c].astype("Int64")
    for c in ("effect", "effect_size", "ci_low", "ci_high", "mde", "p_value", "raw_difference", "balance",
              "pp_effect", "pp_ci_low", "pp_ci_high", "cost"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["q_value"] = bh_qvalues(out["p_value"].to_numpy(), out["school_id"].to_numpy())
    excludes = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    out["clear"] = pd.array(np.where(out["p_value"].isna(), None, (out["q_value"] < fdr) & excludes),
                            dtype="boolean")
    out["withheld_reason"] = out["withheld_reason"].astype(object).where(out["withheld_reason"].notna(), None)
    out["tier"] = out["tier"].astype(object).where(out["tier"].notna(), None)
    return out.reset_index(drop=True)

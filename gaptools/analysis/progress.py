"""Value added against pupils with similar prior attainment in a reference population."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.measures import as_floats
from ..domain.progress8 import group_row
from ..domain.reference import p8_estimates
from ..domain.registry import value_added as value_added_of
from .groupstats import pack
from .trustcontext import context_of

#: Score measures that get a trust-relative value added, with its label, from the registry
#: (the glossary on every page says what trust-relative value added is).
VALUE_ADDED = value_added_of()


def value_added(pupils: pd.DataFrame, measures=tuple(VALUE_ADDED), *, reference: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """Trust-relative value added: outcome minus the mean outcome of pupils in
    the same DfE prior-attainment group, key stage and year of the reference population.

    Parameters
    ----------
    pupils : DataFrame
        Pupils to score (need ``prior_attainment``).
    measures : sequence of str
        Outcome columns.
    reference : DataFrame, optional
        The population that sets expectations; default ``pupils`` (the trust),
        or for a school's rows read with the trust's context
        (:func:`gaptools.io.byschool.read_school`) the trust they were read from.
        It is not a national benchmark, and everything shown from it says so.

    Returns
    -------
    DataFrame
        One ``va_<measure>`` column per measure, aligned with ``pupils``.
    """
    if reference is None and (ctx := context_of(pupils)) is not None:
        given = ctx.value_added(pupils, measures)  # worked out once for the whole trust
        if given is not None:
            return given
    same = reference is None or reference is pupils
    reference = pupils if reference is None else reference
    out = pd.DataFrame(index=pupils.index)
    if "prior_attainment" not in pupils.columns or "prior_attainment" not in reference.columns:
        return out
    _, est = p8_estimates(None)
    # one id per key stage, year and prior-attainment group, shared by both tables
    frames = [reference] if same else [reference, pupils]

    def joined(col):
        return frames[0][col] if same else pd.concat([f[col] for f in frames], ignore_index=True)

    ks, yr = pd.factorize(joined("key_stage"))[0], pd.factorize(joined("year"))[0]
    grp = np.concatenate([group_row(f["prior_attainment"], est) for f in frames])
    key = pack(ks, yr, grp)
    key[(ks < 0) | (yr < 0) | (grp < 0)] = -1
    n_ref = len(reference)
    ref_key, own_key = key[:n_ref], (key[:n_ref] if same else key[n_ref:])
    slots = int(key.max(initial=-1)) + 2  # the last slot collects pupils with no group
    ref_slot, own_slot = np.where(ref_key < 0, slots - 1, ref_key), np.where(own_key < 0, slots - 1, own_key)
    for m in measures:
        if m not in pupils.columns or m not in reference.columns:
            continue
        y_ref = as_floats(reference[m])
        use = ~np.isnan(y_ref) & (ref_key >= 0)
        total = np.bincount(ref_slot[use], weights=y_ref[use], minlength=slots)
        count = np.bincount(ref_slot[use], minlength=slots)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.where(count > 0, total / count, np.nan)
        expected[-1] = np.nan
        out[f"va_{m}"] = (y_ref if same else as_floats(pupils[m])) - expected[own_slot]
    return out


def without_prior_known(r: dict, labels: list, names: list[str], by_unit: np.ndarray, n_units: int
                        ) -> np.ndarray | None:
    """Which prior-band splits' unknown cells (pupils without KS2 results) a gap table's value-added
    rows give the size of.

    ``r`` and ``labels`` are the gap table's in-school rows and subgroup texts
    (``unit``, ``block``, ``label``, ``measure``, ``n_dis``, ``n_ref``), ``names``
    its measures, ``by_unit`` each pupil's unit and group (``2 * unit + disadvantaged``).

    A value-added count is the pupils with KS2 results and the outcome: beside the outcome's
    own count it gives those without KS2 results; and where the outcome is every pupil's (its
    count is the group's size), so does it for every other measure every pupil has. Indexed
    as :func:`gaptools.analysis.withholding.withhold` reads it (None: no prior-band split or no value added).
    """
    prior = [i for i, lb in enumerate(labels) if lb is not None and lb.startswith("prior_band=")]
    va = [(names.index(m), names.index(m[3:])) for m in names if m.startswith("va_") and m[3:] in names]
    if not prior or not va:
        return None
    in_prior = np.isin(r["label"], prior)
    if not in_prior.any():
        return None
    n_measures = len(names)
    prior_block = int(r["block"][in_prior][0])
    whole = r["block"] == 0
    n = np.zeros((n_units, n_measures, 2))  # whole-cohort counts: other (0), disadvantaged (1)
    n[r["unit"][whole], r["measure"][whole], 0] = r["n_ref"][whole]
    n[r["unit"][whole], r["measure"][whole], 1] = r["n_dis"][whole]
    size = np.bincount(by_unit, minlength=2 * n_units).reshape(n_units, 2)
    complete = n == size[:, None, :]
    known = np.zeros((n_units, n_measures, 2), dtype=bool)
    for v, outcome in va:
        counted = n[:, v, :] > 0
        known[:, outcome, :] |= counted
        known |= (counted & complete[:, outcome, :])[:, None, :] & complete
    n_blocks = int(r["block"].max()) + 1
    out = np.zeros(n_units * n_measures * n_blocks * 2, dtype=bool)
    um = np.arange(n_units * n_measures)
    for g, group in ((0, 1), (1, 0)):  # the gap table's group 0 is the disadvantaged cell
        out[(um * n_blocks + prior_block) * 2 + g] = known[:, :, group].ravel()
    return out

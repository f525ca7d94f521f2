"""Value added against pupils with similar prior attainment in a reference population."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.labels import DERIVED_LABELS
from ..domain.measures import as_floats
from ..domain.progress8 import group_row
from ..domain.reference import p8_estimates
from .groupstats import pack

#: Score measures that get a trust-relative value added, labelled from the one label table
#: (the glossary on every page says what trust-relative value added is).
VALUE_ADDED = {m: DERIVED_LABELS[f"va_{m}"] for m in ("grade_english", "grade_maths", "attainment8")}


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
        The population that sets expectations; default ``pupils`` (the trust).
        It is not a national benchmark, and everything shown from it says so.

    Returns
    -------
    DataFrame
        One ``va_<measure>`` column per measure, aligned with ``pupils``.
    """
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

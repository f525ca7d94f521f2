"""The trust's context of a school's rows: value added and gap-index ranks worked out once for the whole trust.

A school's rows read from a run's table by school (:func:`gaptools.io.byschool.read_school`)
carry, in ``attrs``, what the whole trust gives them: value added against the trust's pupils
and each pupil's rank in the trust for the gap index. :func:`gaptools.value_added` and
:func:`gaptools.gap_index` use it for those rows, so one school's rows give the figures the whole
table gives. Only rows as they were read count: a row changed since (or one from elsewhere)
finds no context, and the figures are then worked out within the rows given, with a warning.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..domain.registry import gap_index_measures, value_added
from ..errors import GaptoolsWarning
from ..io.byschool import ATTR, TrustContext

#: A row's identity in the trust table (unique in a validated table).
KEY_COLUMNS = ("school_id", "key_stage", "year", "pupil_id")
#: What value added and the gap index's rank of a row are worked out from.
VALUE_COLUMNS = ("prior_attainment", *dict.fromkeys([*value_added(), *gap_index_measures("KS4"),
                                                      *gap_index_measures("KS2")]))
#: The gap index's percentile rank of a pupil in the context.
RANK = "index_rank"


def key_columns(pupils: pd.DataFrame) -> list[str]:
    """The columns a row key of ``pupils`` covers: its identity and the values its context depends on."""
    return [c for c in KEY_COLUMNS + VALUE_COLUMNS if c in pupils.columns]


def row_keys(pupils: pd.DataFrame, columns) -> np.ndarray:
    """A 64-bit key of each row's identity and values (the same however the table's types are stored)."""
    parts = {c: (pupils[c].astype(str).to_numpy(dtype=object) if c in ("school_id", "key_stage", "pupil_id")
                 else pupils[c].to_numpy(dtype="float64", na_value=np.nan)) for c in columns}
    return pd.util.hash_pandas_object(pd.DataFrame(parts, index=pupils.index), index=False).to_numpy()


@dataclass
class RowsContext:
    """The trust's figures for the rows of one table, aligned with it."""

    values: pd.DataFrame
    reference: str  # the gap index's population: 'trust', or 'school' where one school has scores

    def value_added(self, pupils: pd.DataFrame, measures) -> pd.DataFrame | None:
        """:func:`gaptools.value_added` of the rows (None if a measure asked for has no context)."""
        out = pd.DataFrame(index=pupils.index)
        if "prior_attainment" not in pupils.columns:
            return out
        for m in measures:
            if m not in pupils.columns:
                continue
            if f"va_{m}" not in self.values.columns:
                return None
            out[f"va_{m}"] = self.values[f"va_{m}"].to_numpy(dtype="float64")
        return out


def context_of(pupils: pd.DataFrame) -> RowsContext | None:
    """The trust's context of every row of ``pupils``, or None (no context, or rows it does not cover)."""
    ctx = pupils.attrs.get(ATTR)
    if not isinstance(ctx, TrustContext):
        return None
    columns = ctx.info.get("columns", [])
    where = np.full(len(pupils), -1)
    if all(c in pupils.columns for c in columns) and ctx.values.index.is_unique:
        where = ctx.values.index.get_indexer(row_keys(pupils, columns))
    if (where < 0).any():
        warnings.warn("these pupil rows are not as they were read with the trust's context (changed, or from "
                      "elsewhere): value added and the gap index are worked out within these rows alone",
                      GaptoolsWarning, stacklevel=3)
        return None
    up_to = ctx.info.get("up_to")
    scored = sum(int(n) for y, n in ctx.info.get("first_scored", {}).items() if up_to is None or int(y) <= up_to)
    return RowsContext(ctx.values.iloc[where].set_axis(pupils.index), "trust" if scored > 1 else "school")


def up_to_year(pupils: pd.DataFrame, year: int) -> pd.DataFrame:
    """``pupils`` (already cut to years up to ``year``) with its context saying so: the gap index then
    speaks of the trust as it was (a trust whose other schools had no results yet ranks within the school)."""
    ctx = pupils.attrs.get(ATTR)
    if isinstance(ctx, TrustContext):
        pupils.attrs[ATTR] = replace(ctx, info={**ctx.info, "up_to": int(year)})
    return pupils

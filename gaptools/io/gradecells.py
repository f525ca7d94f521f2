"""Grade cells as MIS exports write them: what the loader says about double awards and signed grades.

A double award (GCSE combined science) is written as its two grades, "5-4",
"4-4", "U-U" or "5/4"; a tracker's working-at grade may carry a sign, "5+",
"4-". The column parser (:func:`gaptools.domain.columns.parse_grade`) reads
the first as the mean of the two (4.5), as the DfE counts it, and the second
as its whole grade; this module states each once per column, as a note, never
as an error per row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain import columns as C
from ..errors import shorten

_FILE = "__file"


def double_award_notes(raw: pd.DataFrame, col: str, originals: dict[str, dict[str, str]]) -> list[str]:
    """One warning per grade column that holds double awards (and one if it holds signed grades such as
    "5+"): how many, a few of them, and how they are read."""
    values = raw[col]
    if pd.api.types.is_numeric_dtype(values.dtype):
        return []
    # exports repeat a few grades many times: look at each distinct value once
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype=object)
    notes = []
    for found, words in ((C.fine_grades(distinct).to_numpy(dtype=bool), None),
                         (C.double_awards(distinct).to_numpy(dtype=bool), "double")):
        if not found.any():
            continue
        rows = (codes >= 0) & found[np.maximum(codes, 0)]
        n = int(rows.sum())
        seen = ", ".join(f"'{shorten(str(v).strip(), 12)}'" for v in distinct[found][:4])
        if words is None:
            notes.append(f"{col}: {n} working-at grade{'s' if n != 1 else ''} with a sign ({seen}) read as the "
                         "whole grade (5+ and 5- are 5)")
            continue
        files = raw.loc[rows, _FILE].unique() if _FILE in raw.columns else []
        headers = sorted({originals.get(f, {}).get(col, col) for f in files}) or [col]
        notes.append(f"{col} (read from '{shorten(headers[0], 60)}'): {n} double award{'s' if n != 1 else ''} "
                     f"({seen}) read as the mean of the two grades (5-4 is 4.5), as the DfE counts combined science")
    return notes

"""Grade cells as MIS exports write them: what the loader says about a double award.

A double award (GCSE combined science) is written as its two grades, "5-4",
"4-4", "U-U" or "5/4". The column parser (:func:`gaptools.domain.columns.parse_grade`)
reads it as the mean of the two (4.5), as the DfE counts it; this module
states that once per column, as a note, never as an error per row.
"""
from __future__ import annotations

import pandas as pd

from ..domain import columns as C
from ..errors import shorten

_FILE = "__file"


def double_award_notes(raw: pd.DataFrame, col: str, originals: dict[str, dict[str, str]]) -> list[str]:
    """One warning per grade column that holds double awards (and one if it holds fine grades such as
    "5+"): how many, a few of them, and how they are read."""
    notes = []
    fine = C.fine_grades(raw[col])
    if fine.any():
        seen = list(dict.fromkeys(raw.loc[fine.to_numpy(), col].astype(str).str.strip()))[:4]
        notes.append(f"{col}: {int(fine.sum())} working-at grade{'s' if fine.sum() != 1 else ''} with a sign "
                     f"({', '.join(repr(shorten(v, 12)) for v in seen)}) read as the whole grade (5+ and 5- are 5)")
    found = C.double_awards(raw[col])
    n = int(found.sum())
    if not n:
        return notes
    files = raw.loc[found.to_numpy(), _FILE].unique() if _FILE in raw.columns else []
    headers = sorted({originals.get(f, {}).get(col, col) for f in files}) or [col]
    seen = list(dict.fromkeys(raw.loc[found.to_numpy(), col].astype(str).str.strip()))[:4]
    example = ", ".join(f"'{shorten(v, 12)}'" for v in seen)
    return notes + [f"{col} (read from '{shorten(headers[0], 60)}'): {n} double award{'s' if n != 1 else ''} "
                    f"({example}) read as the mean of the two grades (5-4 is 4.5), as the DfE counts combined science"]

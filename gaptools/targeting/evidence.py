"""The EEF Teaching and Learning Toolkit as a table gaptools can search.

Shipped as ``data/eef_toolkit.csv`` (``source`` and ``as_of`` columns; a user
can replace it with :func:`gaptools.reference.set_reference_dir`). Figures
change: reports tell the reader to check the live toolkit.
"""
from __future__ import annotations

import pandas as pd

from ..domain.reference import read_reference

NEEDS = {
    "literacy": "literacy, reading and oral language",
    "maths": "maths",
    "attendance": "attendance",
    "behaviour": "behaviour and suspensions",
    "wellbeing": "social and emotional wellbeing",
    "teaching": "quality of teaching for the whole cohort",
}
TIERS = {"teaching": "High-quality teaching", "targeted": "Targeted academic support",
         "wider": "Wider strategies"}
COST_WORDS = {1: "very low cost", 2: "low cost", 3: "moderate cost", 4: "high cost", 5: "very high cost"}
EVIDENCE_WORDS = {1: "very limited evidence", 2: "limited evidence", 3: "moderate evidence",
                  4: "extensive evidence", 5: "very extensive evidence"}


def evidence_table() -> pd.DataFrame:
    """The toolkit strands with ``needs`` as a list and ``phase``-specific months."""
    t = read_reference("eef_toolkit.csv")
    t["needs"] = t["needs"].fillna("").map(lambda v: [n for n in v.split(";") if n])
    return t


def approaches_for(need: str, *, phase: str = "secondary", table: pd.DataFrame | None = None,
                   limit: int | None = 4) -> pd.DataFrame:
    """Strands that address ``need``, best value first.

    Ordered by months of progress per unit of cost, then strength of evidence;
    strands with no positive average impact (or unclear impact) are never offered.

    Parameters
    ----------
    need : str
        One of :data:`NEEDS`.
    phase : {'primary', 'secondary'}
    limit : int or None
        How many to return.
    """
    t = evidence_table() if table is None else table
    months = t[f"months_{phase}"]
    rows = t[t["needs"].map(lambda ns: need in ns) & months.notna() & (months > 0)].copy()
    rows["months"] = months[rows.index].astype(int)
    rows["value"] = rows["months"] / rows["cost"]
    rows = rows.sort_values(["value", "evidence", "months"], ascending=False, kind="stable")
    cols = ["strand", "months", "cost", "evidence", "tier", "note", "source", "as_of"]
    rows = rows[cols].reset_index(drop=True)
    return rows.head(limit) if limit else rows


def describe(row) -> str:
    """'+6 months, very low cost, extensive evidence' for a strand."""
    return (f"+{int(row['months'])} months, {COST_WORDS.get(int(row['cost']), '')}, "
            f"{EVIDENCE_WORDS.get(int(row['evidence']), '')}")

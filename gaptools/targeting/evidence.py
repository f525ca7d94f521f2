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
    """The toolkit strands with ``needs`` and ``focus`` as lists and ``foundation`` as a flag.

    ``needs`` are the needs a strand's evidence bears on; ``focus`` the needs it
    is specifically about (reading comprehension: literacy); ``foundation``
    marks the whole-school tier-1 strands (metacognition, feedback). A user's
    own copy without the newer columns still works.
    """
    t = read_reference("eef_toolkit.csv")
    for col in ("needs", "focus"):
        values = t[col] if col in t.columns else pd.Series("", index=t.index)
        t[col] = values.fillna("").map(lambda v: [n for n in str(v).split(";") if n])
    flag = t["foundation"] if "foundation" in t.columns else pd.Series("no", index=t.index)
    t["foundation"] = flag.fillna("no").astype(str).str.strip().str.lower().isin(["yes", "true", "1"])
    return t


def _usable(t: pd.DataFrame, phase: str) -> pd.DataFrame:
    """Strands with a positive average impact in ``phase``, with their value for money."""
    months = t[f"months_{phase}"]
    rows = t[months.notna() & (months > 0)].copy()
    rows["months"] = months[rows.index].astype(int)
    rows["value"] = rows["months"] / rows["cost"]
    return rows


#: The least strength of evidence (2 = limited) for an approach offered for a priority.
MIN_EVIDENCE = 2
COLUMNS = ["strand", "months", "cost", "evidence", "tier", "note", "source", "as_of"]


def approaches_for(need: str, *, phase: str = "secondary", table: pd.DataFrame | None = None,
                   limit: int | None = 4, matched: bool = False) -> pd.DataFrame:
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
    matched : bool, default False
        Matched to the need, as a priority lists them: the strands whose evidence
        is specifically about ``need`` first, then the others that address it;
        never the whole-school foundations (see :func:`foundations`) nor a
        strand resting on very limited evidence (below :data:`MIN_EVIDENCE`).
    """
    t = _usable(evidence_table() if table is None else table, phase)
    rows = t[t["needs"].map(lambda ns: need in ns) | (t["focus"].map(lambda ns: need in ns) if matched else False)]
    rows = rows.assign(specific=rows["focus"].map(lambda ns: need in ns) if matched else False)
    if matched:  # a priority is offered what its evidence supports: no foundation, nothing on very limited evidence
        rows = rows[~rows["foundation"] & (rows["evidence"] >= MIN_EVIDENCE)]
    rows = rows.sort_values(["specific", "value", "evidence", "months"], ascending=False, kind="stable")
    rows = rows[COLUMNS].reset_index(drop=True)
    return rows.head(limit) if limit else rows


def foundations(*, phase: str = "secondary", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The whole-school tier-1 foundations (metacognition, feedback): named once for a school,
    not at the top of every priority."""
    t = _usable(evidence_table() if table is None else table, phase)
    rows = t[t["foundation"]].sort_values(["value", "evidence", "months"], ascending=False, kind="stable")
    return rows[COLUMNS].reset_index(drop=True)


def describe(row) -> str:
    """'+6 months, very low cost, extensive evidence' for a strand."""
    return (f"+{int(row['months'])} months, {COST_WORDS.get(int(row['cost']), '')}, "
            f"{EVIDENCE_WORDS.get(int(row['evidence']), '')}")

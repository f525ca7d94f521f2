"""One school's analysis bundled, and ``results.json`` (data contract §3)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..domain.suppression import DEFAULT_THRESHOLD
from ..io.files import atomic_write_text
from .findings import findings as make_findings
from .gapindex import gap_index
from .gaps import CONTRACT_COLUMNS, gap_table
from .profile import cohort_profile
from .trends import gap_trends

SCHEMA_VERSION = 1
#: Contract §3 fields, then our extensions: ``clear`` (the gap survives
#: Benjamini-Hochberg false-discovery-rate control within the school's report)
#: and its ``q_value``. Findings call a gap a gap only when ``clear``.
GAP_FIELDS = [c for c in CONTRACT_COLUMNS if c != "school_id"] + ["clear", "q_value"]
INDEX_FIELDS = ["key_stage", "year", "value", "suppressed", "national", "reference"]
FINDING_FIELDS = ["key_stage", "year", "measure", "text", "category", "importance"]


@dataclass
class SchoolResults:
    """Everything the reports show about one school (every year and key stage)."""

    school_id: str
    school_name: str
    threshold: int
    gaps: pd.DataFrame
    gap_index: pd.DataFrame
    trends: pd.DataFrame
    findings: pd.DataFrame
    profile: pd.DataFrame


def analyse_school(pupils: pd.DataFrame, school_id: str, *, threshold: int = DEFAULT_THRESHOLD,
                   reference: pd.DataFrame | None = None) -> SchoolResults:
    """Run the whole analysis for one school.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`: the school's pupils and the
        reference population (the trust) for value added and the gap index.
    school_id : str
    threshold : int, default 6

    Returns
    -------
    SchoolResults
    """
    school_id = str(school_id)
    rows = pupils[pupils["school_id"] == school_id]
    if rows.empty:
        raise KeyError(f"school {school_id!r} is not in the data")
    name = str(rows["school_name"].iloc[0])
    gaps = gap_table(pupils, school_id=school_id, threshold=threshold, detail=True)
    index = gap_index(pupils, school_id=school_id, threshold=threshold)
    trends = gap_trends(gaps)
    found = make_findings(gaps, trends, index, threshold=threshold)
    profile = cohort_profile(pupils, school_id=school_id, threshold=threshold)
    return SchoolResults(school_id, name, threshold, gaps, index, trends, found, profile)


def _clean(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return value


def _records(frame: pd.DataFrame, fields: list[str]) -> list[dict]:
    cols = [c for c in fields if c in frame.columns]
    return [{c: _clean(v) for c, v in zip(cols, row)} for row in frame[cols].itertuples(index=False)]


def results_dict(results: SchoolResults) -> dict:
    """The data-contract §3 document for one school."""
    return {
        "schema_version": SCHEMA_VERSION,
        "school_id": results.school_id,
        "school_name": results.school_name,
        "suppression_threshold": results.threshold,
        "gaps": _records(results.gaps, GAP_FIELDS),
        "gap_index": _records(results.gap_index, INDEX_FIELDS),
        "findings": _records(results.findings, FINDING_FIELDS),
    }


def write_results(path: str | Path, results: SchoolResults) -> Path:
    """Write ``results.json`` atomically (a reader never sees half a file).

    Parameters
    ----------
    path : str or Path
        The file, or a folder to write ``results.json`` into.
    results : SchoolResults
        From :func:`analyse_school`.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    if path.is_dir() or path.suffix.lower() != ".json":
        path = path / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results_dict(results), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path


def read_results(path: str | Path) -> dict:
    """Read a ``results.json`` (a file or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    return json.loads(path.read_text(encoding="utf-8"))

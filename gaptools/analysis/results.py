"""One school's analysis bundled and written: ``results.json`` (data contract §3).

The results model itself (:data:`ResultsModel`, :func:`results_table`,
:class:`SchoolResults`) is :mod:`gaptools.analysis.model`, importable from here
as before; :func:`analyse_school` is :func:`gaptools.analyse` with its defaults.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from ..domain.suppression import DEFAULT_THRESHOLD
from ..io.files import atomic_write_text
from .activities import ACTIVITY_FIELDS
from .analyse import analyse
from .model import (  # noqa: F401  (the results model, importable from here as before)
    FINDING_FIELDS,
    GAP_FIELDS,
    INDEX_FIELDS,
    SCHEMA_VERSION,
    TRENDS,
    V1_GAP_FIELDS,
    WITHHELD_REASONS,
    ResultsError,
    ResultsModel,
    SchoolResults,
    results_table,
    validate_table,
)


def analyse_school(pupils: pd.DataFrame, school_id: str, *, threshold: int = DEFAULT_THRESHOLD,
                   profile: pd.DataFrame | None = None) -> SchoolResults:
    """Run the whole analysis for one school.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`: the school's pupils and the
        reference population (the trust) for value added and the gap index.
    school_id : str
    threshold : int, default 6
    profile : DataFrame, optional
        ``cohort_profile(pupils, school_id=school_id, threshold=threshold)`` (beside this gap table), if
        already worked out (a notebook that has shown it); computed otherwise.

    Returns
    -------
    SchoolResults
    """
    return analyse(pupils, school_id, threshold=threshold, profile=profile).to_results()


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
    """The data-contract §3 document for one school (the results model, validated)."""
    table = results.table if results.table is not None else results_table(results.gaps, results.trends)
    return {
        "schema_version": SCHEMA_VERSION,
        "school_id": results.school_id,
        "school_name": results.school_name,
        "suppression_threshold": results.threshold,
        "gaps": _records(validate_table(table), GAP_FIELDS),
        "gap_index": _records(results.gap_index, INDEX_FIELDS),
        "findings": _records(results.findings, FINDING_FIELDS),
        **({} if getattr(results, "activities", None) is None else
           {"activities": _records(results.activities, ACTIVITY_FIELDS)}),  # additive: only with a register
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
    """Read a ``results.json`` (a file or the folder holding it), its gaps checked against the model.

    Raises
    ------
    ResultsError
        The file is not a version-2 results file, or a row breaks the model.
    """
    return read_results_table(path)[0]


def read_results_table(path: str | Path) -> tuple[dict, pd.DataFrame]:
    """:func:`read_results`, with its gaps as the validated results-model table (checked once).

    Raises
    ------
    ResultsError
        The file is not a version-2 results file, or a row breaks the model.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: cannot read results: {e}") from None
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if version != SCHEMA_VERSION:
        raise ResultsError(f"{path}: results schema version {version!r}; this gaptools reads version "
                           f"{SCHEMA_VERSION}: run `gaptools run` again to rewrite it")
    return doc, results_frame(doc, source=path)


def results_frame(doc: dict, source="results.json") -> pd.DataFrame:
    """The ``gaps`` of a results document as a results-model table (validated)."""
    frame = pd.DataFrame(doc.get("gaps", []), columns=GAP_FIELDS)
    frame["subgroup"] = frame["subgroup"].astype(object).where(frame["subgroup"].notna(), None)
    for c in ("trend", "withheld_reason"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return validate_table(frame, str(source))

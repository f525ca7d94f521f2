"""One school's analysis bundled: the results model, and ``results.json`` (data contract §3).

The results model is the one table every page reads: a row per key stage,
year, measure, comparison and subgroup carrying the figures, how people read
them (label, unit, direction), whether the gap is ``clear``, the trend verdict
and why a figure is withheld. Pages render it; none re-derives clear, trend,
unit or suppression. :data:`ResultsModel` declares it and is checked where the
table is built, written and read.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from ..domain.formatting import gap_unit
from ..domain.suppression import DEFAULT_THRESHOLD
from ..errors import GaptoolsError
from ..io.files import atomic_write_text
from ..io.schema import column
from .findings import findings as make_findings
from .activities import ACTIVITY_FIELDS
from .gapindex import gap_index
from .gaps import COMPARISONS, CONTRACT_COLUMNS, gap_table
from .profile import cohort_profile
from .trends import VERDICT_COLUMNS, gap_trends, with_verdicts

SCHEMA_VERSION = 2
#: The reasons a figure is withheld (``withheld_reason``; set by the gap table).
WITHHELD_REASONS = ["too_few_disadvantaged", "too_few_others", "protects_another_group",
                    "no_comparison_group", "no_national_figure"]
TRENDS = ["closing", "widening", "no clear change"]
#: Version 1 fields (contract §3 and ``clear``/``q_value``: the gap survives
#: Benjamini-Hochberg false-discovery-rate control within the school's report),
#: then what version 2 adds so that a page needs nothing else.
V1_GAP_FIELDS = [c for c in CONTRACT_COLUMNS if c != "school_id"] + ["clear", "q_value"]
GAP_FIELDS = V1_GAP_FIELDS + ["label", "unit", "gap_unit", "higher_is_better"] + VERDICT_COLUMNS \
    + ["withheld_reason"]


def _withheld_shows_nothing(df: pd.DataFrame) -> pd.Series:
    return ~df["suppressed"] | (df["gap"].isna() & df["mean_disadvantaged"].isna()
                                & ~df["clear"].fillna(False).astype(bool) & df["trend"].isna())


def _reason_only_when_withheld(df: pd.DataFrame) -> pd.Series:
    return df["withheld_reason"].isna() | df["suppressed"]


def _clear_only_when_significant(df: pd.DataFrame) -> pd.Series:
    return ~df["clear"].fillna(False).astype(bool) | df["significant"].fillna(False).astype(bool)


#: A results-model column: required, not null and coerced unless it says otherwise.
_field = partial(column, nullable=False, coerce=True)


#: The results model: one row of the results table (``results.json`` ``gaps``, schema version 2).
#: Figures of a withheld row are null; ``withheld_reason`` says why. ``clear`` is only ever true
#: for a shown gap; ``trend`` is the verdict on the change in this gap (see
#: :func:`gaptools.analysis.trends.with_verdicts`). In memory the table also carries working
#: columns (standard errors, SDs, effect size): not strict. (A schema object rather than a
#: ``DataFrameModel``, as :mod:`gaptools.io.schema` says why.)
ResultsModel = pa.DataFrameSchema(
    {
        "key_stage": _field(str),
        "year": _field(pd.Int64Dtype()),
        "measure": _field(str),
        "label": _field(str),
        "unit": _field(str),
        "gap_unit": _field(str),
        "kind": _field(str, isin=["score", "rate"]),
        "higher_is_better": _field(bool),
        "comparison": _field(str, isin=list(COMPARISONS)),
        "subgroup": _field(object, nullable=True, coerce=False),
        "n_disadvantaged": _field(pd.Int64Dtype(), nullable=True, ge=0),
        "n_reference": _field(pd.Int64Dtype(), nullable=True, ge=0),
        "mean_disadvantaged": _field(float, nullable=True),
        "mean_reference": _field(float, nullable=True),
        "gap": _field(float, nullable=True),
        "ci_low": _field(float, nullable=True),
        "ci_high": _field(float, nullable=True),
        "significant": _field(pd.BooleanDtype(), nullable=True),
        "suppressed": _field(bool),
        "clear": _field(pd.BooleanDtype(), nullable=True),
        "q_value": _field(float, nullable=True, ge=0, le=1),
        "trend": _field(object, nullable=True, coerce=False, isin=TRENDS),
        "trend_from": _field(pd.Int64Dtype(), nullable=True),
        "trend_change": _field(float, nullable=True),
        "trend_ci_low": _field(float, nullable=True),
        "trend_ci_high": _field(float, nullable=True),
        "trend_q_value": _field(float, nullable=True),
        "withheld_reason": _field(object, nullable=True, coerce=False, isin=WITHHELD_REASONS),
    },
    checks=[pa.Check(_withheld_shows_nothing, name="withheld_shows_nothing"),
            pa.Check(_reason_only_when_withheld, name="reason_only_when_withheld"),
            pa.Check(_clear_only_when_significant, name="clear_only_when_significant")],
    name="ResultsModel", description="One row of the results table (results.json gaps, schema version 2).",
    strict=False,
)


def results_table(gaps: pd.DataFrame, trends: pd.DataFrame) -> pd.DataFrame:
    """The results model: the gap table with trend verdicts, units and reasons, validated.

    Parameters
    ----------
    gaps : DataFrame
        :func:`gaptools.gap_table` with ``detail=True`` (one school or several).
    trends : DataFrame
        :func:`gaptools.gap_trends` of the same gaps.

    Returns
    -------
    DataFrame
        Valid against :data:`ResultsModel`.
    """
    table = with_verdicts(gaps, trends)
    table["gap_unit"] = [gap_unit(u) for u in table["unit"]]
    if "withheld_reason" not in table.columns:
        table["withheld_reason"] = None  # a gap table that does not yet record reasons
    table["withheld_reason"] = table["withheld_reason"].astype(object).where(table["withheld_reason"].notna(), None)
    return validate_table(table)


class ResultsError(GaptoolsError, ValueError):
    """A results table or ``results.json`` that does not match the results model."""


def validate_table(table: pd.DataFrame, source: str = "the results table") -> pd.DataFrame:
    """Check a results table against :data:`ResultsModel` (a clear error, never a traceback)."""
    try:
        return ResultsModel.validate(table, lazy=True)
    except pa.errors.SchemaErrors as e:
        cases = "; ".join(f"{r.get('column') or 'row'}: {r.get('check')} fails for {r.get('failure_case')!r}"
                          for r in e.failure_cases.head(5).to_dict("records"))
        raise ResultsError(f"{source} is not a valid results table (schema version {SCHEMA_VERSION}): "
                           f"{cases}") from None
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
    table: pd.DataFrame | None = None
    """The results model (:data:`ResultsModel`): what every page reads."""
    activities: pd.DataFrame | None = None
    """:func:`gaptools.activity_impact` of the school's activity register, if one was given."""


def analyse_school(pupils: pd.DataFrame, school_id: str, *, threshold: int = DEFAULT_THRESHOLD,
                   reference: pd.DataFrame | None = None, profile: pd.DataFrame | None = None) -> SchoolResults:
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
    school_id = str(school_id)
    rows = pupils[pupils["school_id"] == school_id]
    if rows.empty:
        raise KeyError(f"school {school_id!r} is not in the data")
    name = str(rows["school_name"].iloc[0])
    gaps = gap_table(pupils, school_id=school_id, threshold=threshold, detail=True)
    index = gap_index(pupils, school_id=school_id, threshold=threshold)
    trends = gap_trends(gaps)
    table = results_table(gaps, trends)
    found = make_findings(table, trends, index, threshold=threshold)
    if profile is None:
        profile = cohort_profile(pupils, school_id=school_id, threshold=threshold, gaps=gaps)
    return SchoolResults(school_id, name, threshold, gaps, index, trends, found, profile, table)


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

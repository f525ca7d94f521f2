"""The results model: the one table every page reads, declared and checked (data contract §3).

A row per key stage, year, measure, comparison and subgroup carrying the
figures, how people read them (label, unit, direction), whether the gap is
``clear``, the trend verdict and why a figure is withheld. Pages render it;
none re-derives clear, trend, unit or suppression. :data:`ResultsModel`
declares it and is checked where the table is built, written and read;
:class:`SchoolResults` bundles one school's tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd
import pandera.pandas as pa

from ..domain.formatting import TREND_WORDS, WITHHELD_WORDS, gap_unit
from ..errors import GaptoolsError
from ..io.schema import column
from .gaps import COMPARISONS, CONTRACT_COLUMNS
from .trends import VERDICT_COLUMNS, with_verdicts

SCHEMA_VERSION = 2
#: The reasons a figure is withheld (``withheld_reason``; set by the gap table).
WITHHELD_REASONS = list(WITHHELD_WORDS)  # (one list: the reasons and their words are one table)
TRENDS = list(TREND_WORDS)
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

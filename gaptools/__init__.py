"""gaptools: find, explain and target the disadvantage gap in schools and trusts.

The handful of names a notebook or script needs. They are imported on first
use (PEP 562), so ``import gaptools`` is quick and a notebook only pays for
the statistics stack when it computes statistics.
"""
from __future__ import annotations

import importlib

from .errors import DataValidationError, GaptoolsError, GaptoolsWarning, Problem, UnknownSchoolError

__version__ = "0.1.0"

_EXPORTS = {
    "load_pupils": "io.loading", "load_school": "io.school", "load_mapping": "io.mapping", "Measure": "domain.measures",
    "measures_for": "domain.measures", "prior_band": "domain.measures", "cohort_profile": "analysis.profile",
    "gap_table": "analysis.gaps", "gap_index": "analysis.gapindex", "gap_trends": "analysis.trends",
    "findings": "analysis.findings", "value_added": "analysis.progress",
    "analyse": "analysis.analyse", "SchoolAnalysis": "analysis.analyse", "split_columns": "analysis.analyse",
    "AnalysisChoiceError": "analysis.analyse", "SchoolResults": "analysis.model", "analyse_school": "analysis.results",
    "write_results": "analysis.results",
    "read_results": "analysis.results", "priorities": "targeting.priorities",
    "approaches_table": "targeting.priorities", "target_pupils": "targeting.pupils", "Weights": "targeting.pupils",
    "write_targeting_outputs": "targeting.pupils", "strategy_statement": "targeting.strategy",
    "SchoolReport": "reporting.school", "TrustReport": "reporting.trust", "notebook_pdf": "reporting.pdf",
    "glossary_block": "reporting.summary",
    "load_assessments": "io.assessments", "in_year_gaps": "analysis.in_year",
    "targeted_progress": "analysis.targeted", "InYearReport": "reporting.in_year",
    "load_activities": "io.activities", "activity_impact": "analysis.activities",
}
#: Modules reachable as attributes (``gaptools.published``), as before the layered layout.
_MODULES = {"published": "reporting.published", "charts": "reporting.public_charts", "tables": "reporting.tables"}
__all__ = ["DataValidationError", "GaptoolsError", "GaptoolsWarning", "Problem", "UnknownSchoolError", *_EXPORTS,
           *_MODULES]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gaptools' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)

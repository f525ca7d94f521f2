"""gaptools: find, explain and target the disadvantage gap in schools and trusts.

The handful of names a notebook or script needs. They are imported on first
use (PEP 562), so ``import gaptools`` is quick and a notebook only pays for
the statistics stack when it computes statistics.
"""
from __future__ import annotations

import importlib

from .errors import DataValidationError, GaptoolsWarning, Problem

__version__ = "0.1.0"

_EXPORTS = {
    "load_pupils": "loading", "load_mapping": "mapping", "Measure": "measures", "measures_for": "measures",
    "prior_band": "measures", "cohort_profile": "profile", "gap_table": "gaps", "gap_index": "gapindex",
    "gap_trends": "trends", "findings": "findings", "value_added": "progress",
    "SchoolResults": "results", "analyse_school": "results", "write_results": "results",
    "read_results": "results", "priorities": "targeting", "approaches_table": "targeting",
    "target_pupils": "targeting", "Weights": "targeting", "write_targeting_outputs": "targeting",
    "strategy_statement": "strategy", "SchoolReport": "report", "TrustReport": "report",
}
__all__ = ["DataValidationError", "GaptoolsWarning", "Problem", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gaptools' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)

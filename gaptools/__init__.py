"""gaptools: find, explain and target the disadvantage gap in schools and trusts.

The handful of names a notebook or script needs; everything else lives in
modules named for what they do.
"""
from .errors import DataValidationError, GaptoolsWarning, Problem
from .findings import findings
from .gapindex import gap_index
from .gaps import gap_table, prior_band
from .loading import load_pupils
from .mapping import load_mapping
from .measures import Measure, measures_for
from .profile import cohort_profile
from .progress import value_added
from .results import SchoolResults, analyse_school, read_results, write_results
from .strategy import strategy_statement
from .targeting import Weights, approaches_table, priorities, target_pupils, write_targeting_outputs
from .trends import gap_trends

__all__ = [
    "DataValidationError", "GaptoolsWarning", "Problem",
    "load_pupils", "load_mapping", "Measure", "measures_for",
    "cohort_profile", "gap_table", "gap_index", "gap_trends", "findings", "prior_band", "value_added",
    "SchoolResults", "analyse_school", "write_results", "read_results",
    "priorities", "approaches_table", "target_pupils", "Weights", "strategy_statement",
    "write_targeting_outputs",
]
__version__ = "0.1.0"

"""Types of the names :mod:`gaptools` loads on first use (PEP 562), for type checkers and editors.

Keep in step with ``_EXPORTS`` and ``_MODULES`` in ``__init__.py`` (tests/unit/test_architecture.py checks).
"""
from .analysis.activities import activity_impact as activity_impact
from .analysis.analyse import AnalysisChoiceError as AnalysisChoiceError
from .analysis.analyse import SchoolAnalysis as SchoolAnalysis
from .analysis.analyse import analyse as analyse
from .analysis.analyse import split_columns as split_columns
from .analysis.findings import findings as findings
from .analysis.gapindex import gap_index as gap_index
from .analysis.gaps import gap_table as gap_table
from .analysis.in_year import in_year_gaps as in_year_gaps
from .analysis.model import SchoolResults as SchoolResults
from .analysis.profile import cohort_profile as cohort_profile
from .analysis.progress import value_added as value_added
from .analysis.results import analyse_school as analyse_school
from .analysis.results import read_results as read_results
from .analysis.results import write_results as write_results
from .analysis.targeted import targeted_progress as targeted_progress
from .analysis.trends import gap_trends as gap_trends
from .domain.measures import Measure as Measure
from .domain.measures import measures_for as measures_for
from .domain.measures import prior_band as prior_band
from .errors import DataValidationError as DataValidationError
from .errors import GaptoolsError as GaptoolsError
from .errors import GaptoolsWarning as GaptoolsWarning
from .errors import Problem as Problem
from .errors import UnknownSchoolError as UnknownSchoolError
from .io.activities import load_activities as load_activities
from .io.assessments import load_assessments as load_assessments
from .io.loading import load_pupils as load_pupils
from .io.mapping import load_mapping as load_mapping
from .io.school import load_school as load_school
from .reporting import public_charts as charts
from .reporting import published as published
from .reporting import tables as tables
from .reporting.in_year import InYearReport as InYearReport
from .reporting.pdf import notebook_pdf as notebook_pdf
from .reporting.school import SchoolReport as SchoolReport
from .reporting.summary import glossary_block as glossary_block
from .reporting.trust import TrustReport as TrustReport
from .targeting.priorities import approaches_table as approaches_table
from .targeting.priorities import priorities as priorities
from .targeting.pupils import Weights as Weights
from .targeting.pupils import target_pupils as target_pupils
from .targeting.pupils import write_targeting_outputs as write_targeting_outputs
from .targeting.strategy import strategy_statement as strategy_statement

__version__: str
__all__ = [
    "AnalysisChoiceError",
    "DataValidationError",
    "GaptoolsError",
    "GaptoolsWarning",
    "InYearReport",
    "Measure",
    "Problem",
    "SchoolAnalysis",
    "SchoolReport",
    "SchoolResults",
    "TrustReport",
    "UnknownSchoolError",
    "Weights",
    "activity_impact",
    "analyse",
    "analyse_school",
    "approaches_table",
    "charts",
    "cohort_profile",
    "findings",
    "gap_index",
    "gap_table",
    "gap_trends",
    "glossary_block",
    "in_year_gaps",
    "load_activities",
    "load_assessments",
    "load_mapping",
    "load_pupils",
    "load_school",
    "measures_for",
    "notebook_pdf",
    "prior_band",
    "priorities",
    "published",
    "read_results",
    "split_columns",
    "strategy_statement",
    "tables",
    "target_pupils",
    "targeted_progress",
    "value_added",
    "write_results",
    "write_targeting_outputs",
]

"""gaptools: find, explain and target the disadvantage gap in schools and trusts."""
from .errors import DataValidationError, GaptoolsWarning, Problem
from .loading import load_pupils
from .mapping import load_mapping
from .measures import Measure, measures_for

__all__ = [
    "DataValidationError", "GaptoolsWarning", "Problem",
    "load_pupils", "load_mapping", "Measure", "measures_for",
]
__version__ = "0.1.0"

"""``gaptools run``: the batch runner (kernels, school jobs, the index page)."""
from .runner import run, run_cli
from .school import SchoolJob, SchoolOutcome, run_school, safe_folder_names

__all__ = ["SchoolJob", "SchoolOutcome", "run", "run_cli", "run_school", "safe_folder_names"]
